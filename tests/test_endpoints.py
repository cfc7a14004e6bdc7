"""Endpoint rules of shared/spec/endpoints.md, one named case per rule and edge.

Each test writes a hand-made extract with the dates the rule talks about, loads it with the real
loader into a real DuckDB file, and reads the derived rows back. Expected values are worked out
by hand from the definitions (the day counts are calendar arithmetic on the dates shown).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from builders import CUTOFF, Patient, write_extract

from etl import load_extract


def _load(tmp_path: Path, *patients: Patient, cutoff: str = CUTOFF) -> duckdb.DuckDBPyConnection:
    write_extract(tmp_path / "extract", list(patients), cutoff=cutoff)
    load_extract(tmp_path / "extract", tmp_path / "db.duckdb")
    return duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)


def _row(con: duckdb.DuckDBPyConnection, pid: str, endpoint: str, origin: str) -> tuple | None:
    return con.execute(
        "SELECT origin_date, end_date, time_days, event_code, event_desc FROM time_to_event "
        "WHERE patient_id = ? AND endpoint = ? AND origin = ?",
        [pid, endpoint, origin],
    ).fetchone()


def _days(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def _remission(pid: str, **kw: str) -> Patient:
    return Patient(pid, **kw).line(1, "PED_INSPIRED", "2020-01-05").response(1, "2020-02-01", "CR", "NEG")


def test_os_from_diagnosis_death_and_censoring(tmp_path: Path) -> None:
    con = _load(tmp_path, _remission("DEAD1").dies("2021-03-01"), _remission("ALIVE1"))
    assert _row(con, "DEAD1", "OS", "DX") == (
        date(2020, 1, 1),
        date(2021, 3, 1),
        _days("2020-01-01", "2021-03-01"),
        1,
        "DEATH",
    )
    # Alive: censored at the last contact (2024-06-30, before the cut-off).
    assert _row(con, "ALIVE1", "OS", "DX")[1:] == (date(2024, 6, 30), _days("2020-01-01", "2024-06-30"), 0, "CENSORED")


def test_induction_failure_is_an_efs_event_at_time_zero(tmp_path: Path) -> None:
    p = (
        Patient("IF")
        .line(1, "HYPER_CVAD", "2020-01-05")
        .response(1, "2020-02-01", "NR")
        .response(1, "2020-03-01", "PR")
    )
    con = _load(tmp_path, p)
    assert _row(con, "IF", "EFS", "DX") == (date(2020, 1, 1), date(2020, 1, 1), 0, 1, "INDUCTION_FAILURE")
    assert _row(con, "IF", "RFS", "CR1") is None  # no remission, no CR1 origin
    flags = con.execute("SELECT induction_failure, cr1 FROM analysis_patients").fetchone()
    assert flags == (True, False)


def test_late_remission_after_induction_failure_still_fails_induction_when_on_line_two(tmp_path: Path) -> None:
    p = (
        Patient("IF2")
        .line(1, "HYPER_CVAD", "2020-01-05")
        .response(1, "2020-02-01", "NR")
        .line(2, "BLINATUMOMAB", "2020-02-10")
        .response(2, "2020-03-20", "CR")
    )
    con = _load(tmp_path, p)
    assert _row(con, "IF2", "EFS", "DX")[3:] == (1, "INDUCTION_FAILURE")
    # CR1 is the first remission on any line before a relapse: here the line-2 remission.
    assert _row(con, "IF2", "RFS", "CR1")[0] == date(2020, 3, 20)


def test_efs_without_assessments_is_not_induction_failure(tmp_path: Path) -> None:
    con = _load(tmp_path, Patient("NOASSESS").line(1, "PED_INSPIRED", "2020-01-05"))
    assert _row(con, "NOASSESS", "EFS", "DX")[3:] == (0, "CENSORED")


def test_efs_relapse_then_death(tmp_path: Path) -> None:
    con = _load(tmp_path, _remission("RD").relapse("2021-01-01").dies("2021-06-01"))
    assert _row(con, "RD", "EFS", "DX")[1:] == (date(2021, 1, 1), 366, 1, "RELAPSE")
    assert _row(con, "RD", "RFS", "CR1")[1:] == (date(2021, 1, 1), _days("2020-02-01", "2021-01-01"), 1, "RELAPSE")
    assert _row(con, "RD", "OS", "REL1")[1:] == (date(2021, 6, 1), _days("2021-01-01", "2021-06-01"), 1, "DEATH")


def test_relapse_and_death_on_the_same_day_counts_as_relapse(tmp_path: Path) -> None:
    con = _load(tmp_path, _remission("TIE").relapse("2021-01-01").dies("2021-01-01"))
    assert _row(con, "TIE", "EFS", "DX")[3:] == (1, "RELAPSE")
    assert _row(con, "TIE", "CIR", "CR1")[3:] == (1, "RELAPSE")
    assert _row(con, "TIE", "NRM", "CR1")[3:] == (2, "RELAPSE")


def test_cir_and_nrm_from_cr1_are_competing(tmp_path: Path) -> None:
    con = _load(
        tmp_path,
        _remission("REL").relapse("2021-01-01"),
        _remission("NRM").dies("2020-09-01", "INFECTION"),
        _remission("CENS"),
    )
    assert _row(con, "REL", "CIR", "CR1")[3:] == (1, "RELAPSE")
    assert _row(con, "REL", "NRM", "CR1")[3:] == (2, "RELAPSE")
    assert _row(con, "NRM", "CIR", "CR1")[3:] == (2, "DEATH_WITHOUT_RELAPSE")
    assert _row(con, "NRM", "NRM", "CR1")[3:] == (1, "DEATH_WITHOUT_RELAPSE")
    assert _row(con, "CENS", "CIR", "CR1")[3:] == (0, "CENSORED")
    assert _row(con, "CENS", "NRM", "CR1")[3:] == (0, "CENSORED")


def test_cr1_is_the_first_remission_before_the_first_relapse(tmp_path: Path) -> None:
    p = (
        Patient("CR1")
        .line(1, "PED_INSPIRED", "2020-01-05")
        .response(1, "2020-02-01", "PR")
        .response(1, "2020-03-01", "CRI")
        .relapse("2021-01-01")
        .line(2, "INOTUZUMAB", "2021-01-15")
        .response(2, "2021-02-20", "CR")
    )
    con = _load(tmp_path, p)
    assert _row(con, "CR1", "RFS", "CR1")[0] == date(2020, 3, 1)
    # mrd_eoi comes from the first line-1 remission assessment, which recorded no MRD.
    assert con.execute("SELECT mrd_eoi FROM analysis_patients").fetchone() == ("UNK",)


def test_events_after_the_cutoff_are_not_observed(tmp_path: Path) -> None:
    p = _remission("LATE", last_contact_date="2025-03-01").relapse("2025-02-01")
    p.dies("2025-03-01")
    con = _load(tmp_path, p, cutoff="2024-12-31")
    # Relapse and death after the cut-off did not happen (yet): censored at the cut-off.
    assert _row(con, "LATE", "OS", "DX")[1:] == (date(2024, 12, 31), _days("2020-01-01", "2024-12-31"), 0, "CENSORED")
    assert _row(con, "LATE", "EFS", "DX")[3:] == (0, "CENSORED")
    assert _row(con, "LATE", "OS", "REL1") is None
    assert con.execute("SELECT relapsed FROM analysis_patients").fetchone() == (False,)


def test_a_last_contact_earlier_than_a_recorded_relapse_extends_follow_up(tmp_path: Path) -> None:
    p = _remission("LC", last_contact_date="2020-06-01").relapse("2021-05-01")
    con = _load(tmp_path, p)
    assert _row(con, "LC", "OS", "DX")[1:] == (date(2021, 5, 1), _days("2020-01-01", "2021-05-01"), 0, "CENSORED")
    issue = con.execute(
        "SELECT table_name, column_name, issue FROM data_quality_issues WHERE patient_id = 'LC'"
    ).fetchone()
    assert issue[:2] == ("followup", "last_contact_date")
    assert "earlier than an event recorded on 2021-05-01" in issue[2]


def test_relapse_after_salvage_remission_is_an_efs_event_from_line_two(tmp_path: Path) -> None:
    p = (
        _remission("SALV")
        .relapse("2021-01-01")
        .line(2, "BLINATUMOMAB", "2021-01-10")
        .response(2, "2021-02-15", "CR")
        .relapse("2021-09-01")
    )
    con = _load(tmp_path, p)
    assert _row(con, "SALV", "EFS", "LINE2") == (date(2021, 1, 10), date(2021, 9, 1), 234, 1, "RELAPSE")


def test_salvage_failure_is_an_efs_event_at_time_zero_from_line_two(tmp_path: Path) -> None:
    p = _remission("SF").relapse("2021-01-01").line(2, "SALVAGE_CHEMO", "2021-01-10").response(2, "2021-02-15", "NR")
    con = _load(tmp_path, p)
    assert _row(con, "SF", "EFS", "LINE2")[1:] == (date(2021, 1, 10), 0, 1, "SALVAGE_FAILURE")
    assert con.execute("SELECT salvage_regimen FROM analysis_patients").fetchone() == ("SALVAGE_CHEMO",)


def test_line_two_without_a_remission_or_assessment_counts_only_death(tmp_path: Path) -> None:
    p = _remission("L2").relapse("2021-01-01").line(2, "INOTUZUMAB", "2021-01-10").relapse("2021-06-01")
    con = _load(tmp_path, p)
    assert _row(con, "L2", "EFS", "LINE2")[3:] == (0, "CENSORED")


_FU_AFTER_HCT = _days("2021-04-01", "2023-12-31")  # censored at last contact: 1004 days


@pytest.mark.parametrize(
    ("case", "transplant", "expected"),
    [
        pytest.param(
            "agvhd_III", {"agvhd_grade": "III", "agvhd_date": "2021-05-01"}, (30, 1, "AGVHD_3_4"), id="agvhd_III_counts"
        ),
        pytest.param(
            "agvhd_IV", {"agvhd_grade": "IV", "agvhd_date": "2021-04-11"}, (10, 1, "AGVHD_3_4"), id="agvhd_IV_counts"
        ),
        pytest.param(
            "agvhd_II",
            {"agvhd_grade": "II", "agvhd_date": "2021-05-01"},
            (_FU_AFTER_HCT, 0, "CENSORED"),
            id="agvhd_II_does_not",
        ),
        pytest.param(
            "cgvhd_mod",
            {"cgvhd_severity": "MODERATE", "cgvhd_date": "2022-01-01"},
            (275, 1, "CGVHD_MOD_SEV"),
            id="cgvhd_moderate_counts",
        ),
        pytest.param(
            "cgvhd_mild",
            {"cgvhd_severity": "MILD", "cgvhd_date": "2022-01-01"},
            (_FU_AFTER_HCT, 0, "CENSORED"),
            id="cgvhd_mild_does_not",
        ),
        pytest.param(
            "agvhd_nodate", {"agvhd_grade": "III"}, (_FU_AFTER_HCT, 0, "CENSORED"), id="agvhd_III_without_date_does_not"
        ),
        pytest.param(
            "agvhd_late",
            {"agvhd_grade": "III", "agvhd_date": "2025-02-01"},
            (_FU_AFTER_HCT, 0, "CENSORED"),
            id="gvhd_after_cutoff_does_not",
        ),
    ],
)
def test_gvhd_for_grfs(tmp_path: Path, case: str, transplant: dict[str, str], expected: tuple) -> None:
    p = _remission(case, last_contact_date="2023-12-31").transplant("2021-04-01", **transplant)
    con = _load(tmp_path, p)
    assert _row(con, case, "GRFS", "HCT1")[2:] == expected
    assert _row(con, case, "OS", "HCT1")[2:] == (_days("2021-04-01", "2023-12-31"), 0, "CENSORED")


def test_relapse_after_transplant_is_cir_from_hct_and_earlier_relapse_is_not(tmp_path: Path) -> None:
    p = (
        _remission("HCT")
        .relapse("2021-01-01")
        .line(2, "BLINATUMOMAB", "2021-01-10")
        .response(2, "2021-02-15", "CR")
        .transplant("2021-04-01")
        .relapse("2022-04-01")
    )
    q = _remission("HCTNRM").relapse("2021-01-01").transplant("2021-04-01").dies("2021-07-01", "GVHD")
    con = _load(tmp_path, p, q)
    assert _row(con, "HCT", "CIR", "HCT1")[2:] == (365, 1, "RELAPSE")
    assert _row(con, "HCT", "GRFS", "HCT1")[2:] == (365, 1, "RELAPSE")
    assert _row(con, "HCTNRM", "CIR", "HCT1")[2:] == (91, 2, "DEATH_WITHOUT_RELAPSE")
    assert _row(con, "HCTNRM", "NRM", "HCT1")[2:] == (91, 1, "DEATH_WITHOUT_RELAPSE")


def test_time_zero_rows(tmp_path: Path) -> None:
    # T0 died untreated; a load needs some treatment line (etl.guard), so a second patient has one.
    con = _load(tmp_path, Patient("T0", dx_date="2020-01-01").dies("2020-01-01"), _remission("OTHER"))
    assert _row(con, "T0", "OS", "DX") == (date(2020, 1, 1), date(2020, 1, 1), 0, 1, "DEATH")
    assert _row(con, "T0", "EFS", "DX")[2:] == (0, 1, "DEATH")


def test_death_after_the_cutoff_is_censored_at_the_cutoff(tmp_path: Path) -> None:
    p = _remission("DLATE", last_contact_date="2025-01-01")
    p.vital_status, p.death_date = "DEAD", "2025-02-01"
    con = _load(tmp_path, p)
    assert _row(con, "DLATE", "OS", "DX")[1:] == (date(2024, 12, 31), _days("2020-01-01", "2024-12-31"), 0, "CENSORED")


def test_origins_exist_only_when_observed(tmp_path: Path) -> None:
    con = _load(tmp_path, _remission("ONLYCR"))
    origins = {r[0] for r in con.execute("SELECT DISTINCT origin FROM time_to_event").fetchall()}
    assert origins == {"DX", "CR1"}


@pytest.mark.parametrize(
    ("patient", "reason"),
    [
        pytest.param(Patient("X", vital_status="DEAD"), "dead without death date", id="dead_without_date"),
        pytest.param(Patient("X").dies("2019-06-01"), "death before diagnosis", id="death_before_dx"),
        pytest.param(Patient("X").relapse("2019-12-01"), "event before diagnosis", id="relapse_before_dx"),
        pytest.param(Patient("X").line(1, "PED_INSPIRED", "2019-12-20"), "event before diagnosis", id="line_before_dx"),
        pytest.param(
            Patient("X", last_contact_date="2019-06-01"), "last contact before diagnosis", id="last_contact_before_dx"
        ),
        pytest.param(
            Patient("X").relapse("2021-06-01").dies("2021-01-01"), "event after death", id="relapse_after_death"
        ),
        pytest.param(
            Patient("X").transplant("2021-06-01").dies("2021-01-01"), "event after death", id="transplant_after_death"
        ),
        pytest.param(
            Patient("X", dx_date="2025-03-01", last_contact_date="2025-04-01"),
            "diagnosis after data cut-off",
            id="dx_after_cutoff",
        ),
    ],
)
def test_contradictory_patients_are_excluded_with_the_reason(tmp_path: Path, patient: Patient, reason: str) -> None:
    con = _load(tmp_path, patient, _remission("OK"))
    assert con.execute("SELECT excluded_reason FROM analysis_patients WHERE patient_id = 'X'").fetchone() == (reason,)
    assert con.execute("SELECT count(*) FROM time_to_event WHERE patient_id = 'X'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM stg_patients WHERE patient_id = 'X'").fetchone() == (1,)
    issue = con.execute(
        "SELECT issue FROM data_quality_issues WHERE patient_id = 'X' AND issue LIKE 'excluded%'"
    ).fetchone()
    assert reason in issue[0]
    assert con.execute("SELECT excluded_reason FROM analysis_patients WHERE patient_id = 'OK'").fetchone() == (None,)


def test_analysis_patients_columns_and_age_groups(tmp_path: Path) -> None:
    ages = {
        "A14": "14.9",
        "A15": "15",
        "A19": "19.99",
        "A20": "20",
        "A29": "29",
        "A30": "30",
        "A39": "39.5",
        "A40": "40",
        "ANA": "",
    }
    con = _load(tmp_path, *[_remission(pid, age_at_dx=age) for pid, age in ages.items()])
    got = dict(con.execute("SELECT patient_id, age_group FROM analysis_patients").fetchall())
    assert got == {
        "A14": "<15",
        "A15": "15-19",
        "A19": "15-19",
        "A20": "20-24",
        "A29": "25-29",
        "A30": "30-39",
        "A39": "30-39",
        "A40": "40+",
        "ANA": "UNK",
    }
    cols = [r[0] for r in con.execute("DESCRIBE analysis_patients").fetchall()]
    spec_cols = [
        "patient_id",
        "sex",
        "race",
        "ethnicity",
        "center_id",
        "dx_date",
        "dx_year",
        "age_at_dx",
        "age_group",
        "lineage",
        "subtype",
        "wbc_at_dx",
        "cns_status",
        "frontline_regimen",
        "salvage_regimen",
        "induction_failure",
        "cr1",
        "mrd_eoi",
        "relapsed",
        "hct",
        "excluded_reason",
    ]
    # The columns endpoints.md lists come first, in its order; date columns for timing analyses follow.
    assert cols[: len(spec_cols)] == spec_cols
    row = con.execute(
        "SELECT dx_year, frontline_regimen, salvage_regimen, cr1, mrd_eoi, relapsed, hct "
        "FROM analysis_patients WHERE patient_id = 'A20'"
    ).fetchone()
    assert row == (2020, "PED_INSPIRED", "NONE", True, "NEG", False, False)


def test_custom_age_bands(tmp_path: Path) -> None:
    write_extract(tmp_path / "e", [_remission("A", age_at_dx="17"), _remission("B", age_at_dx="45")])
    load_extract(tmp_path / "e", tmp_path / "db.duckdb", age_breaks=(18, 40))
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert dict(con.execute("SELECT patient_id, age_group FROM analysis_patients").fetchall()) == {
        "A": "<18",
        "B": "40+",
    }
