"""Shared pieces of the load-fault tests (test_load_faults, test_load_guard, test_load_target,
test_load_interrupts): a 300-patient extract, the previous database to protect, and the command line
run in a child process with its exit code, its one sentence and its peak memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from builders import Patient, write_extract

__all__ = [
    "ROOT",
    "CliRun",
    "copy_extract",
    "digest",
    "listing",
    "load_runs",
    "manifest",
    "previous_database",
    "registry_of",
    "run_cli",
    "step_driver",
    "write_registry",
]

ROOT = Path(__file__).resolve().parent.parent

_MAIN = """
import sys
from ayaall.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
# The peak resident memory of this process since it started (its own, not the parent's it was forked
# from, which getrusage's ru_maxrss would report if that was larger).
peak = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
print("maxrss-kb", peak[0] if peak else "nan", file=sys.stderr)
sys.exit(code)
"""

# ``ayaall load`` with a signal sent to itself when the load reaches a step (SIGINT: Ctrl-C; SIGKILL:
# kill -9). The signal comes from inside, at a named point of a real load, so the test is exact.
_STEP_DRIVER = """
import os, signal, sys
import etl.command
from ayaall.cli import main
at, how = sys.argv[1], getattr(signal, sys.argv[2])
real = etl.command.load_extract
def load_extract(*args, progress=None, **kwargs):
    def step(name):
        progress(name)
        if name.startswith(at):
            os.kill(os.getpid(), how)
    return real(*args, progress=step, **kwargs)
etl.command.load_extract = load_extract
sys.exit(main(sys.argv[3:]))
"""


def registry_of(n: int) -> list[Patient]:
    """``n`` patients, each with a frontline line and a response."""
    return [
        Patient(f"P{i:03d}").line(1, "PED_INSPIRED", "2020-01-05").response(1, "2020-02-01", "CR", "NEG")
        for i in range(1, n + 1)
    ]


def copy_extract(source: Path, folder: Path) -> Path:
    shutil.copytree(source, folder)
    return folder


def previous_database(source: Path, folder: Path) -> Path:
    """A copy of a loaded database, alone in ``folder``: the database a failed load must not touch."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "registry.duckdb"
    shutil.copyfile(source, db)
    return db


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    """Every entry of ``folder``, hidden ones too (debris is hidden: ``.NAME.tmp-PID...``)."""
    return sorted(p.name for p in folder.iterdir())


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stderr: str  # without the peak-memory line
    maxrss_mb: float


def run_cli(*args: str, timeout: float = 300, driver: str | None = None) -> CliRun:
    """``ayaall ARGS`` in a child process (the worktree on its path); a hang fails by ``timeout``."""
    code = driver or _MAIN
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    lines = proc.stderr.splitlines()
    rss = [ln for ln in lines if ln.startswith("maxrss-kb ")]
    stderr = "\n".join(ln for ln in lines if not ln.startswith("maxrss-kb "))
    return CliRun(proc.returncode, stderr, float(rss[0].split()[1]) / 1024 if rss else float("nan"))


def step_driver(step: str, signal_name: str, *args: str, timeout: float = 300) -> CliRun:
    """``ayaall load ARGS`` that sends itself ``signal_name`` when the load reaches ``step``."""
    return run_cli(step, signal_name, *args, timeout=timeout, driver=_STEP_DRIVER)


def load_runs(db: Path) -> list[tuple[str, str]]:
    """(load_id, status) of every load a database records."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT load_id, status FROM load_runs ORDER BY load_id").fetchall()
    finally:
        con.close()


def manifest(folder: Path) -> dict[str, object]:
    return json.loads((folder / "manifest.json").read_text())


def write_registry(folder: Path, n: int) -> Path:
    return write_extract(folder, registry_of(n))
