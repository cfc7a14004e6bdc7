"""Bad input (registry-extract.md, "What the loader does with bad input"): one case per class.

Row-level defects: rows are conserved (read = loaded + quarantined) and the quarantine reason or
the warning names the column and the value. File-level defects: the load stops with one sentence
naming the file, and the previous database is left exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from builders import Patient, write_extract

from ayaall.errors import UserError
from etl import load_extract


def _base(folder: Path) -> Path:
    patients = [
        Patient(f"P{i}").line(1, "PED_INSPIRED", "2020-01-05").response(1, "2020-02-01", "CR", "NEG")
        for i in range(1, 6)
    ]
    return write_extract(folder, patients)


def _append(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")


def _report(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, int]:
    return con.execute(
        "SELECT rows_read, rows_loaded, rows_quarantined FROM load_report WHERE table_name = ?", [table]
    ).fetchone()


def _load(tmp_path: Path, extract: Path) -> duckdb.DuckDBPyConnection:
    # One bad row among a handful is a large share: these cases pin row-level handling, so the share a
    # load may quarantine (etl.guard, tests/test_load_guard.py) is lifted.
    load_extract(extract, tmp_path / "db.duckdb", max_quarantine=1.0)
    return duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)


QUARANTINE_CASES = [
    pytest.param("diagnoses", "P9X,,22,B,B_OTHER,10,CNS1", "dx_date", "dx_date is empty", id="missing_required"),
    pytest.param(
        "diagnoses",
        "P9X,31/12/2019,22,B,B_OTHER,10,CNS1",
        "dx_date",
        "'31/12/2019' is not an ISO date",
        id="unparseable_required_date",
    ),
    pytest.param(
        "diagnoses",
        "P9X,2019-13-45,22,B,B_OTHER,10,CNS1",
        "dx_date",
        "'2019-13-45' is not an ISO date",
        id="impossible_date",
    ),
    pytest.param(
        "treatment_lines",
        "P1,one,BLINATUMOMAB,2021-01-01,",
        "line_no",
        "'one' is not a whole number",
        id="unparseable_integer",
    ),
    pytest.param(
        "followup",
        "P9X,2021-01-01,MAYBE,,",
        "vital_status",
        "'MAYBE' is not one of the codes ALIVE, DEAD",
        id="unknown_required_code",
    ),
    pytest.param(
        "treatment_lines",
        "NOBODY,1,PED_INSPIRED,2020-01-05,",
        "patient_id",
        "NOBODY is not in patients",
        id="orphan_patient",
    ),
    pytest.param(
        "responses",
        "P1,7,2020-05-01,CR,NEG,",
        "line_no",
        "no loaded treatment line 7 for patient P1",
        id="orphan_response",
    ),
    pytest.param(
        "patients", "P6,M,WHITE,NON_HISPANIC,C1,EXTRA", None, "more fields than the header", id="ragged_too_many"
    ),
    pytest.param("patients", "P6,M", None, "fewer fields than the header", id="ragged_too_few"),
]


@pytest.mark.parametrize(("table", "line", "column", "reason"), QUARANTINE_CASES)
def test_row_defects_are_quarantined_with_a_reason(
    tmp_path: Path, table: str, line: str, column: str | None, reason: str
) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / f"{table}.csv", line)
    con = _load(tmp_path, extract)
    read, loaded, quarantined = _report(con, table)
    assert read == loaded + quarantined
    assert quarantined == 1
    row = con.execute("SELECT source_file, source_line, column_name, reason, raw_record FROM quarantine").fetchone()
    n_lines = len((extract / f"{table}.csv").read_text().splitlines())
    assert row[0] == f"{table}.csv"
    assert row[1] == n_lines  # the appended line is the file's last
    assert row[2] == column
    assert reason in row[3]
    assert line.split(",")[0] in row[4]


def test_exact_duplicate_keeps_the_first_row(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    first = (extract / "patients.csv").read_text().splitlines()[1]
    _append(extract / "patients.csv", first)
    con = _load(tmp_path, extract)
    assert _report(con, "patients") == (6, 5, 1)
    reason = con.execute("SELECT source_line, reason FROM quarantine").fetchone()
    assert reason == (7, "exact duplicate of line 2 (patient_id=P1), which was loaded")


def test_conflicting_duplicates_are_all_quarantined(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "diagnoses.csv", "P2,2020-03-03,31,T,ETP,5,CNS1")
    con = _load(tmp_path, extract)
    assert _report(con, "diagnoses") == (6, 4, 2)
    reasons = con.execute("SELECT source_line, reason FROM quarantine ORDER BY source_line").fetchall()
    assert [r[0] for r in reasons] == [3, 7]
    assert all("conflicting rows for patient_id=P2 (lines 3, 7)" in r[1] for r in reasons)
    # The patient has no loaded diagnosis, so is excluded from endpoints with that reason.
    assert con.execute("SELECT excluded_reason FROM analysis_patients WHERE patient_id = 'P2'").fetchone() == (
        "no diagnosis",
    )


WARNING_CASES = [
    pytest.param(
        "patients",
        "P6,X,WHITE,NON_HISPANIC,C1",
        "sex",
        "'X' is not one of the codes M, F, U; loaded as missing",
        id="unknown_code_to_missing",
    ),
    pytest.param(
        "diagnoses", "P1B,2020-01-01,22,B,PH-LIKE?,10,CNS1", "subtype", "loaded as UNK", id="unknown_code_to_unk"
    ),
    pytest.param(
        "diagnoses",
        'P1B,2020-01-01,22,B,B_OTHER,"12,5",CNS1',
        "wbc_at_dx",
        "'12,5' is not a number of at least 0; loaded as missing",
        id="unparseable_optional_number",
    ),
    pytest.param(
        "diagnoses",
        "P1B,2020-01-01,150,B,B_OTHER,10,CNS1",
        "age_at_dx",
        "'150' is not a number from 0 to 120",
        id="out_of_range",
    ),
    pytest.param(
        "treatment_lines",
        "P1,2,Mystery drug,2021-01-01,",
        "regimen",
        "'Mystery drug' is not one of the codes",
        id="unknown_regimen_to_other",
    ),
    pytest.param(
        "treatment_lines",
        "P1,2,BLINATUMOMAB,2021-01-01,2021/02/01",
        "end_date",
        "'2021/02/01' is not an ISO date",
        id="unparseable_optional_date",
    ),
]


@pytest.mark.parametrize(("table", "line", "column", "issue"), WARNING_CASES)
def test_unknown_or_unparseable_optional_values_keep_the_row_with_a_warning(
    tmp_path: Path, table: str, line: str, column: str, issue: str
) -> None:
    extract = _base(tmp_path / "e")
    if line.startswith("P1B"):  # a diagnosis for a new patient P1B
        _append(extract / "patients.csv", "P1B,F,WHITE,NON_HISPANIC,C1")
    _append(extract / f"{table}.csv", line)
    con = _load(tmp_path, extract)
    read, loaded, quarantined = _report(con, table)
    assert (read, quarantined) == (loaded, 0)
    rows = con.execute(
        "SELECT table_name, column_name, raw_value, issue FROM data_quality_issues WHERE column_name = ?", [column]
    ).fetchall()
    assert len(rows) == 1
    assert rows[0][0] == table
    assert issue in rows[0][3]


def test_unknown_regimen_becomes_other_and_local_names_are_mapped(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    (extract / "regimen_map.csv").write_text("local_name,regimen\nBlincyto,BLINATUMOMAB\n")
    _append(extract / "relapses.csv", "P1,2021-01-01,BM", "P2,2021-01-01,BM")
    _append(extract / "treatment_lines.csv", "P1,2, blincyto ,2021-01-10,", "P2,2,Mystery drug,2021-01-10,")
    con = _load(tmp_path, extract)
    got = dict(
        con.execute(
            "SELECT patient_id, salvage_regimen FROM analysis_patients WHERE patient_id IN ('P1','P2')"
        ).fetchall()
    )
    assert got == {"P1": "BLINATUMOMAB", "P2": "OTHER"}


def test_codes_in_any_case_with_spaces_are_accepted_silently(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "patients.csv", "P6,  f ,white,non_hispanic,C1")
    con = _load(tmp_path, extract)
    assert con.execute("SELECT sex, race, ethnicity FROM stg_patients WHERE patient_id = 'P6'").fetchone() == (
        "F",
        "WHITE",
        "NON_HISPANIC",
    )
    assert con.execute(
        "SELECT count(*) FROM data_quality_issues WHERE table_name = 'patients' AND column_name IS NOT NULL"
    ).fetchone() == (0,)


def test_extra_columns_are_kept_raw_and_reported(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    path = extract / "patients.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",favourite_colour"] + [ln + ",blue" for ln in lines[1:]]) + "\n")
    con = _load(tmp_path, extract)
    assert con.execute("SELECT count(*) FROM raw_patients WHERE favourite_colour = 'blue'").fetchone() == (5,)
    assert "favourite_colour" not in [r[0] for r in con.execute("DESCRIBE stg_patients").fetchall()]
    assert con.execute("SELECT extra_columns FROM load_report WHERE table_name = 'patients'").fetchone() == (
        "favourite_colour",
    )


def test_a_bom_is_accepted(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    path = extract / "patients.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    con = _load(tmp_path, extract)
    assert _report(con, "patients") == (5, 5, 0)


def test_alive_with_a_death_date_is_kept_with_a_warning_and_the_death_ignored(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "patients.csv", "P6,F,WHITE,NON_HISPANIC,C1")
    _append(extract / "diagnoses.csv", "P6,2020-01-01,22,B,B_OTHER,10,CNS1")
    _append(extract / "followup.csv", "P6,2023-01-01,ALIVE,2022-01-01,")
    con = _load(tmp_path, extract)
    assert con.execute(
        "SELECT event_code FROM time_to_event WHERE patient_id = 'P6' AND endpoint = 'OS'"
    ).fetchone() == (0,)
    issue = con.execute("SELECT issue FROM data_quality_issues WHERE patient_id = 'P6'").fetchone()[0]
    assert "recorded ALIVE" in issue


# --- file-level defects: the load stops, the previous database stays intact -------------------


def _corrupt_manifest_missing(extract: Path) -> None:
    (extract / "manifest.json").unlink()


def _corrupt_manifest_json(extract: Path) -> None:
    (extract / "manifest.json").write_text("{not json")


def _corrupt_cutoff(extract: Path) -> None:
    m = json.loads((extract / "manifest.json").read_text())
    m["data_cutoff"] = "30/06/2026"
    (extract / "manifest.json").write_text(json.dumps(m))


def _corrupt_missing_file(extract: Path) -> None:
    (extract / "followup.csv").unlink()


def _corrupt_missing_column(extract: Path) -> None:
    path = extract / "diagnoses.csv"
    text = path.read_text().replace("dx_date", "diagnosis_date", 1)
    path.write_text(text)


def _corrupt_encoding(extract: Path) -> None:
    with (extract / "patients.csv").open("ab") as handle:
        handle.write("P7,F,WHITE,NON_HISPANIC,Zürich\n".encode("latin-1"))


def _corrupt_binary(extract: Path) -> None:
    (extract / "relapses.csv").write_bytes(b"PK\x03\x04\x00\x00binary zip data")


def _corrupt_both_formats(extract: Path) -> None:
    pd.read_csv(extract / "relapses.csv").to_parquet(extract / "relapses.parquet")


def _corrupt_line_endings(extract: Path) -> None:
    path = extract / "patients.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n", 2))


FATAL_CASES = [
    pytest.param(
        _corrupt_line_endings,
        "patients.csv could not be read as CSV (its line endings are mixed: 2 lines end with CR LF and 4 with LF",
        id="mixed_line_endings",
    ),
    pytest.param(_corrupt_manifest_missing, "manifest.json is missing", id="no_manifest"),
    pytest.param(_corrupt_manifest_json, "manifest.json is not valid UTF-8 JSON", id="bad_manifest"),
    pytest.param(_corrupt_cutoff, "data_cutoff '30/06/2026' is not an ISO date", id="bad_cutoff"),
    pytest.param(_corrupt_missing_file, "followup.csv is missing; followup is a required table", id="missing_table"),
    pytest.param(_corrupt_missing_column, "diagnoses.csv lacks the required column dx_date", id="missing_column"),
    pytest.param(_corrupt_encoding, "patients.csv is not UTF-8 text (first bad byte on line 7)", id="wrong_encoding"),
    pytest.param(_corrupt_binary, "relapses.csv is not a CSV text file", id="not_csv"),
    pytest.param(_corrupt_both_formats, "relapses is given twice", id="csv_and_parquet"),
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("corrupt", "message"), FATAL_CASES)
def test_unreadable_files_stop_the_load_and_leave_the_previous_database_intact(
    tmp_path: Path, corrupt, message: str
) -> None:
    good = _base(tmp_path / "good")
    db = tmp_path / "db.duckdb"
    load_extract(good, db)
    before = _digest(db)
    bad = _base(tmp_path / "bad")
    corrupt(bad)
    with pytest.raises(UserError, match=None) as info:
        load_extract(bad, db)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "db.duckdb", "good"]  # no temporary left


def test_a_file_that_is_not_an_aya_all_database_is_never_overwritten(tmp_path: Path) -> None:
    precious = tmp_path / "thesis.duckdb"
    precious.write_text("my thesis")
    with pytest.raises(UserError, match="is not a DuckDB database"):
        load_extract(_base(tmp_path / "e"), precious)
    assert precious.read_text() == "my thesis"


def test_the_command_line_prints_one_sentence_and_no_traceback(tmp_path: Path) -> None:
    bad = _base(tmp_path / "bad")
    _corrupt_missing_column(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "ayaall", "load", str(bad), "--db", str(tmp_path / "db.duckdb")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "lacks the required column dx_date" in proc.stderr


def test_loading_the_same_extract_twice_gives_the_same_tables(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "patients.csv", "P6,X,WHITE,NON_HISPANIC,C1", "P1,F,WHITE,NON_HISPANIC,C1")
    tables = ["analysis_patients", "time_to_event", "quarantine", "data_quality_issues", "load_report", "stg_patients"]
    snapshots = []
    for name in ("a.duckdb", "b.duckdb"):
        load_extract(extract, tmp_path / name)
        con = duckdb.connect(str(tmp_path / name), read_only=True)
        snapshots.append({t: con.execute(f"SELECT * FROM {t}").fetchall() for t in tables})
        con.close()
    assert snapshots[0] == snapshots[1]


def test_reloading_keeps_the_load_history(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    db = tmp_path / "db.duckdb"
    load_extract(extract, db)
    second = load_extract(extract, db)
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("SELECT load_id, status, file_checksums FROM load_runs ORDER BY load_id").fetchall()
    assert [r[0] for r in runs][-1] == second.load_id
    assert len(runs) == 2
    assert all(r[1] == "succeeded" for r in runs)
    assert json.loads(runs[0][2])["patients.csv"] == _digest(extract / "patients.csv")


def test_parquet_tables_load_like_csv(tmp_path: Path) -> None:
    csv_extract = _base(tmp_path / "csv")
    pq_extract = _base(tmp_path / "pq")
    for table in ("patients", "diagnoses", "followup"):
        frame = pd.read_csv(pq_extract / f"{table}.csv", dtype=str, keep_default_na=False)
        (pq_extract / f"{table}.csv").unlink()
        frame.to_parquet(pq_extract / f"{table}.parquet", index=False)
    results = []
    for extract, name in ((csv_extract, "c.duckdb"), (pq_extract, "p.duckdb")):
        load_extract(extract, tmp_path / name)
        con = duckdb.connect(str(tmp_path / name), read_only=True)
        results.append(con.execute("SELECT * FROM time_to_event").fetchall())
        con.close()
    assert results[0] == results[1]
    assert len(results[0]) > 0
