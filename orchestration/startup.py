"""A Dagster process's start-up without Python's cyclic garbage collector running through it.

Loading the code location imports some 3,000 modules (Dagster, dbt-core through dagster-dbt,
SQLAlchemy) and builds about 900 asset and check specs from the dbt manifest: some 600,000
objects, nearly all of them kept for the life of the process. While they are created, the
collector's full collections walk every object alive again and again, and found almost no
garbage (about 5,000 objects): a third of the CPU time of a run's start-up (docs/benchmarks.md,
"A run's start-up"). So the start-up runs with the collector paused; at its end every object
alive is moved out of later collections (`gc.freeze`, Python's documented tool for objects that
live as long as the process) and the collector runs again, for the run's own objects only. The
little garbage of the start-up is kept, not collected: one full collection to find it would cost
more CPU than the memory is worth.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection within the block; at its end, the objects alive are frozen
    out of later collections and collection resumes. Inside another such block (or with the
    collector already off) it does nothing: the outermost block decides."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
