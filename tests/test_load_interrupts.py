"""Ctrl-C and ``kill -9`` during a real load (issue 16).

Ctrl-C, wherever it lands, gives one sentence and exit code 130, never a traceback (before: a
traceback 27 times in 56), and leaves the previous database byte-identical with nothing beside it.
``kill -9`` leaves the previous database byte-identical too; what the killed load left beside it
(named after the database) is removed by the next load, which succeeds and keeps the load history.
The signals are sent by the loading process to itself at named steps of the load (exact points),
and once from outside, at a time the test does not choose.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from load_faults_support import ROOT, digest, listing, load_runs, previous_database, run_cli, step_driver

from etl import load_extract

STEPS = ["loading patients", "loading followup", "deriving time_to_event", "writing the load report", "replacing"]


@pytest.fixture(scope="module")
def registry(demo_extract: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The 3,000-patient demo extract and its database (load L0001), loaded once for the module."""
    db = tmp_path_factory.mktemp("registry") / "registry.duckdb"
    load_extract(demo_extract, db)
    return demo_extract, db


@pytest.mark.parametrize("step", STEPS)
def test_ctrl_c_at_a_step_gives_one_sentence_and_exit_code_130(tmp_path: Path, registry, step: str) -> None:
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    run = step_driver(step, "SIGINT", "load", str(extract), "--db", str(db), "--quiet")
    assert run.returncode == 130
    assert run.stderr == f"ayaall load: interrupted; the load was stopped, {db} left as it was."
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_ctrl_c_from_outside_during_the_load(tmp_path: Path, registry) -> None:
    """SIGINT as a terminal sends it, once the load has started writing its temporary database."""
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ayaall", "load", str(extract), "--db", str(db), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tmp = db.parent / f".registry.duckdb.tmp-{proc.pid}"
    while not tmp.exists() and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in err
    if proc.returncode == 0:  # the load finished before the signal: it says so, and it is whole
        assert out.startswith(f"Loaded into {db}")
        assert [r[0][:5] for r in load_runs(db)] == ["L0001", "L0002"]
    else:
        assert proc.returncode == 130
        assert err.strip() == f"ayaall load: interrupted; the load was stopped, {db} left as it was."
        assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_keeps_the_old_database_and_the_next_load_clears_the_debris(tmp_path: Path, registry, step: str) -> None:
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    killed = step_driver(step, "SIGKILL", "load", str(extract), "--db", str(db), "--quiet")
    assert killed.returncode == -signal.SIGKILL
    assert digest(db) == before
    debris = [name for name in listing(db.parent) if name != "registry.duckdb"]
    assert debris, "a killed load leaves its temporary database (and lock file) behind"
    assert all(name.startswith(".registry.duckdb.") for name in debris)
    again = run_cli("load", str(extract), "--db", str(db), "--quiet")
    assert again.returncode == 0, again.stderr
    assert listing(db.parent) == ["registry.duckdb"]
    assert [r[0][:5] for r in load_runs(db)] == ["L0001", "L0002"]
    assert all(status == "succeeded" for _, status in load_runs(db))
