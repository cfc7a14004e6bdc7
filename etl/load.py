"""``load_extract``: an extract folder in, a DuckDB file with every layer and its own account out.

Layers, in order (each in its own module or SQL file so a reader can follow them):

1. ``etl.extract``: the manifest and each file's header are checked; a file that cannot be read
   stops the load here, before anything is written. The files' checksums are computed alongside
   the next steps.
2. ``etl.raw``: each file lands unchanged as ``raw_<table>`` (text, with source file and line).
3. ``etl.validate``: ``stg_<table>`` (typed, decoded, validated), ``quarantine`` and
   ``data_quality_issues``.
4. ``etl/sql/*.sql``, in file-name order: the patient timeline, exclusions, derivation warnings,
   and the two analysis tables ``analysis_patients`` and ``time_to_event``.

The database is built in a temporary file beside ``db_path`` and moved over it only when every
step has succeeded, so a failed load leaves the previous database exactly as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from ayaall import __version__
from ayaall.contract import TABLE_ORDER, TABLES
from ayaall.endpoints import DEFAULT_AGE_BREAKS, age_group_labels
from ayaall.errors import UserError
from etl.enums import create_enum_types
from etl.extract import ExtractFile, ExtractManifest, file_sha256, find_extract_files, read_manifest
from etl.keys import previous_record_keys, write_record_keys
from etl.raw import RawTable, load_raw
from etl.validate import stage_table

__all__ = ["LoadResult", "TableCount", "load_extract", "sql_steps"]

_ACCOUNT_DDL = """
CREATE TABLE quarantine (table_name VARCHAR, source_file VARCHAR, source_line BIGINT,
    column_name VARCHAR, reason VARCHAR, raw_record VARCHAR);
CREATE TABLE data_quality_issues (table_name VARCHAR, source_file VARCHAR, source_line BIGINT,
    patient_id VARCHAR, column_name VARCHAR, raw_value VARCHAR, issue VARCHAR);
CREATE TABLE reader_rejects (table_name VARCHAR, source_file VARCHAR, source_line BIGINT,
    reason VARCHAR, csv_line VARCHAR);
CREATE TABLE load_report (table_name VARCHAR, source_file VARCHAR, rows_read BIGINT,
    rows_loaded BIGINT, rows_quarantined BIGINT, warnings BIGINT, extra_columns VARCHAR);
CREATE TABLE load_runs (load_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
    extract_path VARCHAR, registry VARCHAR, extract_date VARCHAR, data_cutoff DATE,
    file_checksums VARCHAR, extract_fingerprint VARCHAR, package_version VARCHAR, status VARCHAR,
    patients BIGINT, patients_excluded BIGINT, time_to_event_rows BIGINT);
CREATE TABLE load_parameters (data_cutoff DATE, age_breaks VARCHAR, load_id VARCHAR);
CREATE TABLE age_bands (label VARCHAR, lower_bound DOUBLE, upper_bound DOUBLE, sort_order INTEGER);
"""


@dataclass(frozen=True)
class TableCount:
    """One line of the load report."""

    table: str
    source_file: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    warnings: int
    extra_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadResult:
    """What a successful load did."""

    load_id: str
    db_path: Path
    data_cutoff: str
    tables: tuple[TableCount, ...]
    patients: int
    patients_excluded: int
    time_to_event_rows: int
    exclusions: dict[str, int] = field(default_factory=dict)


def sql_steps() -> list[tuple[str, str]]:
    """The derivation SQL files, in the order they run: (file name, text)."""
    folder = resources.files("etl") / "sql"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def load_extract(
    extract_dir: str | Path,
    db_path: str | Path,
    *,
    age_breaks: tuple[int, ...] = DEFAULT_AGE_BREAKS,
    memory_limit: str = "3GB",
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    record_key_seed: int | None = None,
) -> LoadResult:
    """Validate and load an extract into ``db_path``, replacing it only if the whole load succeeds.

    Parameters
    ----------
    extract_dir
        Folder holding manifest.json and the tables (registry-extract.md).
    db_path
        DuckDB file to write. An existing file is replaced only if it is an AYA-ALL database.
    age_breaks
        Lower bounds of the age groups (default the SEER AYA bands 15, 20, 25, 30, 40).
    memory_limit, threads
        DuckDB settings for the load; it spills to a temporary folder beside the database. ``threads``
        bounds each statement; the raw files are read beside the staging, two at a time, on threads
        of their own (one each).
    progress
        Called with the name of each step as it starts (the command line shows a bar with it).
    record_key_seed
        Seed of the new patients' secret record keys (``etl.keys``; patients of the database being
        replaced keep theirs); None, the default and the only safe choice for a real registry, draws it
        from the operating system's randomness.

    Returns
    -------
    LoadResult
        The load id and the per-table counts (rows read = loaded + quarantined).
    """
    extract_dir, db_path = Path(extract_dir), Path(db_path)
    step = progress or (lambda _name: None)
    started = datetime.now(UTC).replace(tzinfo=None)
    step("checking files")
    manifest = read_manifest(extract_dir)
    files = find_extract_files(extract_dir)
    labels = age_group_labels(tuple(age_breaks))
    previous_runs, previous_keys = _previous_runs(db_path)

    tmp = db_path.with_name(f".{db_path.name}.tmp-{os.getpid()}")
    _remove(tmp)
    # The files are checksummed on a thread of their own while the tables are read; the load id is
    # made from the checksums, so it is written once the tables are in.
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checksum")
    checksums = hasher.submit(lambda: {name: file_sha256(f.path) for name, f in files.items()})
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET enable_progress_bar = false")  # it writes to stdout; ours goes to stderr
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute(f"SET temp_directory = '{tmp}.spill'")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            create_enum_types(con, labels, tuple(f.path.name for f in files.values()))
            con.execute(_ACCOUNT_DDL)
            bounds = [None, *age_breaks]
            uppers = [*age_breaks, None]
            con.executemany(
                "INSERT INTO age_bands VALUES (?, ?, ?, ?)",
                [[lab, lo, hi, i] for i, (lab, lo, hi) in enumerate(zip(labels, bounds, uppers, strict=True))],
            )
            counts = _load_tables(con, files, step)
            digests = checksums.result()  # table -> SHA-256 of its file
            fingerprint = _fingerprint(manifest.raw, digests)
            load_id = f"L{len(previous_runs) + 1:04d}-{fingerprint[:12]}"
            con.execute(
                "INSERT INTO load_parameters VALUES (?, ?, ?)",
                [manifest.data_cutoff, ",".join(map(str, age_breaks)), load_id],
            )
            for name, sql in sql_steps():
                step(f"deriving {name.removesuffix('.sql').split('_', 1)[1]}")
                con.execute(sql)
            step("drawing record keys")
            write_record_keys(con, record_key_seed, previous_keys)
            step("writing the load report")
            result = _write_account(
                con, counts, load_id, started, extract_dir, manifest, files, digests, fingerprint, db_path
            )
            if previous_runs:  # the history of the database this load replaces
                con.executemany("INSERT INTO load_runs VALUES (" + ", ".join("?" * 14) + ")", previous_runs)
            con.execute("DROP TABLE reader_rejects")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        tmp.replace(db_path)
    except BaseException:
        _remove(tmp)
        raise
    finally:
        hasher.shutdown(wait=True, cancel_futures=True)
        _remove(Path(f"{tmp}.spill"))
        _remove(Path(f"{tmp}.wal"))
    return result


_LANDERS = 2  # raw landings at a time (each is one thread): measured best on 2 cores (BENCHMARKS.md)


def _load_tables(
    con: duckdb.DuckDBPyConnection, files: dict[str, ExtractFile], step: Callable[[str], None]
) -> list[TableCount]:
    """Land and stage every table, in ``TABLE_ORDER``.

    DuckDB reads a file into its raw table on one thread (the rows are numbered as read), so the
    raw landings run two at a time, each on a connection of its own, while this connection stages
    each table as soon as its raw table is there: the staging of one table overlaps the landing of
    the next ones, and no core waits. A file that cannot be read raises its error when its table's
    turn comes, as in a plain loop.
    """

    def land(lander: duckdb.DuckDBPyConnection, f: ExtractFile) -> RawTable:
        with lander:
            return load_raw(lander, f)

    with ThreadPoolExecutor(max_workers=_LANDERS, thread_name_prefix="raw") as pool:
        try:
            # Each landing gets a connection of its own to the same database, opened here.
            landed = {t: pool.submit(land, con.cursor(), files[t]) for t in TABLE_ORDER if t in files}
            counts = []
            for table in TABLE_ORDER:
                step(f"loading {table}")
                raw = landed[table].result() if table in landed else None
                counts.append(_stage(con, table, files.get(table), raw))
            return counts
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # let the landing under way finish before cleaning up
            raise


def _stage(con: duckdb.DuckDBPyConnection, table: str, f: ExtractFile | None, raw: RawTable | None) -> TableCount:
    spec = TABLES[table]
    if f is None or raw is None:  # an optional table that was not given: empty, so the derivations still run
        cols = ", ".join(f'"{c.name}" VARCHAR' for c in spec.columns)
        con.execute(f"CREATE TABLE raw_{table} ({cols}, source_file source_file_code, source_line BIGINT)")
        present = spec.column_names
        rows_read = 0
    else:
        present = f.columns
        rows_read = raw.rows_read
        con.execute(
            "INSERT INTO quarantine SELECT table_name, source_file, source_line, NULL, reason, csv_line "
            "FROM reader_rejects WHERE table_name = ? ORDER BY source_line",
            [table],
        )
    staged = stage_table(con, spec, present)
    extra = f.extra_columns if f else ()
    if extra:
        con.execute(
            "INSERT INTO data_quality_issues VALUES (?, ?, NULL, NULL, ?, NULL, ?)",
            [
                table,
                f.path.name if f else None,
                ",".join(extra),
                f"unknown column{'s' if len(extra) > 1 else ''} {', '.join(extra)} kept in raw_{table} only",
            ],
        )
    count = TableCount(
        table,
        f.path.name if f else None,
        rows_read,
        staged.rows_loaded,
        staged.rows_quarantined,
        staged.warnings + (1 if extra else 0),
        extra,
    )
    if count.rows_read != count.rows_loaded + count.rows_quarantined:  # a bug, never the user's data
        raise RuntimeError(f"row conservation failed for {table}: {count}")
    return count


def _write_account(
    con: duckdb.DuckDBPyConnection,
    counts: list[TableCount],
    load_id: str,
    started: datetime,
    extract_dir: Path,
    manifest: ExtractManifest,
    files: dict[str, ExtractFile],
    digests: dict[str, str],
    fingerprint: str,
    db_path: Path,
) -> LoadResult:
    con.executemany(
        "INSERT INTO load_report VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [
                c.table,
                c.source_file,
                c.rows_read,
                c.rows_loaded,
                c.rows_quarantined,
                c.warnings,
                ",".join(c.extra_columns) or None,
            ]
            for c in counts
        ],
    )
    (patients, excluded) = con.execute("SELECT count(*), count(excluded_reason) FROM analysis_patients").fetchone()  # type: ignore[misc]
    (tte_rows,) = con.execute("SELECT count(*) FROM time_to_event").fetchone()  # type: ignore[misc]
    exclusions = dict(
        con.execute(
            "SELECT excluded_reason, count(*) FROM analysis_patients WHERE excluded_reason IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    )
    m = manifest
    checksums = json.dumps({files[table].path.name: digest for table, digest in digests.items()}, sort_keys=True)
    con.execute(
        "INSERT INTO load_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'succeeded', ?, ?, ?)",
        [
            load_id,
            started,
            datetime.now(UTC).replace(tzinfo=None),
            str(extract_dir.resolve()),
            m.registry,
            m.extract_date,
            m.data_cutoff,
            checksums,
            fingerprint,
            __version__,
            patients,
            excluded,
            tte_rows,
        ],
    )
    return LoadResult(
        load_id,
        db_path,
        m.data_cutoff.isoformat(),
        tuple(counts),
        int(patients),
        int(excluded),
        int(tte_rows),
        exclusions,
    )


def _fingerprint(manifest: dict[str, object], digests: dict[str, str]) -> str:
    h = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode())
    for table in sorted(digests):
        h.update(f"{table}:{digests[table]}".encode())
    return h.hexdigest()


def _previous_runs(db_path: Path) -> tuple[list[tuple[object, ...]], pd.DataFrame | None]:
    """The load history and the record keys of the database about to be replaced; refuse to replace
    anything else."""
    if not db_path.exists():
        return [], None
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise UserError(
            f"{db_path} exists and is not a DuckDB database; choose another --db path (it was left untouched)."
        ) from exc
    try:
        runs = con.execute("SELECT * FROM load_runs ORDER BY started_at").fetchall()
        return runs, previous_record_keys(con)
    except duckdb.Error as exc:
        raise UserError(
            f"{db_path} is a DuckDB database but not one written by 'ayaall load'; "
            "choose another --db path (it was left untouched)."
        ) from exc
    finally:
        con.close()


def _remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            _remove(child)
        with contextlib.suppress(OSError):
            path.rmdir()
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
