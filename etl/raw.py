"""Raw layer: each table's file lands unchanged, every value as text, with its source file and line.

CSV is read by DuckDB with the header we checked and every column as VARCHAR, so nothing is cast
or lost here. Rows DuckDB cannot split into the header's fields (too many or too few fields, a
broken quote) are rejected by the reader with their physical line number; they go to quarantine,
and the kept rows' line numbers are recovered around them. Parquet rows carry their 1-based row
number as ``source_line``.

``source_file`` is stored as the load's ENUM of the extract's file names (``etl.enums``; one value
per table, read back as the name). ``source_line`` is the file's physical line (the header is
line 1) for CSV files whose values hold no line breaks; a quoted value with a line break shifts the
lines that follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ayaall.errors import UserError
from etl.extract import ExtractFile

__all__ = ["RawTable", "load_raw"]

_MAX_LINE = 1 << 20  # bytes; a longer line is rejected as not a registry row
# The CSV reader's buffer, in bytes (it allocates no more than the file needs). DuckDB cuts the rows
# it reads into batches along its buffers, and a table read in the default 32 MB buffers is stored
# with a part-filled row group at batch ends, which the next checkpoint merges by compressing the
# whole table again (about 40% of the landing's CPU at 1M patients). With one buffer for a file of
# up to 512 MB, the row groups are full.
_BUFFER = 1 << 29

_REJECT_REASONS = {
    "TOO MANY COLUMNS": "the row has more fields than the header",
    "MISSING COLUMNS": "the row has fewer fields than the header",
    "UNQUOTED VALUE": "a field has a stray quote character",
    "LINE SIZE OVER MAXIMUM": "the line is too long to be a registry row",
}


@dataclass(frozen=True)
class RawTable:
    """What landed: the raw table's name and how many rows the file held."""

    table: str
    name: str
    rows_read: int
    rows_rejected_by_reader: int


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_raw(con: duckdb.DuckDBPyConnection, f: ExtractFile) -> RawTable:
    """Land one file as ``raw_<table>`` and its unsplittable rows in ``reader_rejects``."""
    raw_name = f"raw_{f.table}"
    select_cols = ", ".join(f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in f.columns)
    if f.fmt == "parquet":
        try:
            con.execute(
                f"CREATE TABLE {raw_name} AS SELECT {select_cols}, CAST(? AS source_file_code) AS source_file, "
                f"CAST(file_row_number + 1 AS BIGINT) AS source_line "
                f"FROM read_parquet(?, file_row_number = true)",
                [f.path.name, str(f.path)],
            )
        except duckdb.Error as exc:
            raise UserError(f"{f.path} could not be read as Parquet ({_first_line(exc)}).") from exc
        rejected = 0
    else:
        rejected = _load_csv(con, f, raw_name)
    (n,) = con.execute(f"SELECT count(*) FROM {raw_name}").fetchone()  # type: ignore[misc]
    return RawTable(f.table, raw_name, int(n) + rejected, rejected)


def _load_csv(con: duckdb.DuckDBPyConnection, f: ExtractFile, raw_name: str) -> int:
    columns = "{" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in f.columns) + "}"
    con.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")
    quoted = ", ".join(_q(c) for c in f.columns)
    try:
        # One pass: rows are numbered as read (the scan keeps file order); the header is line 1.
        con.execute(
            f"CREATE TABLE {raw_name} AS SELECT {quoted}, CAST(? AS source_file_code) AS source_file, "
            "CAST(row_number() OVER () + 1 AS BIGINT) AS source_line "
            f"FROM read_csv(?, columns = {columns}, header = true, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            "store_rejects = true, rejects_table = '_rej_errors', rejects_scan = '_rej_scans', "
            f"max_line_size = {_MAX_LINE}, buffer_size = {_BUFFER})",
            [f.path.name, str(f.path)],
        )
    except duckdb.Error as exc:
        raise UserError(f"{f.path} could not be read as CSV ({_diagnose(f, exc)}).") from exc
    rejects = con.execute(
        "SELECT line, CAST(error_type AS VARCHAR), csv_line FROM _rej_errors ORDER BY line"
    ).fetchall()
    # One physical line may be reported more than once (one error per field); keep the first.
    by_line: dict[int, tuple[str, str]] = {}
    for line, error_type, csv_line in rejects:
        by_line.setdefault(int(line), (error_type, csv_line))
    encoding = [line for line, (etype, _) in by_line.items() if "UNICODE" in etype or "ENCODING" in etype]
    if encoding:
        raise UserError(f"{f.path} is not UTF-8 text (first bad byte on line {min(encoding)}); re-export it as UTF-8.")
    lines = sorted(by_line)
    if lines:
        # Kept row i (0-based, in file order) sits on line i + 2 plus the rejected lines before it.
        # Rejected line r_j (sorted, j = 0, 1, ...) shifts every kept row with i >= r_j - 2 - j.
        con.execute("CREATE OR REPLACE TEMP TABLE _shift (threshold BIGINT)")
        con.executemany("INSERT INTO _shift VALUES (?)", [[r - 2 - j] for j, r in enumerate(lines)])
        con.execute(
            f"CREATE OR REPLACE TABLE {raw_name} AS "
            "WITH shifts AS (SELECT threshold, row_number() OVER (ORDER BY threshold) AS k FROM _shift) "
            "SELECT r.* EXCLUDE (source_line), CAST(r.source_line + coalesce(shifts.k, 0) AS BIGINT) AS source_line "
            f"FROM {raw_name} r ASOF LEFT JOIN shifts ON r.source_line - 2 >= shifts.threshold "
            "ORDER BY r.source_line"
        )
    if lines:
        con.executemany(
            "INSERT INTO reader_rejects VALUES (?, ?, ?, ?, ?)",
            [
                [f.table, f.path.name, line, _REJECT_REASONS.get(etype, etype.lower()), csv_line]
                for line, (etype, csv_line) in sorted(by_line.items())
            ],
        )
    return len(lines)


def _diagnose(f: ExtractFile, exc: BaseException) -> str:
    """Say why DuckDB's strict CSV reader gave up on a whole file, where we can tell."""
    data = f.path.read_bytes()
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    if crlf and lf:
        return (
            f"its line endings are mixed: {crlf:,} lines end with CR LF and {lf:,} with LF; re-export it with one kind"
        )
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
