"""Raw layer: each table's file lands unchanged, every value as text, with its source file and line.

CSV is read by DuckDB with the header we checked and every column as VARCHAR, so nothing is cast
or lost here. Rows DuckDB cannot split into the header's fields (too many or too few fields, a
stray quote) are rejected by the reader with their physical line number; they go to quarantine,
and the kept rows' line numbers are recovered around them. The file was read once before
(``etl.scan``), which counted its records and stopped on what the reader cannot read row by row
(an unbalanced quote, a line without end, a row far too wide); the rows the reader gives (kept or
rejected) must be exactly those records, or the load stops.

Parquet rows carry their 1-based row number as ``source_line``; their count must be the row count
of the file's metadata. A Parquet ``TIMESTAMP`` in a date column (what pandas writes for dates)
lands as its date when it is at midnight (a time zone the file declares is applied first), and as
the full timestamp otherwise, which the staged layer then names as a date with a time of day.

``source_file`` is stored as the load's ENUM of the extract's file names (``etl.enums``; one value
per table, read back as the name). ``source_line`` is the file's physical line (the header is
line 1) for CSV files whose values hold no line breaks; a quoted value with a line break shifts the
lines that follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ayaall.contract import Kind
from ayaall.errors import UserError
from etl.extract import ExtractFile
from etl.scan import MAX_LINE_BYTES, FileScan
from etl.target import is_write_failure

__all__ = ["RawTable", "load_raw"]

_MAX_LINE = MAX_LINE_BYTES  # bytes; the scan has stopped a file with a longer line
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


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_raw(con: duckdb.DuckDBPyConnection, f: ExtractFile, scan: FileScan) -> RawTable:
    """Land one file as ``raw_<table>`` and its unsplittable rows in ``reader_rejects``.

    ``scan`` is what ``etl.scan`` read from the file: the rows landed must be its records.
    """
    raw_name = f"raw_{f.table}"
    if f.fmt == "parquet":
        select_cols = ", ".join(_parquet_value(con, f))
        try:
            con.execute(
                f"CREATE TABLE {raw_name} AS SELECT {select_cols}, CAST(? AS source_file_code) AS source_file, "
                f"CAST(file_row_number + 1 AS BIGINT) AS source_line "
                f"FROM read_parquet(?, file_row_number = true)",
                [f.path.name, str(f.path)],
            )
        except duckdb.Error as exc:
            _reraise_if_not_the_file(exc)
            raise UserError(f"{f.path} could not be read as Parquet ({_first_line(exc)}).") from exc
        rejected = 0
    else:
        rejected = _load_csv(con, f, raw_name)
    (n,) = con.execute(f"SELECT count(*) FROM {raw_name}").fetchone()  # type: ignore[misc]
    landed = int(n) + rejected
    if landed != scan.records:
        raise UserError(_miscount(f, scan, landed))
    return RawTable(f.table, raw_name, landed, rejected)


def _miscount(f: ExtractFile, scan: FileScan, landed: int) -> str:
    """The sentence for a reader that gave other rows than the file's records (no row may go uncounted)."""
    counts = f"the reader gave {landed:,} rows where the file holds {scan.records:,} records"
    if scan.stray_quote_line:
        return (
            f"{f.path} could not be read row by row ({counts}): its quotes are broken, first on line "
            f"{scan.stray_quote_line}, where a quoted value is followed by more text; quote each value that holds "
            'a quote, a comma or a line break, doubling the quotes inside it ("a ""b"" c").'
        )
    return (
        f"{f.path} could not be read row by row ({counts}), so it was not loaded: re-export it as plain "
        "comma-separated UTF-8 with LF line endings, and report the file's layout if that does not help."
    )


def _parquet_value(con: duckdb.DuckDBPyConnection, f: ExtractFile) -> list[str]:
    """SQL for each column of a Parquet file as text: dates written as timestamps at midnight as dates."""
    try:
        types = {
            str(name).lower(): str(kind)
            for name, kind, *_ in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(f.path)]).fetchall()
        }
        zones = {
            field.name.lower(): field.type.tz
            for field in pq.read_schema(f.path)
            if pa.types.is_timestamp(field.type) and field.type.tz
        }
    except (duckdb.Error, OSError, pa.ArrowException) as exc:
        raise UserError(f"{f.path} could not be read as Parquet ({_first_line(exc)}).") from exc
    dates = {c.name for c in f.spec.columns if c.kind is Kind.DATE}
    out = []
    for c in f.columns:
        kind, col = types.get(c, "VARCHAR"), _q(c)
        if c in dates and kind.startswith("TIMESTAMP"):
            if "TIME ZONE" in kind or kind.startswith("TIMESTAMPTZ"):
                # An instant: its date is the one in the zone the file declares (else UTC).
                col = f"timezone({_lit(zones.get(c, 'UTC'))}, CAST({col} AS TIMESTAMPTZ))"
            else:
                col = f"CAST({col} AS TIMESTAMP)"
            out.append(
                f"CASE WHEN CAST({col} AS TIME) = TIME '00:00:00' THEN CAST(CAST({col} AS DATE) AS VARCHAR) "
                f"ELSE CAST({col} AS VARCHAR) END AS {_q(c)}"
            )
        else:
            out.append(f"CAST({col} AS VARCHAR) AS {_q(c)}")
    return out


def _reraise_if_not_the_file(exc: duckdb.Error) -> None:
    """A statement stopped by Ctrl-C, or a write that found no room, is not the file's fault: let it
    through unchanged, for the load to name."""
    if isinstance(exc, duckdb.InterruptException) or is_write_failure(exc):
        raise exc


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
        _reraise_if_not_the_file(exc)
        raise UserError(f"{f.path} could not be read as CSV ({_first_line(exc)}).") from exc
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


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
