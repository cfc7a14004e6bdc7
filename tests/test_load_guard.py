"""Loads that would wipe the registry, and rows counted against the file (issue 16, ``etl.guard``).

A required table left empty, or any table with more than ``--max-quarantine`` of its rows in
quarantine (20% by default), stops the load before it replaces the database, with one sentence
naming the file, the share and the first reason. A repeated header line is quarantined as such.
Rows read are the file's physical records, counted independently here with Python's csv module.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from load_faults_support import copy_extract, digest, listing, previous_database, run_cli, write_registry

from ayaall.errors import UserError
from etl import load_extract


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 300-patient extract and its database, loaded once for the module."""
    base = tmp_path_factory.mktemp("registry")
    extract = write_registry(base / "extract", 300)
    load_extract(extract, base / "registry.duckdb")
    return extract, base / "registry.duckdb"


def _rewrite(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")


def _bad_dates(k: int) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        return [lines[0]] + [ln.replace("2020-01-01", "01/01/2020") if i < k else ln for i, ln in enumerate(lines[1:])]

    return edit


STOP_CASES = [
    pytest.param(
        "patients.csv",
        lambda lines: lines[:1],
        "patients.csv has no rows (only its header) and patients is a required table, so the load was stopped",
        id="header_only_patients",
    ),
    pytest.param(
        "patients.csv",
        lambda lines: [lines[0] + ",favourite_colour", *lines[1:]],
        "none of the 300 rows of",
        id="header_column_the_rows_lack",
    ),
    pytest.param(
        "patients.csv",
        lambda lines: [lines[0], *(ln + ",X" for ln in lines[1:])],
        "patients.csv could be loaded (the first, on line 2: the row has more fields than the header)",
        id="rows_with_a_field_the_header_lacks",
    ),
    pytest.param(
        "diagnoses.csv",
        _bad_dates(70),
        "70 of the 300 rows of",
        id="quarantine_over_20_percent",
    ),
    pytest.param(
        "relapses.csv",
        lambda lines: [lines[0], *(f"P{i:03d},2021/01/01,BM" for i in range(1, 11))],
        "10 of the 10 rows of",
        id="optional_table_all_quarantined",
    ),
    pytest.param(
        "patients.csv",
        lambda lines: lines + lines,
        "301 of the 601 rows of",
        id="two_exports_concatenated",
    ),
]


@pytest.mark.parametrize(("table", "edit", "message"), STOP_CASES)
def test_a_load_that_would_wipe_or_gut_a_table_stops_before_the_swap(
    tmp_path: Path, registry: tuple[Path, Path], table: str, edit, message: str
) -> None:
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    before = digest(db)
    bad = copy_extract(extract, tmp_path / "bad")
    _rewrite(bad / table, edit)
    with pytest.raises(UserError) as info:
        load_extract(bad, db)
    assert message in str(info.value)
    assert str(bad / table) in str(info.value)
    assert f"so the load was stopped, {db} left as it was" in str(info.value)
    assert "\n" not in str(info.value)
    assert digest(db) == before
    assert listing(db.parent) == ["registry.duckdb"]


def test_a_stopped_first_load_says_nothing_was_written(tmp_path: Path, registry) -> None:
    bad = copy_extract(registry[0], tmp_path / "bad")
    _rewrite(bad / "patients.csv", lambda lines: lines[:1])
    with pytest.raises(UserError, match="so the load was stopped, nothing written; check the export"):
        load_extract(bad, tmp_path / "new.duckdb")
    assert listing(tmp_path) == ["bad"]


def test_the_share_message_gives_the_share_and_the_first_reason(tmp_path: Path, registry) -> None:
    bad = copy_extract(registry[0], tmp_path / "bad")
    _rewrite(bad / "diagnoses.csv", _bad_dates(70))
    with pytest.raises(UserError) as info:
        load_extract(bad, tmp_path / "db.duckdb")
    assert (
        "would be quarantined (23%, more than the 20% allowed by --max-quarantine; the first, on line 2: "
        "dx_date '01/01/2020' is not an ISO date (YYYY-MM-DD))"
    ) in str(info.value)
    assert "fix the file, or raise --max-quarantine to load it anyway" in str(info.value)


def test_the_two_exports_message_names_the_repeated_header(tmp_path: Path, registry) -> None:
    bad = copy_extract(registry[0], tmp_path / "bad")
    _rewrite(bad / "patients.csv", lambda lines: lines + lines)
    with pytest.raises(UserError, match="on line 302: the row repeats the header"):
        load_extract(bad, tmp_path / "db.duckdb")


def test_max_quarantine_is_settable_on_the_command_line(tmp_path: Path, registry) -> None:
    extract, good_db = registry
    db = previous_database(good_db, tmp_path / "db")
    bad = copy_extract(extract, tmp_path / "bad")
    _rewrite(bad / "diagnoses.csv", _bad_dates(70))
    stopped = run_cli("load", str(bad), "--db", str(db), "--quiet")
    assert stopped.returncode == 2
    assert "70 of the 300 rows of" in stopped.stderr
    assert stopped.stderr.count("\n") == 0
    loaded = run_cli("load", str(bad), "--db", str(db), "--quiet", "--max-quarantine", "0.3")
    assert loaded.returncode == 0, loaded.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(
        "SELECT rows_read, rows_loaded, rows_quarantined FROM load_report WHERE table_name = 'diagnoses'"
    ).fetchone() == (300, 230, 70)
    con.close()
    wrong = run_cli("load", str(bad), "--db", str(db), "--max-quarantine", "1.5")
    assert wrong.returncode == 2
    assert "--max-quarantine 1.5 must be a share of the rows, from 0 to 1" in wrong.stderr


def test_a_share_under_the_limit_loads(tmp_path: Path, registry) -> None:
    bad = copy_extract(registry[0], tmp_path / "bad")
    _rewrite(bad / "diagnoses.csv", _bad_dates(60))  # 20%: not more than allowed
    result = load_extract(bad, tmp_path / "db.duckdb")
    assert {t.table: t.rows_quarantined for t in result.tables}["diagnoses"] == 60


def test_data_rows_with_a_trailing_comma_load_whole(tmp_path: Path, registry) -> None:
    """An empty field after the last one holds nothing: the reader drops it and every row loads."""
    bad = copy_extract(registry[0], tmp_path / "bad")
    _rewrite(bad / "patients.csv", lambda lines: [lines[0], *(ln + "," for ln in lines[1:])])
    result = load_extract(bad, tmp_path / "db.duckdb")
    assert {t.table: (t.rows_read, t.rows_loaded) for t in result.tables}["patients"] == (300, 300)
    assert result.patients == 300


@pytest.mark.parametrize(
    "header", ["patient_id,sex,race,ethnicity,center_id", "Patient_ID, SEX,Race,ethnicity,CENTER_ID"]
)
def test_a_repeated_header_line_is_quarantined_as_such(tmp_path: Path, registry, header: str) -> None:
    bad = copy_extract(registry[0], tmp_path / "bad")
    _rewrite(bad / "patients.csv", lambda lines: [*lines[:150], header, *lines[150:]])
    load_extract(bad, tmp_path / "db.duckdb")
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert con.execute(
        "SELECT rows_read, rows_loaded, rows_quarantined FROM load_report WHERE table_name = 'patients'"
    ).fetchone() == (301, 300, 1)
    assert con.execute("SELECT source_line, column_name, reason FROM quarantine").fetchall() == [
        (151, None, "the row repeats the header (two exports joined into one file?); it holds no data")
    ]
    assert con.execute("SELECT count(*) FROM analysis_patients WHERE lower(patient_id) = 'patient_id'").fetchone() == (
        0,
    )
    con.close()


def _records(path: Path) -> int:
    """Data records of a CSV file as Python's csv module reads it (an empty line is none)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(1 for row in csv.reader(handle) if row) - 1


def test_rows_read_are_the_files_records(tmp_path: Path) -> None:
    """On a messy synthetic extract (stray values, ragged rows, a BOM) and on files with quoted line
    breaks and empty lines, ``rows_read`` is each file's count of records, counted here independently."""
    from synthetic_data import generate_registry

    extract = tmp_path / "extract"
    generate_registry(extract, n_patients=600, seed=5, messy=0.05)
    _rewrite(extract / "relapses.csv", lambda lines: [lines[0], "", *lines[1:4], "", *lines[4:]])
    path = extract / "treatment_lines.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(",")
    fields[2] = '"Blincyto\n(second course)"'  # a regimen name with a line break, quoted
    path.write_text("\n".join([*lines[:5], ",".join(fields), *lines[6:]]) + "\n", encoding="utf-8")
    result = load_extract(extract, tmp_path / "db.duckdb", max_quarantine=1.0)
    read = {t.source_file: t.rows_read for t in result.tables if t.source_file}
    assert read == {name: _records(extract / name) for name in read}
    assert read["relapses.csv"] == len((extract / "relapses.csv").read_text().splitlines()) - 1 - 2
    assert read["treatment_lines.csv"] == len(lines) - 1
