"""The database file a load writes: where it is, who else uses it, and how the new one takes its place.

A load builds the new database in a temporary file beside the target and moves it over the target
(``os.replace``, atomic within a folder) only when every step has succeeded. Around that:

- **the target** is the file that ``--db`` names, or the file a symbolic link ``--db`` points to
  (the link stays a link, and the database lands where it points);
- **its folder** must exist and be writable, which is checked before any work is done;
- **one load at a time**: a lock file beside the target (``.NAME.lock``, holding the loading
  process's id) is locked with ``flock`` for the whole load, and removed at its end; a second load
  of the same target stops with a sentence naming the process that holds it;
- **a database in use**: one that another program holds open for writing (DuckDB's own file lock)
  is reported as in use, with the program and process id DuckDB gives, and left alone;
- **debris**: a load that is killed (``kill -9``, a power cut) leaves its temporary database, its
  write-ahead log and its spill folder beside the target, all named ``.NAME.tmp-PID...``. The next
  load of that target removes them once it holds the lock (no other load of it can then be running).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ayaall.errors import UserError
from etl.keys import previous_record_keys

__all__ = ["LoadTarget", "disk_error", "is_write_failure", "open_target", "remove_path"]

_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
_DISK_MESSAGES = ("No space left on device", "Disk quota exceeded", "File too large", "Read-only file system")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


@dataclass(frozen=True)
class LoadTarget:
    """Where a load writes: the target, the temporary file it builds, the history it keeps.

    ``given`` is the path as the caller named it; ``path`` the file that is replaced (``given`` with
    symbolic links resolved). ``previous_runs`` are the ``load_runs`` rows of the database replaced,
    ``previous_keys`` its patients' record keys (``etl.keys``; None when it has none), and
    ``previous_exists`` whether there is one.
    """

    given: Path
    path: Path
    tmp: Path
    previous_runs: tuple[tuple[object, ...], ...]
    previous_keys: pd.DataFrame | None
    previous_exists: bool

    @property
    def untouched(self) -> str:
        """What a load that stops leaves: the previous database as it was, or nothing at all."""
        return f"{self.given} left as it was" if self.previous_exists else "nothing written"

    @property
    def spill(self) -> Path:
        """The folder DuckDB spills to during the load (its ``temp_directory``)."""
        return Path(f"{self.tmp}.spill")

    @property
    def leftovers(self) -> tuple[Path, Path, Path]:
        """The temporary database and what DuckDB writes beside it (write-ahead log, spill folder)."""
        return self.tmp, Path(f"{self.tmp}.wal"), self.spill

    def replace(self) -> None:
        """Move the finished temporary database over the target, durably."""
        self.tmp.replace(self.path)
        with contextlib.suppress(OSError):  # make the rename itself survive a power cut
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@contextlib.contextmanager
def open_target(db_path: Path) -> Iterator[LoadTarget]:
    """Check and lock the target of a load; yield it; unlock it (and remove this load's leftovers).

    Raises ``UserError`` when the folder is missing or not writable, another load of the same
    target is running, or the file there is in use, a folder, or not a database ``ayaall load`` wrote.
    """
    given = Path(db_path)
    path = Path(os.path.realpath(given))
    folder = path.parent
    shown = given if given == path else f"{given} (a link to {path})"
    if not folder.is_dir():
        raise UserError(
            f"the folder {folder} of --db {shown} does not exist; create it, or choose a --db in an existing folder."
        )
    if path.is_dir():
        raise UserError(f"--db {shown} is a folder; name a file for the database, e.g. {path / 'registry.duckdb'}.")
    lock = _lock(folder, path, shown)
    try:
        _remove_debris(folder, path.name)
        tmp = folder / f".{path.name}.tmp-{os.getpid()}"
        _probe_writable(folder, tmp, shown)
        runs, keys = _previous(path, shown)
        target = LoadTarget(given, path, tmp, runs, keys, path.exists())
        try:
            yield target
        finally:
            for leftover in target.leftovers:
                remove_path(leftover)
    finally:
        _unlock(lock, _lock_path(folder, path))


def is_write_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a write that failed for want of room, a file-size limit or a read-only disk
    (an ``OSError`` of Python, or DuckDB's error quoting the system's message)."""
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        return True
    return isinstance(exc, (OSError, duckdb.Error)) and any(m in str(exc) for m in _DISK_MESSAGES)


def disk_error(exc: BaseException, target: LoadTarget) -> UserError | None:
    """The sentence for a write that failed for want of room (or a file-size limit, or a disk that
    became read-only) during a load, or None when ``exc`` is something else."""
    if not is_write_failure(exc):
        return None
    code = exc.errno if isinstance(exc, OSError) else None
    text = str(exc)
    folder = target.path.parent
    if code == errno.EROFS or "Read-only file system" in text:
        why = f"the disk holding {folder} became read-only during the load"
    elif code == errno.EFBIG or "File too large" in text:
        why = f"the new database outgrew the largest file this process may write in {folder}"
    else:
        free = shutil.disk_usage(folder).free if folder.exists() else 0
        why = f"the disk holding {folder} filled up during the load ({free / 1e6:,.0f} MB free after it was undone)"
    return UserError(
        f"{why}; free some space or choose a --db on a disk with room for about twice the database, "
        f"then load again ({target.untouched})."
    )


def remove_path(path: Path) -> None:
    """Remove a file or a folder with its contents; nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _lock_path(folder: Path, path: Path) -> Path:
    return folder / f".{path.name}.lock"


def _lock(folder: Path, path: Path, shown: object) -> int:
    """Take the target's lock file (exclusive, not waiting); return its descriptor."""
    lock_path = _lock_path(folder, path)
    for _ in range(10):  # a lock file removed by the load that held it is made again
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _unwritable(folder, shown, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (process {holder})" if holder else ""
            raise UserError(
                f"{shown} is being loaded by another 'ayaall load'{who}; wait for it to finish, then load again."
            ) from None
        try:
            same = os.fstat(fd).st_ino == lock_path.stat().st_ino
        except FileNotFoundError:
            same = False
        if same:
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError as exc:
                _unlock(fd, None)
                raise _unwritable(folder, shown, exc) from exc
            return fd
        os.close(fd)  # the holder removed the file as we locked it: lock the new one
    raise UserError(f"{shown} could not be locked for loading; another load of it may be starting, try again.")


def _unlock(fd: int, lock_path: Path | None) -> None:
    if lock_path is not None:
        with contextlib.suppress(OSError):
            lock_path.unlink()  # while still holding it (see _lock)
    os.close(fd)


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 32, 0).decode().strip()
        return str(int(text))
    return ""


def _remove_debris(folder: Path, name: str) -> None:
    """Remove what earlier loads of ``name`` left behind (only called with the lock held)."""
    prefix = f".{name}.tmp-"
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if entry.name.startswith(prefix):
                remove_path(entry)


def _probe_writable(folder: Path, tmp: Path, shown: object) -> None:
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise _unwritable(folder, shown, exc) from exc
    os.close(fd)
    tmp.unlink()  # DuckDB makes the file itself (it takes no empty file for a database)


def _unwritable(folder: Path, shown: object, exc: OSError) -> UserError:
    return UserError(
        f"cannot write in {folder} ({exc.strerror}), where the load builds the new database beside --db {shown}; "
        "choose a --db in a folder you can write to."
    )


def _previous(path: Path, shown: object) -> tuple[tuple[tuple[object, ...], ...], pd.DataFrame | None]:
    """The load history and the record keys of the database about to be replaced; refuse to replace
    anything else."""
    if not path.exists():
        return (), None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        holder = _LOCK_HOLDER.search(str(exc))
        if holder or "Could not set lock" in str(exc):
            who = f" ({holder['program']}, process {holder['pid']})" if holder else ""
            raise UserError(
                f"{shown} is in use by another program{who}, which holds it open for writing; close it there, "
                "then load again (it was left untouched)."
            ) from exc
        raise UserError(
            f"{shown} exists and is not a DuckDB database; choose another --db path (it was left untouched)."
        ) from exc
    try:
        runs = tuple(con.execute("SELECT * FROM load_runs ORDER BY started_at").fetchall())
        return runs, previous_record_keys(con)
    except duckdb.Error as exc:
        raise UserError(
            f"{shown} is a DuckDB database but not one written by 'ayaall load'; "
            "choose another --db path (it was left untouched)."
        ) from exc
    finally:
        con.close()
