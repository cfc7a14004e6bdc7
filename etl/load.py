"""``load_extract``: an extract folder in, a DuckDB file with every layer and its own account out.

Layers, in order (each in its own module or SQL file so a reader can follow them):

1. ``etl.extract``: the manifest and each file's header are checked; a file that cannot be read
   stops the load here, before anything is written. Then ``etl.scan`` reads each file once, on a
   thread of its own ahead of its landing: its checksum, its records, and whatever makes it
   unreadable row by row (an unbalanced quote, a line without end, a row far too wide).
2. ``etl.raw``: each file lands unchanged as ``raw_<table>`` (text, with source file and line).
3. ``etl.validate``: ``stg_<table>`` (typed, decoded, validated), ``quarantine`` and
   ``data_quality_issues``.
4. ``etl/sql/*.sql``, in file-name order: the patient timeline, exclusions, derivation warnings,
   and the two analysis tables ``analysis_patients`` and ``time_to_event``.

The database is built in a temporary file beside ``db_path`` and moved over it only when every
step has succeeded, so a failed load leaves the previous database exactly as it was. Between
staging and that move, ``etl.guard`` stops a load that would empty a required table or quarantine
too much of one. ``etl.target`` locks the target (one load at a time), follows a symbolic link to
it, reports a database in use, and removes what a killed load left; ``etl.interrupt`` turns Ctrl-C
into one orderly stop.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from ayaall import __version__
from ayaall.contract import TABLE_ORDER, TABLES
from ayaall.endpoints import DEFAULT_AGE_BREAKS, DEFAULT_ERA_BREAKS, age_group_labels
from etl.enums import create_enum_types
from etl.extract import ExtractFile, ExtractManifest, find_extract_files, read_manifest
from etl.guard import DEFAULT_MAX_QUARANTINE, check_max_quarantine, check_staged
from etl.interrupt import LoadStopper
from etl.keys import write_record_keys
from etl.raw import RawTable, load_raw
from etl.scan import FileScan, ScanCancelled, scan_csv, scan_parquet
from etl.target import LoadTarget, disk_error, open_target
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
CREATE TABLE era_bands (label VARCHAR, lower_bound DOUBLE, upper_bound DOUBLE, sort_order INTEGER);
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
    era_breaks: tuple[int, ...] = DEFAULT_ERA_BREAKS,
    memory_limit: str = "3GB",
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    max_quarantine: float = DEFAULT_MAX_QUARANTINE,
    record_key_seed: int | None = None,
) -> LoadResult:
    """Validate and load an extract into ``db_path``, replacing it only if the whole load succeeds.

    Parameters
    ----------
    extract_dir
        Folder holding manifest.json and the tables (registry-extract.md).
    db_path
        DuckDB file to write. An existing file is replaced only if it is an AYA-ALL database; a
        symbolic link is followed (the database it points to is replaced, the link stays).
    age_breaks
        Lower bounds of the age groups (default the SEER AYA bands 15, 20, 25, 30, 40).
    era_breaks
        First diagnosis years of the eras after the first (default 2010, 2015: <2010, 2010-2014, 2015+).
    memory_limit, threads
        DuckDB settings for the load; it spills to a temporary folder beside the database. ``threads``
        bounds each statement; the raw files are read beside the staging, two at a time, on threads
        of their own (one each).
    progress
        Called with the name of each step as it starts (the command line shows a bar with it).
    max_quarantine
        The share of any table's rows that may go to quarantine (``etl.guard``); beyond it, or when
        a required table would be empty, the load stops before replacing the database.
    record_key_seed
        Seed of the new patients' secret record keys (``etl.keys``; patients of the database being
        replaced keep theirs); None, the default and the only safe choice for a real registry, draws it
        from the operating system's randomness.

    Returns
    -------
    LoadResult
        The load id and the per-table counts (rows read = loaded + quarantined).

    Raises
    ------
    UserError
        One sentence naming the file and what to do, when the extract or the target cannot be
        loaded; the previous database is then left exactly as it was.
    KeyboardInterrupt
        After Ctrl-C (SIGINT), once everything the load started has stopped and its temporary
        files are removed; the previous database is left as it was.
    """
    check_max_quarantine(max_quarantine)
    stopper = LoadStopper()
    with stopper.handling_sigint():
        try:
            return _load(
                Path(extract_dir),
                Path(db_path),
                tuple(age_breaks),
                tuple(era_breaks),
                memory_limit,
                threads,
                progress,
                max_quarantine,
                record_key_seed,
                stopper,
            )
        except BaseException:
            if stopper.interrupted:  # whatever the statement under way reported
                raise KeyboardInterrupt from None
            raise


def _load(
    extract_dir: Path,
    db_path: Path,
    age_breaks: tuple[int, ...],
    era_breaks: tuple[int, ...],
    memory_limit: str,
    threads: int | None,
    progress: Callable[[str], None] | None,
    max_quarantine: float,
    record_key_seed: int | None,
    stopper: LoadStopper,
) -> LoadResult:
    def step(name: str) -> None:
        stopper.check()
        if progress is not None:
            progress(name)

    started = datetime.now(UTC).replace(tzinfo=None)
    step("checking files")
    manifest = read_manifest(extract_dir)
    files = find_extract_files(extract_dir)
    labels = age_group_labels(age_breaks)
    stopper.check()
    with open_target(db_path) as target:
        # Each file is read once on a thread of its own (checksum, records: etl.scan), in load order,
        # ahead of its landing, which waits for it; the load id is made from the checksums.
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
        try:
            scans = {t: reader.submit(_scan, files[t], stopper.cancel) for t in TABLE_ORDER if t in files}
            con = stopper.register(duckdb.connect(str(target.tmp)))
            try:
                _prepare(con, target, memory_limit, threads, files, age_breaks, labels, era_breaks)
                counts = _load_tables(con, files, scans, step, stopper, max_quarantine, target.untouched)
                digests = {table: scan.result().sha256 for table, scan in scans.items()}
                fingerprint = _fingerprint(manifest.raw, digests)
                load_id = f"L{len(target.previous_runs) + 1:04d}-{fingerprint[:12]}"
                con.execute(
                    "INSERT INTO load_parameters VALUES (?, ?, ?)",
                    [manifest.data_cutoff, ",".join(map(str, age_breaks)), load_id],
                )
                for name, sql in sql_steps():
                    step(f"deriving {name.removesuffix('.sql').split('_', 1)[1]}")
                    con.execute(sql)
                step("drawing record keys")
                write_record_keys(con, record_key_seed, target.previous_keys)
                step("writing the load report")
                result = _write_account(
                    con, counts, load_id, started, extract_dir, manifest, files, digests, fingerprint, target.given
                )
                if target.previous_runs:  # the history of the database this load replaces
                    con.executemany("INSERT INTO load_runs VALUES (" + ", ".join("?" * 14) + ")", target.previous_runs)
                con.execute("DROP TABLE reader_rejects")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            step("replacing the database")
            stopper.check()  # the last point where Ctrl-C stops the load; after it, the load is done
            target.replace()
        except BaseException as exc:
            stopper.stop()
            error = None if stopper.interrupted else disk_error(exc, target)
            if error is not None:
                raise error from exc
            raise
        finally:
            reader.shutdown(wait=True, cancel_futures=True)
    return result


def _prepare(
    con: duckdb.DuckDBPyConnection,
    target: LoadTarget,
    memory_limit: str,
    threads: int | None,
    files: dict[str, ExtractFile],
    age_breaks: tuple[int, ...],
    labels: tuple[str, ...],
    era_breaks: tuple[int, ...] = DEFAULT_ERA_BREAKS,
) -> None:
    """Settings, ENUM types and the account tables of a new database."""
    con.execute("SET enable_progress_bar = false")  # it writes to stdout; ours goes to stderr
    con.execute(f"SET memory_limit = {_lit(memory_limit)}")
    con.execute(f"SET temp_directory = {_lit(str(target.spill))}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    create_enum_types(con, labels, tuple(f.path.name for f in files.values()))
    con.execute(_ACCOUNT_DDL)
    for table, breaks, names in (("age_bands", age_breaks, labels), ("era_bands", era_breaks, None)):
        names = names or age_group_labels(breaks)
        bounds, uppers = [None, *breaks], [*breaks, None]
        con.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
            [[lab, lo, hi, i] for i, (lab, lo, hi) in enumerate(zip(names, bounds, uppers, strict=True))],
        )


def _scan(f: ExtractFile, cancel: threading.Event) -> FileScan:
    if f.fmt == "csv":
        return scan_csv(f.path, len(f.columns), cancel=cancel)
    return scan_parquet(f.path, cancel=cancel)


_LANDERS = 2  # raw landings at a time (each is one thread): measured best on 2 cores (BENCHMARKS.md)


def _load_tables(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, ExtractFile],
    scans: dict[str, Future[FileScan]],
    step: Callable[[str], None],
    stopper: LoadStopper,
    max_quarantine: float,
    untouched: str,
) -> list[TableCount]:
    """Land and stage every table, in ``TABLE_ORDER``, checking each against ``etl.guard``.

    DuckDB reads a file into its raw table on one thread (the rows are numbered as read), so the
    raw landings run two at a time, each on a connection of its own, while this connection stages
    each table as soon as its raw table is there: the staging of one table overlaps the landing of
    the next ones, and no core waits. Each landing first waits for its file's scan. A file that
    cannot be read raises its error when its table's turn comes, or as soon as its scan finds it.
    """

    def land(lander: duckdb.DuckDBPyConnection, f: ExtractFile) -> RawTable:
        with lander:
            scan = scans[f.table].result()
            if stopper.cancel.is_set():
                raise ScanCancelled
            return load_raw(lander, f, scan)

    with ThreadPoolExecutor(max_workers=_LANDERS, thread_name_prefix="raw") as pool:
        try:
            # Each landing gets a connection of its own to the same database, opened here.
            landed = {t: pool.submit(land, stopper.register(con.cursor()), files[t]) for t in TABLE_ORDER if t in files}
            counts = []
            for table in TABLE_ORDER:
                step(f"loading {table}")
                for scan in scans.values():  # a file found unreadable stops the load at once
                    if scan.done() and scan.exception() is not None:
                        scan.result()
                raw = landed[table].result() if table in landed else None
                count = _stage(con, table, files.get(table), raw)
                check_staged(
                    con,
                    TABLES[table],
                    files[table].path if table in files else table,
                    count.rows_read,
                    count.rows_loaded,
                    count.rows_quarantined,
                    max_quarantine,
                    untouched,
                )
                counts.append(count)
            return counts
        except BaseException:
            stopper.stop()  # interrupt the landings under way
            pool.shutdown(wait=True, cancel_futures=True)
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


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
