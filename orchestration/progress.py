"""Progress a person can follow: one line per step as it happens.

Every step logs its progress through `note`, which writes to the Dagster run log (the UI shows
it) and, while `python -m orchestration.run` watches the run in this process, to the terminal.
Everything else a run prints (dbt's own log lines, Dagster's warnings) goes to the run's log
file under logs/ instead (`captured_output`).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import dagster as dg

_terminal: TextIO | None = None


def note(context: dg.OpExecutionContext | dg.AssetExecutionContext, message: str) -> None:
    """A progress line: in the run's log, and on the watching terminal if there is one."""
    context.log.info(message)
    if _terminal is not None:
        print(message, file=_terminal, flush=True)


def run_log_path(log_dir: Path) -> Path:
    """A new run log file: logs/run-<UTC time>.log."""
    return log_dir / f"run-{datetime.now(UTC):%Y%m%d-%H%M%S}.log"


@contextlib.contextmanager
def captured_output(path: Path) -> Iterator[None]:
    """Within the block, progress lines go to the terminal (this process's stdout) and every
    other line a step writes to stdout or stderr goes to the log file `path`."""
    global _terminal
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = _terminal
    _terminal = sys.stdout
    try:
        with (
            path.open("a", encoding="utf-8") as log,
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
        ):
            yield
    finally:
        _terminal = previous


class Ticker:
    """Says how far a long step has come: at most one line per `every` seconds, plus the
    first and the last."""

    def __init__(self, context: dg.AssetExecutionContext, label: str, every: float = 5.0):
        self.context, self.label, self.every = context, label, every
        self.started = self.last = time.monotonic()
        self.said: tuple[int, str] | None = None

    def tick(self, done: int, total: int, detail: str = "", *, final: bool = False) -> None:
        now = time.monotonic()
        if (final and self.said != (done, detail)) or now - self.last >= self.every:
            self.last, self.said = now, (done, detail)
            percent = f" ({100 * done // total}%)" if total else ""
            note(
                self.context,
                f"{self.label}: {done} of {total}{percent}"
                + (f", {detail}" if detail else "")
                + f", {now - self.started:.0f} s",
            )
