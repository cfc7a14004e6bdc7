"""Bad input in the adverse_events table (format 1.1; registry-extract.md), one case per class.

As for the other tables (``test_load_bad_input.py``): rows are conserved (read = loaded +
quarantined), a quarantined row's reason names its column and value, an unknown code keeps the row
with a warning, a contradiction (a toxicity before its line's start or after death) excludes the
patient from endpoints with the reason, and a file that cannot be used stops the load naming it.
Extracts of format 1, without the table, still load.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from builders import Patient, write_extract

from ayaall.errors import UserError
from etl import load_extract

HEADER = "patient_id,line_no,event,grade,onset_date,resolution_date,term"


def _base(folder: Path) -> Path:
    patients = [
        Patient(f"P{i}")
        .line(1, "PED_INSPIRED", "2020-01-05")
        .response(1, "2020-02-01", "CR", "NEG")
        .toxicity(1, "PANCREATITIS", "3", "2020-02-10", resolution_date="2020-02-20", term="Pancreatitis")
        for i in range(1, 4)
    ]
    return write_extract(folder, patients)


def _append(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")


def _load(tmp_path: Path, extract: Path) -> duckdb.DuckDBPyConnection:
    # One bad row among four is 25% of the table: these cases pin row-level handling, so the share a load
    # may quarantine (etl.guard, tests/test_load_guard.py) is lifted.
    load_extract(extract, tmp_path / "db.duckdb", max_quarantine=1.0)
    return duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)


def _report(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    return con.execute(
        "SELECT rows_read, rows_loaded, rows_quarantined FROM load_report WHERE table_name = 'adverse_events'"
    ).fetchone()


QUARANTINE_CASES = [
    pytest.param("P1,1,CRS,2,,,", "onset_date", "onset_date is empty; it is a required value", id="missing_onset"),
    pytest.param("P1,1,CRS,2,10/03/2020,,", "onset_date", "'10/03/2020' is not an ISO date", id="unparseable_onset"),
    pytest.param("P1,two,CRS,2,2020-03-10,,", "line_no", "'two' is not a whole number", id="unparseable_line"),
    pytest.param("P1,1,,2,2020-03-10,,", "event", "event is empty; it is a required value", id="missing_event"),
    pytest.param("P1,7,CRS,2,2020-03-10,,", "line_no", "no loaded treatment line 7 for patient P1", id="orphan_line"),
    pytest.param(
        "NOBODY,1,CRS,2,2020-03-10,,", "line_no", "no loaded treatment line 1 for patient NOBODY", id="orphan_patient"
    ),
    pytest.param("P1,1,CRS,2,2020-03-10", None, "fewer fields than the header", id="ragged_row"),
]


@pytest.mark.parametrize(("line", "column", "reason"), QUARANTINE_CASES)
def test_row_defects_are_quarantined_with_a_reason(tmp_path: Path, line: str, column: str | None, reason: str) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "adverse_events.csv", line)
    con = _load(tmp_path, extract)
    read, loaded, quarantined = _report(con)
    assert (read, loaded, quarantined) == (4, 3, 1)
    row = con.execute("SELECT table_name, source_line, column_name, reason, raw_record FROM quarantine").fetchone()
    assert row[:3] == ("adverse_events", 5, column)
    assert reason in row[3]
    assert line.split(",")[0] in row[4]


def test_rows_that_differ_only_in_grade_are_conflicting_and_all_quarantined(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "adverse_events.csv", "P2,1,PANCREATITIS,4,2020-02-10,2020-02-20,Pancreatitis")
    con = _load(tmp_path, extract)
    assert _report(con) == (4, 2, 2)
    reasons = con.execute("SELECT source_line, reason FROM quarantine ORDER BY source_line").fetchall()
    assert [r[0] for r in reasons] == [3, 5]
    key = "patient_id=P2, line_no=1, event=PANCREATITIS, onset_date=2020-02-10 (lines 3, 5)"
    assert all(f"conflicting rows for {key}" in r[1] for r in reasons)
    assert con.execute("SELECT count(*) FROM stg_adverse_events WHERE patient_id = 'P2'").fetchone() == (0,)


def test_an_exact_duplicate_keeps_the_first_row(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "adverse_events.csv", "P3,1,PANCREATITIS,3,2020-02-10,2020-02-20,Pancreatitis")
    con = _load(tmp_path, extract)
    assert _report(con) == (4, 3, 1)
    assert con.execute("SELECT source_line, reason FROM quarantine").fetchone() == (
        5,
        "exact duplicate of line 4 (patient_id=P3, line_no=1, event=PANCREATITIS, onset_date=2020-02-10), "
        "which was loaded",
    )


def test_two_episodes_of_the_same_event_on_different_days_both_load(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "adverse_events.csv", "P1,1,PANCREATITIS,2,2020-05-10,,")
    con = _load(tmp_path, extract)
    assert _report(con) == (4, 4, 0)


WARNING_CASES = [
    pytest.param(
        "P1,1,MUCOSITIS,2,2020-03-10,,",
        "event",
        "'MUCOSITIS' is not one of the codes CRS, ICANS, NEUROTOXICITY, VOD_SOS, INFECTION, "
        "FEBRILE_NEUTROPENIA, TLS, PANCREATITIS, ...; loaded as OTHER",
        ("OTHER", "2"),
        id="unknown_event_to_other",
    ),
    pytest.param(
        "P1,1,CRS,G3,2020-03-10,,",
        "grade",
        "'G3' is not one of the codes 1, 2, 3, 4, 5, UNK; loaded as UNK",
        ("CRS", "UNK"),
        id="unknown_grade_to_unk",
    ),
    pytest.param(
        "P1,1,CRS,3,2020-03-10,2020/03/20,",
        "resolution_date",
        "'2020/03/20' is not an ISO date (YYYY-MM-DD); loaded as missing",
        ("CRS", "3"),
        id="unparseable_resolution",
    ),
    pytest.param(
        "P1,1,CRS,2,2020-03-10,2020-03-01,",
        "resolution_date",
        "resolution_date 2020-03-01 is before onset_date 2020-03-10; kept as given",
        ("CRS", "2"),
        id="resolution_before_onset",
    ),
    pytest.param(
        "P1,1,INFECTION,5,2020-03-10,,Sepsis",
        "grade",
        "grade 5 (fatal) INFECTION on 2020-03-10, but the follow-up records the patient ALIVE",
        ("INFECTION", "5"),
        id="fatal_but_alive",
    ),
    pytest.param(
        "P1,1,CRS,3,2024-08-01,,",
        "onset_date",
        "onset_date 2024-08-01 is after the end of follow-up on 2024-06-30",
        ("CRS", "3"),
        id="after_end_of_follow_up",
    ),
]


@pytest.mark.parametrize(("line", "column", "issue", "staged"), WARNING_CASES)
def test_unknown_codes_and_odd_values_keep_the_row_with_a_warning(
    tmp_path: Path, line: str, column: str, issue: str, staged: tuple[str, str]
) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "adverse_events.csv", line)
    con = _load(tmp_path, extract)
    assert _report(con) == (4, 4, 0)
    rows = con.execute(
        "SELECT source_line, column_name, issue FROM data_quality_issues WHERE table_name = 'adverse_events'"
    ).fetchall()
    assert len(rows) == 1
    assert rows[0][:2] == (5, column)
    assert issue in rows[0][2]
    assert con.execute("SELECT event, grade FROM stg_adverse_events WHERE source_line = 5").fetchone() == staged
    # A warning never excludes the patient.
    assert con.execute("SELECT excluded_reason FROM analysis_patients WHERE patient_id = 'P1'").fetchone() == (None,)


def test_codes_in_any_case_with_spaces_are_accepted_silently(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    _append(extract / "adverse_events.csv", "P1,1, vod_sos , 4 ,2020-03-10,,")
    con = _load(tmp_path, extract)
    assert con.execute("SELECT event, grade FROM stg_adverse_events WHERE source_line = 5").fetchone() == (
        "VOD_SOS",
        "4",
    )
    assert con.execute("SELECT count(*) FROM data_quality_issues WHERE table_name = 'adverse_events'").fetchone() == (
        0,
    )


@pytest.mark.parametrize(
    ("patient", "reason", "detail"),
    [
        pytest.param(
            Patient("X")
            .line(1, "PED_INSPIRED", "2020-01-05")
            .line(2, "CAR_T_CD19", "2021-03-01")
            # attributed to line 2, dated while line 1 was given
            .toxicity(2, "CRS", "2", "2021-02-20"),
            "toxicity before its line start",
            "a CRS attributed to line 2 dated 2021-02-20 is before that line's start on 2021-03-01",
            id="toxicity_before_its_line_start",
        ),
        pytest.param(
            Patient("X")
            .line(1, "PED_INSPIRED", "2020-01-05")
            .toxicity(1, "INFECTION", "3", "2021-02-01")
            .dies("2021-01-01", "INFECTION"),
            "event after death",
            "a toxicity dated 2021-02-01 is after the death on 2021-01-01",
            id="toxicity_after_death",
        ),
    ],
)
def test_contradictions_exclude_the_patient_with_the_reason(
    tmp_path: Path, patient: Patient, reason: str, detail: str
) -> None:
    ok = Patient("OK").line(1, "PED_INSPIRED", "2020-01-05").toxicity(1, "CRS", "1", "2020-01-05")
    write_extract(tmp_path / "e", [patient, ok])
    con = _load(tmp_path, tmp_path / "e")
    assert con.execute("SELECT excluded_reason FROM analysis_patients WHERE patient_id = 'X'").fetchone() == (reason,)
    assert con.execute("SELECT detail FROM int_exclusions WHERE patient_id = 'X'").fetchone() == (detail,)
    assert con.execute("SELECT count(*) FROM time_to_event WHERE patient_id = 'X'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM stg_adverse_events WHERE patient_id = 'X'").fetchone() == (1,)
    assert con.execute("SELECT excluded_reason FROM analysis_patients WHERE patient_id = 'OK'").fetchone() == (None,)


def test_a_fatal_event_on_the_day_of_death_is_no_contradiction(tmp_path: Path) -> None:
    p = Patient("F").line(1, "PED_INSPIRED", "2020-01-05").toxicity(1, "INFECTION", "5", "2020-02-01")
    write_extract(tmp_path / "e", [p.dies("2020-02-01", "INFECTION")])
    con = _load(tmp_path, tmp_path / "e")
    assert con.execute("SELECT excluded_reason FROM analysis_patients").fetchone() == (None,)
    assert con.execute("SELECT count(*) FROM data_quality_issues").fetchone() == (0,)


def test_an_extract_of_format_1_without_the_table_loads(tmp_path: Path) -> None:
    extract = write_extract(tmp_path / "e", [Patient("P1").line(1, "PED_INSPIRED", "2020-01-05")])
    assert json.loads((extract / "manifest.json").read_text())["version"] == 1
    assert not (extract / "adverse_events.csv").exists()
    con = _load(tmp_path, extract)
    assert con.execute(
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined FROM load_report "
        "WHERE table_name = 'adverse_events'"
    ).fetchone() == (None, 0, 0, 0)
    assert con.execute("SELECT count(*) FROM stg_adverse_events").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM time_to_event").fetchone()[0] > 0


@pytest.mark.parametrize("version", [1, 1.1])
def test_both_format_versions_are_read(tmp_path: Path, version: float) -> None:
    extract = _base(tmp_path / "e")
    manifest = json.loads((extract / "manifest.json").read_text())
    (extract / "manifest.json").write_text(json.dumps(manifest | {"version": version}))
    con = _load(tmp_path, extract)
    assert _report(con) == (3, 3, 0)


@pytest.mark.parametrize("version", [2, "1.1", True])
def test_another_format_version_stops_the_load(tmp_path: Path, version: object) -> None:
    extract = _base(tmp_path / "e")
    manifest = json.loads((extract / "manifest.json").read_text())
    (extract / "manifest.json").write_text(json.dumps(manifest | {"version": version}))
    with pytest.raises(UserError, match=r"this loader reads 'aya-all-registry-extract' version 1 or 1\.1"):
        load_extract(extract, tmp_path / "db.duckdb")
    assert not (tmp_path / "db.duckdb").exists()


def test_a_missing_required_column_stops_the_load_naming_the_file(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    path = extract / "adverse_events.csv"
    path.write_text(path.read_text().replace("onset_date", "start", 1))
    with pytest.raises(UserError, match=r"adverse_events\.csv lacks the required column onset_date"):
        load_extract(extract, tmp_path / "db.duckdb")


def test_the_header_written_is_the_contract(tmp_path: Path) -> None:
    extract = _base(tmp_path / "e")
    assert (extract / "adverse_events.csv").read_text().splitlines()[0] == HEADER
