"""The fixed start-up of a Dagster process of Concord (docs/benchmarks.md, "A run's start-up").

    python -m benchmarks.startup --landing DIR [--repeat 3] [--project DIR] [--scratch DIR]

Copies the landing zone into a scratch folder and runs `python -m orchestration.run` there once
(the state of a processed landing zone: warehouse, served copy, a DAGSTER_HOME with the
project's dagster.yaml). Then, REPEAT times each, in a fresh interpreter:
* definitions: `import orchestration.definitions`, what the daemon's code server and each run it
  launches load (the module named in pyproject.toml's [tool.dagster]);
* first step: `python -m orchestration.run` from the process's start to the start of the first
  step of its ingest run. Nothing is new in the landing zone; the last build's results are
  removed first, so the run does not stop at "nothing new" (orchestration/up_to_date.py). The
  process ends at its first step (the next run's recovery marks that run failed, as it would a
  killed one), so no dbt build is timed.
Prints each repetition's wall and CPU seconds (user+sys of the process) and their medians, with
the load average. --project runs another checkout's code (e.g. `git archive` of an older
commit, with its target/manifest.json) against the same state.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import orchestrated_env

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Runs orchestration.run and ends the process when Dagster starts the first step, writing the
# seconds since the parent launched the process (argv[2]) and its CPU seconds to argv[1]. The
# hook is installed when Dagster's events module is imported: the harness imports nothing
# before the run does.
FIRST_STEP = """
import importlib.abc, importlib.util, os, runpy, sys, time
out, START = sys.argv[1], float(sys.argv[2])  # the time the parent launched this process
class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "dagster._core.events":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module
        def exec_module(module):
            load(module)
            def first_step(step_context):
                cpu = os.times()
                with open(out, "w") as handle:
                    handle.write(f"{time.time() - START} {cpu.user + cpu.system}")
                os._exit(0)
            module.DagsterEvent.step_start_event = staticmethod(first_step)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Hook())
sys.argv = ["orchestration.run"]
runpy.run_module("orchestration.run", run_name="__main__", alter_sys=True)
"""


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user+sys) seconds of one child process."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr}")
    return wall, sum(getattr(after, f) - getattr(used, f) for f in ("ru_utime", "ru_stime"))


def report(what: str, runs: list[tuple[float, float]]) -> None:
    print(
        f"{what}: median {statistics.median(r[0] for r in runs):.2f} s wall, "
        f"{statistics.median(r[1] for r in runs):.2f} s CPU over {len(runs)} runs ("
        + ", ".join(f"{wall:.2f}/{cpu:.2f}" for wall, cpu in runs)
        + f"); load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    parser.add_argument("--landing", required=True, help="a generated landing zone")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--project", default=str(PROJECT_ROOT), help="the checkout to time")
    parser.add_argument("--scratch", default=None, help="folder for the scratch state")
    args = parser.parse_args(argv)
    project = Path(args.project).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-startup-", dir=args.scratch))
    env = orchestrated_env(project, scratch)
    shutil.copytree(args.landing, scratch / "landing")
    env.pop("CONCORD_LAKE_DIR", None)
    try:
        print(f"load average {os.getloadavg()[0]:.1f}; processing the landing once", flush=True)
        run = subprocess.run(
            [sys.executable, "-m", "orchestration.run"],
            env=env,
            cwd=project,
            capture_output=True,
            text=True,
        )
        if run.returncode not in (0, 1):  # 1: files needing a person (injected defects)
            raise SystemExit(f"orchestration.run failed:\n{run.stdout[-3000:]}{run.stderr}")
        definitions = [
            timed([sys.executable, "-c", "import orchestration.definitions"], env, project)
            for _ in range(args.repeat)
        ]
        report("definitions", definitions)
        first_steps = []
        out = scratch / "first_step.txt"
        for _ in range(args.repeat):
            (scratch / "warehouse.run_results.json").unlink(missing_ok=True)
            out.unlink(missing_ok=True)
            timed([sys.executable, "-c", FIRST_STEP, str(out), repr(time.time())], env, project)
            wall, cpu = (float(value) for value in out.read_text().split())
            first_steps.append((wall, cpu))
        report("first step of orchestration.run", first_steps)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
