"""Find and check the files of an extract folder before anything is loaded, and checksum them.

Everything that makes a whole file unusable before it is read is found here and raised as one
``UserError`` sentence naming the file: a missing or unreadable manifest, a required table with no
file, a table given as both CSV and Parquet, a table that is not a readable regular file (a broken
or looping symbolic link, a folder, a named pipe, no permission), a header that is not UTF-8 CSV
or lacks a required column. Only a table with no file at all is absent (an optional table then
has no rows); one whose file is there but cannot be read stops the load.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from ayaall.contract import ACCEPTED_VERSIONS, FORMAT_NAME, TABLE_ORDER, TABLES, TableSpec
from ayaall.errors import UserError

__all__ = [
    "ExtractFile",
    "ExtractManifest",
    "check_readable",
    "file_sha256",
    "find_extract_files",
    "read_manifest",
]

_MAX_MANIFEST = 1 << 20  # bytes
_HEAD = 1 << 16  # bytes read for the header


@dataclass(frozen=True)
class ExtractManifest:
    """The manifest.json of an extract."""

    registry: str
    extract_date: str | None
    data_cutoff: date
    raw: dict[str, object]


@dataclass(frozen=True)
class ExtractFile:
    """One table's file: its format and header (lower-cased names, in file order)."""

    table: str
    path: Path
    fmt: str  # "csv" or "parquet"
    columns: tuple[str, ...]

    @property
    def spec(self) -> TableSpec:
        return TABLES[self.table]

    @property
    def extra_columns(self) -> tuple[str, ...]:
        known = set(self.spec.column_names)
        return tuple(c for c in self.columns if c not in known)


def read_manifest(folder: Path) -> ExtractManifest:
    """Read and check ``manifest.json``; raise ``UserError`` naming what is wrong."""
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; an extract is a folder holding manifest.json and the tables.")
    if not os.path.lexists(path):
        raise UserError(f"{path} is missing; every extract needs a manifest.json with its data_cutoff.")
    check_readable(path, "the manifest")
    if path.stat().st_size > _MAX_MANIFEST:
        raise UserError(
            f"{path} is larger than {_MAX_MANIFEST // 1024} KB, which no manifest is; is it the right file?"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise UserError(f"{path} could not be read ({exc.strerror}).") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not valid UTF-8 JSON ({exc}).") from exc
    if not isinstance(raw, dict):
        raise UserError(f"{path} must hold a JSON object, not {type(raw).__name__}.")
    version = raw.get("version")
    if raw.get("format") != FORMAT_NAME or isinstance(version, bool) or version not in ACCEPTED_VERSIONS:
        raise UserError(
            f"{path} declares format {raw.get('format')!r} version {version!r}; "
            f"this loader reads {FORMAT_NAME!r} version {' or '.join(map(str, ACCEPTED_VERSIONS))}."
        )
    cutoff_text = raw.get("data_cutoff")
    try:
        cutoff = date.fromisoformat(str(cutoff_text))
    except ValueError:
        cutoff = None
    if cutoff is None or not isinstance(cutoff_text, str) or len(cutoff_text) != 10:
        raise UserError(f"{path}: data_cutoff {cutoff_text!r} is not an ISO date (YYYY-MM-DD).")
    return ExtractManifest(
        registry=str(raw.get("registry", "")),
        extract_date=str(raw["extract_date"]) if raw.get("extract_date") else None,
        data_cutoff=cutoff,
        raw=raw,
    )


def find_extract_files(folder: Path) -> dict[str, ExtractFile]:
    """Locate each table's file, check its header and checksum it; optional tables may be absent."""
    found: dict[str, ExtractFile] = {}
    for table in TABLE_ORDER:
        spec = TABLES[table]
        candidates = [folder / f"{table}.csv", folder / f"{table}.parquet"]
        present = [p for p in candidates if os.path.lexists(p)]  # a link is there even when broken
        if len(present) == 2:
            raise UserError(f"{table} is given twice ({present[0].name} and {present[1].name}); keep one of the two.")
        if not present:
            if spec.required_table:
                raise UserError(f"{folder / (table + '.csv')} is missing; {table} is a required table.")
            continue
        path = present[0]
        check_readable(path, f"the {table} table")
        fmt = "csv" if path.suffix == ".csv" else "parquet"
        columns = _csv_header(path) if fmt == "csv" else _parquet_header(path)
        _check_columns(path, spec, columns)
        found[table] = ExtractFile(table, path, fmt, columns)
    return found


def check_readable(path: Path, what: str) -> None:
    """Raise ``UserError`` unless ``path`` (following links) is a regular file this process can read.

    A broken link, a loop of links, a folder, a named pipe (which would block the read forever) and a
    file without read permission each get a sentence saying what to do.
    """
    try:
        info = path.stat()
    except OSError as exc:
        if path.is_symlink() and exc.errno == errno.ENOENT:
            target = path.readlink()
            raise UserError(
                f"{path} is a link to {target}, which is not there (an unmounted share?); mount it or put the file "
                f"there, or remove the link if {what} has no rows to give."
            ) from exc
        if exc.errno == errno.ELOOP:
            raise UserError(f"{path} is a link that loops back on itself; point it at {what}'s file.") from exc
        raise UserError(f"{path} could not be read ({exc.strerror}).") from exc
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path} is a folder; {what} must be one file in the extract folder.")
    if stat.S_ISFIFO(info.st_mode):
        raise UserError(f"{path} is a named pipe, not a file; write {what} to a regular file and load that.")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path} is not a regular file (a device or socket); {what} must be a CSV or Parquet file.")
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError as exc:
        hint = "; give the user running the load read access to it" if exc.errno == errno.EACCES else ""
        raise UserError(f"{path} could not be read ({exc.strerror}){hint}.") from exc


def _csv_header(path: Path) -> tuple[str, ...]:
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
    except OSError as exc:
        raise UserError(f"{path} could not be read ({exc.strerror}).") from exc
    if b"\x00" in head:
        raise UserError(f"{path} is not a CSV text file (it holds binary data).")
    first_line = head.split(b"\n", 1)[0]
    if b"\r" in first_line.rstrip(b"\r"):
        if b"\n" not in head:
            raise UserError(
                f"{path} has lines that end with a carriage return (CR) alone, as old Mac programs write them; "
                "re-export it with LF or CR LF line endings (in Excel: CSV UTF-8)."
            )
        raise UserError(f"{path} has a carriage return (CR) inside its header line; re-export it.")
    if len(head) == _HEAD and b"\n" not in head:
        raise UserError(
            f"{path} has no line break in its first {_HEAD // 1024} KB, so no header row: check that it is the "
            "right file, exported with line breaks between rows."
        )
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path} is not UTF-8 text (byte {first_line[exc.start]:#04x} in the header); re-export it as UTF-8."
        ) from exc
    if not text.strip():
        raise UserError(f"{path} is empty or has no header row.")
    try:
        header = next(csv.reader(io.StringIO(text.rstrip("\r\n")), strict=True))
    except csv.Error as exc:
        raise UserError(f"{path} has a header row that is not valid CSV ({exc}); fix its quoting.") from exc
    return _normalise_header(path, header)


def _parquet_header(path: Path) -> tuple[str, ...]:
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise UserError(f"{path} is not a readable Parquet file ({exc}).") from exc
    return _normalise_header(path, list(schema.names))


def _normalise_header(path: Path, header: list[str]) -> tuple[str, ...]:
    names = [h.strip().lower() for h in header]
    seen: set[str] = set()
    for name in names:
        if not name:
            raise UserError(f"{path} has an empty column name in its header.")
        if name in seen:
            raise UserError(f"{path} has the column {name!r} twice in its header.")
        seen.add(name)
    return tuple(names)


def _check_columns(path: Path, spec: TableSpec, columns: tuple[str, ...]) -> None:
    missing = [c.name for c in spec.columns if not c.optional_column and c.name not in columns]
    if missing:
        listed = ", ".join(missing)
        shown = ", ".join(columns[:12]) + (f", ... ({len(columns):,} columns)" if len(columns) > 12 else "")
        raise UserError(
            f"{path} lacks the required column{'s' if len(missing) > 1 else ''} {listed} (its header is: {shown})."
        )


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex (``load_runs.file_checksums``)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
