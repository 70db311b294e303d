"""Write-audit-publish: the served warehouse readers open.

Ingestion and dbt write a private build warehouse (`CONCORD_WAREHOUSE`). After a build whose
blocking checks passed, the public relations are copied into a new immutable DuckDB file (a
version) that is switched in atomically behind one stable path (`CONCORD_SERVED_WAREHOUSE`),
and optionally loaded into PostgreSQL for BI tools. `python -m publishing` is the command line.
"""
