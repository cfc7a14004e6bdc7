"""Faults of the database a load writes (issue 16, ``etl.target``): each ends in one sentence, with
the previous database byte-identical and nothing left beside it.

A folder that does not exist or cannot be written, a disk that fills up during the load (a small
tmpfs when the tests run as root, and in any case a file-size limit on the loading process), a
database another program holds open, two loads of one database at once, a ``--db`` that is a
symbolic link (the database it points to is replaced, the link stays), and the debris of a killed
load, which the next load removes.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from load_faults_support import ROOT, digest, listing, load_runs, previous_database, run_cli, write_registry

from ayaall.errors import UserError
from etl import load_extract
from etl.target import open_target


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 300-patient extract and its database (load L0001), loaded once for the module."""
    base = tmp_path_factory.mktemp("registry")
    extract = write_registry(base / "extract", 300)
    load_extract(extract, base / "registry.duckdb")
    return extract, base / "registry.duckdb"


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


@contextlib.contextmanager
def _mounted(*args: str, at: Path) -> Iterator[Path]:
    at.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount(*args, str(at)):
        pytest.skip("needs root and mount")
    try:
        yield at
    finally:
        subprocess.run(["umount", "-l", str(at)], check=False)


def test_a_db_in_a_folder_that_does_not_exist(tmp_path: Path, registry) -> None:
    with pytest.raises(UserError) as info:
        load_extract(registry[0], tmp_path / "no" / "such" / "registry.duckdb")
    assert str(info.value) == (
        f"the folder {tmp_path / 'no' / 'such'} of --db {tmp_path / 'no' / 'such' / 'registry.duckdb'} does not "
        "exist; create it, or choose a --db in an existing folder."
    )
    assert listing(tmp_path) == []


def test_a_db_that_is_a_folder(tmp_path: Path, registry) -> None:
    (tmp_path / "registry.duckdb").mkdir()
    with pytest.raises(UserError, match=r"registry\.duckdb is a folder; name a file for the database"):
        load_extract(registry[0], tmp_path / "registry.duckdb")
    assert listing(tmp_path) == ["registry.duckdb"]


def test_a_read_only_target_folder(tmp_path: Path, registry) -> None:
    db = previous_database(registry[1], tmp_path / "db")
    before = digest(db)
    if os.geteuid() == 0:  # root writes anywhere permissions say no: make the folder a read-only mount
        with _mounted("--bind", str(db.parent), at=tmp_path / "ro") as ro:
            if not _mount("-o", "remount,bind,ro", str(ro)):
                pytest.skip("cannot remount read-only")
            with pytest.raises(UserError) as info:
                load_extract(registry[0], ro / "registry.duckdb")
            assert listing(ro) == ["registry.duckdb"]
        reason = "Read-only file system"
    else:
        db.parent.chmod(0o555)
        try:
            with pytest.raises(UserError) as info:
                load_extract(registry[0], db)
        finally:
            db.parent.chmod(0o755)
        reason = "Permission denied"
    assert f"({reason}), where the load builds the new database beside --db" in str(info.value)
    assert "choose a --db in a folder you can write to" in str(info.value)
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_a_disk_that_fills_up_during_the_load(tmp_path: Path, registry) -> None:
    """A tmpfs with room for the previous database and 2 MB more: the new one does not fit."""
    size = registry[1].stat().st_size + (2 << 20)
    with _mounted("-t", "tmpfs", "-o", f"size={size}", "tmpfs", at=tmp_path / "small") as disk:
        db = previous_database(registry[1], disk)
        before = digest(db)
        with pytest.raises(UserError) as info:
            load_extract(registry[0], db)
        assert "filled up during the load" in str(info.value)
        assert "free some space or choose a --db on a disk with room" in str(info.value)
        assert f"({db} left as it was)" in str(info.value)
        assert digest(db) == before
        assert listing(disk) == ["registry.duckdb"]


def test_a_file_size_limit_reached_during_the_load(tmp_path: Path, registry) -> None:
    """The same through RLIMIT_FSIZE (no root needed): writes past 2 MB fail in the child process."""
    db = previous_database(registry[1], tmp_path / "db")
    before = digest(db)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    proc = subprocess.run(
        [sys.executable, "-m", "ayaall", "load", str(registry[0]), "--db", str(db), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        preexec_fn=limit,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "the new database outgrew the largest file this process may write" in proc.stderr
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_a_database_held_open_by_another_program(tmp_path: Path, registry) -> None:
    db = previous_database(registry[1], tmp_path / "db")
    before = digest(db)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(120)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(UserError) as info:
            load_extract(registry[0], db)
    finally:
        holder.kill()
        holder.wait()
    text = str(info.value)
    assert text.startswith(f"{db} is in use by another program (")
    assert f", process {holder.pid}), which holds it open for writing; close it there, then load again" in text
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_a_second_load_of_the_same_database_stops_with_a_sentence(tmp_path: Path, registry) -> None:
    db = previous_database(registry[1], tmp_path / "db")
    before = digest(db)
    with open_target(db):  # this process is loading it
        run = run_cli("load", str(registry[0]), "--db", str(db), "--quiet")
        assert run.returncode == 2
        assert run.stderr == (
            f"ayaall load: {db} is being loaded by another 'ayaall load' (process {os.getpid()}); "
            "wait for it to finish, then load again."
        )
        assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]  # the lock file goes with the load that held it
    assert run_cli("load", str(registry[0]), "--db", str(db), "--quiet").returncode == 0
    assert [r[0][:5] for r in load_runs(db)] == ["L0001", "L0002"]


def test_two_loads_started_together_lose_no_load_and_share_no_number(tmp_path: Path, registry) -> None:
    """Before: both reported success with the same load number and one load_runs row was lost."""
    db = previous_database(registry[1], tmp_path / "db")
    cmd = [sys.executable, "-m", "ayaall", "load", str(registry[0]), "--db", str(db), "--quiet"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    outcomes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    for code, err in outcomes:
        assert code in (0, 2), err
        if code == 2:
            assert "is being loaded by another 'ayaall load'" in err
    runs = load_runs(db)
    assert len(runs) == 1 + sum(code == 0 for code, _ in outcomes)
    assert len({r[0][:5] for r in runs}) == len(runs)
    assert listing(db.parent) == ["registry.duckdb"]


def test_a_symlinked_db_is_loaded_into_its_target(tmp_path: Path, registry) -> None:
    target = previous_database(registry[1], tmp_path / "data")
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "current.duckdb"
    link.symlink_to(target)
    result = load_extract(registry[0], link)
    assert link.is_symlink()
    assert link.resolve() == target
    assert [r[0][:5] for r in load_runs(target)] == ["L0001", "L0002"]
    assert result.load_id.startswith("L0002")
    assert listing(tmp_path / "links") == ["current.duckdb"]
    assert listing(target.parent) == ["registry.duckdb"]


def test_a_symlinked_db_whose_target_does_not_exist_yet(tmp_path: Path, registry) -> None:
    (tmp_path / "data").mkdir()
    link = tmp_path / "current.duckdb"
    link.symlink_to(tmp_path / "data" / "registry.duckdb")
    load_extract(registry[0], link)
    assert link.is_symlink()
    assert [r[0][:5] for r in load_runs(tmp_path / "data" / "registry.duckdb")] == ["L0001"]


def test_the_next_load_removes_what_a_killed_load_left(tmp_path: Path, registry) -> None:
    """Leftovers are named after the target (``.NAME.tmp-PID``, its ``.wal``, its ``.spill`` folder,
    the lock file); another database's in the same folder are not touched."""
    db = previous_database(registry[1], tmp_path / "db")
    folder = db.parent
    (folder / ".registry.duckdb.tmp-999999").write_bytes(b"\0" * 100_000)
    (folder / ".registry.duckdb.tmp-999999.wal").write_bytes(b"wal")
    (folder / ".registry.duckdb.tmp-999999.spill").mkdir()
    (folder / ".registry.duckdb.tmp-999999.spill" / "duckdb_temp_block-1.block").write_bytes(b"x")
    (folder / ".registry.duckdb.lock").write_text("999999\n")
    (folder / ".other.duckdb.tmp-999999").write_bytes(b"not ours")
    load_extract(registry[0], db)
    assert listing(folder) == [".other.duckdb.tmp-999999", "registry.duckdb"]
    shutil.rmtree(folder)
