"""Ingestion: the extract contract, file validation and loading into the raw schema."""
