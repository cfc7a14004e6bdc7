"""Extract files a load cannot read (issue 16): each case ends in one sentence naming the file and
what to do, in bounded time and memory, with the previous database byte-identical and no debris.

A table file that is there but cannot be read (a broken or looping link, a folder, a named pipe, no
permission) stops the load; only a file that is not there at all is an absent optional table. An
unbalanced quote, a file without line breaks, a row with 40,000 extra fields, CR-only or stray-CR
line endings are refused by the scan (``etl.scan``) naming the line. Parquet dates written as
timestamps load as dates at midnight; another time of day is named, and the row quarantined.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from load_faults_support import (
    copy_extract,
    digest,
    listing,
    previous_database,
    run_cli,
    write_registry,
)

from ayaall.errors import UserError
from etl import load_extract


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 300-patient extract and its database, loaded once for the module."""
    base = tmp_path_factory.mktemp("registry")
    extract = write_registry(base / "extract", 300)
    load_extract(extract, base / "registry.duckdb")
    return extract, base / "registry.duckdb"


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _unclosed_quote(e: Path) -> None:
    path = e / "patients.csv"
    lines = _lines(path)
    lines[51] = lines[51].replace(",F,", ',"F,', 1)  # data row 51 of 300, on line 52
    path.write_text("\n".join(lines) + "\n")


def _dangling_link(e: Path) -> None:
    (e / "relapses.csv").unlink()
    (e / "relapses.csv").symlink_to(e.parent / "unmounted-share" / "relapses.csv")


def _looping_link(e: Path) -> None:
    (e / "relapses.csv").unlink()
    (e / "relapses.csv").symlink_to(e / "relapses.csv")


def _directory(e: Path) -> None:
    (e / "responses.csv").unlink()
    (e / "responses.csv").mkdir()


def _cr_only(e: Path) -> None:
    path = e / "patients.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))


def _lone_cr(e: Path) -> None:
    path = e / "followup.csv"
    lines = _lines(path)
    lines[9] = lines[9].replace(",", ",\r", 1)
    path.write_text("\n".join(lines) + "\n")


FILE_CASES = [
    pytest.param(
        _unclosed_quote,
        "patients.csv has an unbalanced quote: a quoted value opens on line 52 and is never closed "
        "(the file ends on line 301)",
        id="unclosed_quote_in_row_51_of_300",
    ),
    pytest.param(_dangling_link, "relapses.csv is a link to ", id="dangling_link_optional_table"),
    pytest.param(_looping_link, "relapses.csv is a link that loops back on itself", id="looping_link"),
    pytest.param(_directory, "responses.csv is a folder; the responses table must be one file", id="table_is_a_folder"),
    pytest.param(_cr_only, "patients.csv has lines that end with a carriage return (CR) alone", id="cr_only"),
    pytest.param(_lone_cr, "followup.csv has a carriage return (CR) without a line feed on line 10", id="lone_cr"),
]


@pytest.mark.parametrize(("corrupt", "message"), FILE_CASES)
def test_an_unreadable_file_stops_the_load_with_one_sentence_and_touches_nothing(
    tmp_path: Path, registry: tuple[Path, Path], corrupt: Callable[[Path], None], message: str
) -> None:
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    bad = copy_extract(extract, tmp_path / "bad")
    corrupt(bad)
    with pytest.raises(UserError) as info:
        load_extract(bad, db)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]  # no temporary file, spill folder or lock left


def test_the_dangling_link_sentence_says_where_it_points_and_what_to_do(tmp_path: Path, registry) -> None:
    bad = copy_extract(registry[0], tmp_path / "bad")
    _dangling_link(bad)
    with pytest.raises(UserError) as info:
        load_extract(bad, tmp_path / "new.duckdb")
    text = str(info.value)
    assert f"relapses.csv is a link to {tmp_path / 'unmounted-share' / 'relapses.csv'}, which is not there" in text
    assert "mount it or put the file there, or remove the link if the relapses table has no rows" in text
    assert not (tmp_path / "new.duckdb").exists()


def test_an_absent_optional_table_is_still_no_rows(tmp_path: Path, registry) -> None:
    """Only a file that is not there at all is absent: the load goes on with no relapses."""
    extract = copy_extract(registry[0], tmp_path / "e")
    (extract / "relapses.csv").unlink()
    result = load_extract(extract, tmp_path / "db.duckdb")
    assert {t.table: (t.source_file, t.rows_read) for t in result.tables}["relapses"] == (None, 0)


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("capsh"), reason="as root, needs capsh to drop privileges")
def test_an_optional_table_without_read_permission_stops_the_load(tmp_path: Path, registry) -> None:
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    bad = copy_extract(extract, tmp_path / "bad")
    (bad / "relapses.csv").chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(UserError, match=r"relapses\.csv could not be read") as info:
            load_extract(bad, db)
        text = str(info.value)
    else:  # root reads anything: run the load without the capabilities that let it
        proc = subprocess.run(
            [
                "capsh",
                "--drop=cap_dac_override,cap_dac_read_search",
                "--",
                "-c",
                f"cd {Path(__file__).parent.parent} && exec python -m ayaall load {bad} --db {db} --quiet",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        text = proc.stderr.strip()
        assert "\n" not in text
    assert "relapses.csv could not be read (Permission denied); give the user running the load read access" in text
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_a_named_pipe_as_a_table_does_not_hang(tmp_path: Path, registry) -> None:
    """Nobody writes to the pipe: reading it would block forever. The child process would then be
    killed by the timeout, and the test fail."""
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    bad = copy_extract(extract, tmp_path / "bad")
    (bad / "transplants.csv").unlink()
    os.mkfifo(bad / "transplants.csv")
    run = run_cli("load", str(bad), "--db", str(db), "--quiet", timeout=120)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 0
    assert "transplants.csv is a named pipe, not a file; write the transplants table to a regular file" in run.stderr
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_200_mb_of_records_without_a_line_break_ends_in_bounded_time_and_memory(tmp_path: Path, registry) -> None:
    """Before: 120 s and more, 3.5 GB. Now the scan stops at the first 1 MB line; the child's peak
    memory is that of the program's imports (about 0.2 GB). The file is 3 MB of records separated by
    ';' and a sparse tail to 200 MB."""
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    bad = copy_extract(extract, tmp_path / "bad")
    with (bad / "relapses.csv").open("wb") as handle:
        handle.write(b"patient_id,relapse_date,site\n")
        handle.write(b"P001,2021-01-01,BM;" * 170_000)
        handle.truncate(200_000_000)
    run = run_cli("load", str(bad), "--db", str(db), "--quiet", timeout=120)
    assert run.returncode == 2
    assert "relapses.csv has a line longer than 1 MB (line 2, with no line break in it)" in run.stderr
    assert run.stderr.count("\n") == 0
    assert run.maxrss_mb < 600
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_one_row_with_40000_extra_fields_ends_in_bounded_memory(tmp_path: Path, registry) -> None:
    """Before: 1.8 GB for this 300-patient extract (one reject row, holding the line, per extra field)."""
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    bad = copy_extract(extract, tmp_path / "bad")
    path = bad / "patients.csv"
    lines = _lines(path)
    lines[100] += ",x" * 40_000
    path.write_text("\n".join(lines) + "\n")
    run = run_cli("load", str(bad), "--db", str(db), "--quiet", timeout=120)
    assert run.returncode == 2
    assert "patients.csv line 101 has 40,005 fields where the header has 5" in run.stderr
    assert run.stderr.count("\n") == 0
    assert run.maxrss_mb < 600
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


# --- Parquet dates written as timestamps ------------------------------------------------------------


def _as_parquet(extract: Path, table: str, dates: dict[str, Callable[[pd.Series], pd.Series]]) -> None:
    frame = pd.read_csv(extract / f"{table}.csv", dtype=str, keep_default_na=False)
    for column, convert in dates.items():
        frame[column] = convert(frame[column])
    (extract / f"{table}.csv").unlink()
    frame.to_parquet(extract / f"{table}.parquet", index=False)


def _stg(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_parquet_timestamps_at_midnight_load_as_their_dates(tmp_path: Path, registry) -> None:
    """What pandas writes for dates (TIMESTAMP, naive, and with a time zone that is midnight there)."""
    extract = copy_extract(registry[0], tmp_path / "e")
    _as_parquet(extract, "diagnoses", {"dx_date": pd.to_datetime})
    _as_parquet(
        extract,
        "treatment_lines",
        {"start_date": lambda s: pd.to_datetime(s).dt.tz_localize("Europe/Paris")},
    )
    result = load_extract(extract, tmp_path / "db.duckdb")
    counts = {t.table: (t.rows_read, t.rows_loaded, t.rows_quarantined) for t in result.tables}
    assert counts["diagnoses"] == (300, 300, 0)
    assert counts["treatment_lines"] == (300, 300, 0)
    db = tmp_path / "db.duckdb"
    assert _stg(db, "SELECT DISTINCT dx_date FROM stg_diagnoses") == [(date(2020, 1, 1),)]
    assert _stg(db, "SELECT DISTINCT start_date FROM stg_treatment_lines") == [(date(2020, 1, 5),)]
    assert _stg(db, "SELECT count(*) FROM data_quality_issues WHERE column_name IS NOT NULL") == [(0,)]


def test_a_parquet_timestamp_with_a_time_of_day_is_named_and_not_taken_as_a_date(tmp_path: Path, registry) -> None:
    """A time other than midnight is most often a shift between time zones (a local midnight written
    in UTC reads 23:00 the day before): the loader does not guess the day. A required date's row is
    quarantined, an optional date becomes missing with a warning; both say why."""
    extract = copy_extract(registry[0], tmp_path / "e")

    def one_at_23h(s: pd.Series) -> pd.Series:
        out = pd.to_datetime(s)
        out.iloc[6] = pd.Timestamp("2019-12-31 23:00:00")
        return out

    _as_parquet(extract, "diagnoses", {"dx_date": one_at_23h})
    result = load_extract(extract, tmp_path / "db.duckdb")
    counts = {t.table: (t.rows_read, t.rows_loaded, t.rows_quarantined) for t in result.tables}
    assert counts["diagnoses"] == (300, 299, 1)
    (line, column, reason) = _stg(tmp_path / "db.duckdb", "SELECT source_line, column_name, reason FROM quarantine")[0]
    assert (line, column) == (7, "dx_date")
    assert reason.startswith("dx_date '2019-12-31 23:00:00' is a date with a time of day")
    assert "shifted between time zones" in reason
