"""``etl.scan``: each CSV file's records, counted before the load, and the files it refuses.

Named cases pin the count of records for each layout (the header, empty lines and quoted line breaks
not counted) and the sentence for each file the reader cannot read row by row. Two properties hold
for any file built from real exports' pieces (plain and quoted values, escaped and stray quotes,
values with commas and line breaks, rows with missing or extra fields, empty lines, LF or CR LF):
the count does not depend on the size of the pieces the file is read in, and DuckDB's reader, as
``etl.raw`` calls it, gives exactly that many rows (kept or rejected), unless the scan found a
quote so broken that it names the line.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ayaall.contract import TABLES
from ayaall.errors import UserError
from etl.extract import ExtractFile
from etl.raw import load_raw
from etl.scan import FileScan, scan_csv

HEADER = b"a,b,c\n"

RECORD_CASES = [
    pytest.param(HEADER + b"1,2,3\n4,5,6\n", 2, "LF", 0, id="plain_lf"),
    pytest.param(b"a,b,c\r\n1,2,3\r\n4,5,6\r\n", 2, "CRLF", 0, id="plain_crlf"),
    pytest.param(b"\xef\xbb\xbf" + HEADER + b"1,2,3\n", 1, "LF", 0, id="bom"),
    pytest.param(HEADER + b"1,2,3\n4,5,6", 2, "LF", 0, id="no_final_line_break"),
    pytest.param(HEADER, 0, "LF", 0, id="header_only"),
    pytest.param(HEADER + b"1,2,3\n\n\n4,5,6\n\n", 2, "LF", 0, id="empty_lines_are_no_records"),
    pytest.param(b"a,b,c\r\n1,2,3\r\n\r\n4,5,6\r\n", 2, "CRLF", 0, id="empty_crlf_line"),
    pytest.param(HEADER + b"  \n1,2,3\n", 2, "LF", 0, id="blank_line_is_a_record"),
    pytest.param(HEADER + b'1,"two\nlines",3\n4,5,6\n', 2, "LF", 1, id="quoted_line_break"),
    pytest.param(b'a,b,c\r\n1,"cell\nbreak",3\r\n4,5,6\r\n', 2, "CRLF", 1, id="excel_lf_inside_crlf"),
    pytest.param(HEADER + b'1,"say ""hi""",3\n', 1, "LF", 0, id="escaped_quotes"),
    pytest.param(HEADER + b'1,"a,b",3\n', 1, "LF", 0, id="quoted_comma"),
    pytest.param(HEADER + b'1,O"Brien,3\n4,5,6\n', 2, "LF", 0, id="stray_quote_is_a_character"),
    pytest.param(HEADER + b'1, "x\ny",3\n', 1, "LF", 1, id="quote_after_one_space_opens"),
    pytest.param(HEADER + b'1,  "x\ny",3\n', 2, "LF", 0, id="quote_after_two_spaces_does_not"),
    pytest.param(HEADER + b"1,2,3,\n4,5,6,,\n", 2, "LF", 0, id="trailing_commas"),
    pytest.param(HEADER + b"1,2\n", 1, "LF", 0, id="missing_field"),
]


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "records", "ending", "quoted_breaks"), RECORD_CASES)
def test_records_are_counted_as_the_reader_reads_them(
    tmp_path: Path, data: bytes, records: int, ending: str, quoted_breaks: int
) -> None:
    path = _write(tmp_path, data)
    for piece in (1 << 20, 8, 3):  # whole file, small pieces, pieces smaller than a line
        scan = scan_csv(path, 3, piece_bytes=piece)
        assert (scan.records, scan.line_ending, scan.quoted_line_breaks) == (records, ending, quoted_breaks)
    assert _reader_rows(path, scan) == records


def test_in_a_one_column_file_an_empty_line_is_an_empty_value(tmp_path: Path) -> None:
    """DuckDB reads an empty line of a one-column file as a row with an empty value (it skips empty
    lines only when a row needs commas); no table of the contract has one column, but the count holds."""
    path = _write(tmp_path, b"h\n1\n\n2\n")
    for piece in (1 << 20, 1):
        assert scan_csv(path, 1, piece_bytes=piece).records == 3
    assert _reader_rows(path, scan_csv(path, 1)) == 3


REFUSED_CASES = [
    pytest.param(
        HEADER + b'1,"open,3\n4,5,6\n7,8,9\n',
        {},
        "an unbalanced quote: a quoted value opens on line 2 and is never closed (the file ends on line 4)",
        id="unclosed_quote",
    ),
    pytest.param(
        HEADER + b'1,"open,3\n4,5,6\n7,"8"x,9\n',
        {},
        "a quoted value opens on line 2 and has its closing quote on line 4 inside a field",
        id="quote_closed_inside_a_later_field",
    ),
    pytest.param(
        HEADER + b"1,2,3\n" + b"x" * 5000 + b"\n",
        {"max_line_bytes": 4096},
        "has a line longer than 4 KB (line 3, with no line break in it)",
        id="line_over_the_cap",
    ),
    pytest.param(
        HEADER + b"1,2,3\n4" + b",x" * 40_000 + b"\n",
        {},
        "line 3 has 40,001 fields where the header has 3",
        id="row_with_40000_extra_fields",
    ),
    pytest.param(
        HEADER + b"1,2,3\n4,5" + b",x" * 20 + b"\n",
        {"max_extra_fields": 10},
        "line 3 has 22 fields where the header has 3",
        id="row_over_a_lowered_field_cap",
    ),
    pytest.param(
        HEADER + b"1,2\r3\n",
        {},
        "a carriage return (CR) without a line feed on line 2",
        id="lone_cr",
    ),
    pytest.param(
        b"a,b,c\r\n1,2,3\r\n4,5,6\n",
        {},
        "its line endings are mixed: 2 lines end with CR LF and 1 with LF, the first of each on lines 1 and 3",
        id="mixed_line_endings",
    ),
]


@pytest.mark.parametrize(("data", "bounds", "message"), REFUSED_CASES)
def test_files_that_cannot_be_read_row_by_row_are_refused_naming_the_line(
    tmp_path: Path, data: bytes, bounds: dict[str, int], message: str
) -> None:
    path = _write(tmp_path, data)
    for piece in (1 << 20, 16):
        with pytest.raises(UserError) as info:
            scan_csv(path, 3, piece_bytes=piece, **bounds)
        assert message in str(info.value)
        assert str(path) in str(info.value)
        assert "\n" not in str(info.value)


def _bytes_read() -> int:
    """Bytes this process has read through system calls so far (Linux ``/proc/self/io``)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_200_mb_without_a_line_break_is_refused_after_reading_about_one_line_cap(tmp_path: Path) -> None:
    """The bound: the scan stops once a line is longer than the cap, however long the file. The file
    is a header, 3 MB of records separated by ';' and a sparse tail to 200 MB (no disk space used)."""
    path = tmp_path / "t.csv"
    with path.open("wb") as handle:
        handle.write(HEADER)
        handle.write(b"P0000001,2020-01-01,BM;" * 136_000)
        handle.truncate(200_000_000)
    before = _bytes_read()
    with pytest.raises(UserError, match=r"has a line longer than 1 MB \(line 2, with no line break in it\)"):
        scan_csv(path, 3)
    assert _bytes_read() - before < 3_000_000  # about two 1 MB pieces of the 200 MB


# --- properties -----------------------------------------------------------------------------

_VALUES = st.sampled_from(
    ["", "a", "P1", "2020-01-05", '"q"', '""', '"a,b"', '"two\nlines"', '"x ""y"" z"', 'O"Brien', "5'10\"", ' "s"']
)


@st.composite
def _csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    table = draw(st.sampled_from(["regimen_map", "relapses", "patients", "diagnoses"]))
    n = len(TABLES[table].columns)
    line_end = draw(st.sampled_from(["\n", "\r\n"]))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 9)) == 0:
            rows.append("")  # an empty line
            continue
        width = draw(st.sampled_from([n, n, n, n - 1, n + 1, n + 3]))
        rows.append(",".join(draw(_VALUES) for _ in range(max(width, 1))))
    text = line_end.join([",".join(c.name for c in TABLES[table].columns), *rows])
    if draw(st.booleans()):
        text += line_end
    return text.encode(), TABLES[table].name  # type: ignore[return-value]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_csv_files())
def test_the_count_does_not_depend_on_the_pieces_and_the_reader_gives_every_record(
    tmp_path: Path, drawn: tuple[bytes, str]
) -> None:
    data, table = drawn
    n = len(TABLES[table].columns)
    path = _write(tmp_path, data)
    outcomes = []
    for piece in (1 << 20, 5, 2):
        try:
            outcomes.append(scan_csv(path, n, piece_bytes=piece))
        except UserError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    scan = outcomes[0]
    if isinstance(scan, str):
        assert any(k in scan for k in ("unbalanced quote", "line endings are mixed")), scan
        return
    try:
        rows, error = _reader_rows(path, scan, table), ""
    except UserError as exc:
        rows, error = -1, str(exc)
    if error:  # only a broken quote the scan named may make the counts differ
        assert scan.stray_quote_line, (error, data)
        assert f"first on line {scan.stray_quote_line}" in error
        return
    assert rows == scan.records


def _reader_rows(path: Path, scan: FileScan, table: str = "relapses") -> int:
    """Rows (kept and rejected) that ``etl.raw`` lands from ``path``, a file of ``table``; ``load_raw``
    raises when they are not the scan's records."""
    header = path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
    columns = tuple(name.decode() for name in header.split(b","))
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TYPE source_file_code AS ENUM ('{path.name}')")
        con.execute(
            "CREATE TABLE reader_rejects (table_name VARCHAR, source_file VARCHAR, source_line BIGINT, "
            "reason VARCHAR, csv_line VARCHAR)"
        )
        return load_raw(con, ExtractFile(table, path, "csv", columns), scan).rows_read
    finally:
        con.close()
