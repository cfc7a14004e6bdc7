"""The GVHD endpoints of format 1.1 (endpoints.md): AGVHD24, AGVHD34 and CGVHD from HCT1.

Event: the GVHD of the endpoint's grade at its onset date; competing (event_code 2): the first
relapse after the transplant or death, whichever comes first without that GVHD before it; a GVHD of
the right grade without an onset date gives no row, with a data-quality warning. Each case writes
one hand-made patient, loads it with the real loader and reads the rows back; expected day counts
are calendar arithmetic on the dates shown.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from builders import Patient, write_extract

from etl import load_extract

HCT = "2021-04-01"
LAST_CONTACT = "2023-12-31"
FOLLOW_UP = 1004  # days from HCT to the last contact
GVHD_ENDPOINTS = ("AGVHD24", "AGVHD34", "CGVHD")


def _patient(pid: str) -> Patient:
    return (
        Patient(pid, last_contact_date=LAST_CONTACT)
        .line(1, "PED_INSPIRED", "2020-01-05")
        .response(1, "2020-02-01", "CR", "NEG")
    )


def _rows(tmp_path: Path, patient: Patient) -> tuple[dict[str, tuple], duckdb.DuckDBPyConnection]:
    write_extract(tmp_path / "extract", [patient])
    load_extract(tmp_path / "extract", tmp_path / "db.duckdb")
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT endpoint, time_days, event_code, event_desc FROM time_to_event "
        "WHERE origin = 'HCT1' AND endpoint IN ('AGVHD24', 'AGVHD34', 'CGVHD')"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}, con


CENSORED = (FOLLOW_UP, 0, "CENSORED")

CASES = [
    pytest.param(
        _patient("A2").transplant(HCT, agvhd_grade="II", agvhd_date="2021-05-01"),
        {"AGVHD24": (30, 1, "AGVHD_2_4"), "AGVHD34": CENSORED, "CGVHD": CENSORED},
        id="agvhd_II_counts_for_II_IV_only",
    ),
    pytest.param(
        _patient("A3").transplant(HCT, agvhd_grade="III", agvhd_date="2021-04-21"),
        {"AGVHD24": (20, 1, "AGVHD_2_4"), "AGVHD34": (20, 1, "AGVHD_3_4"), "CGVHD": CENSORED},
        id="agvhd_III_counts_for_both",
    ),
    pytest.param(
        _patient("A0").transplant(HCT, agvhd_grade="IV", agvhd_date=HCT),
        {"AGVHD24": (0, 1, "AGVHD_2_4"), "AGVHD34": (0, 1, "AGVHD_3_4"), "CGVHD": CENSORED},
        id="gvhd_on_the_day_of_transplant_at_time_0",
    ),
    pytest.param(
        _patient("I").transplant(
            HCT, agvhd_grade="I", agvhd_date="2021-05-01", cgvhd_severity="MILD", cgvhd_date="2022-01-01"
        ),
        {"AGVHD24": CENSORED, "AGVHD34": CENSORED, "CGVHD": CENSORED},
        id="grade_I_and_mild_chronic_do_not_count",
    ),
    pytest.param(
        _patient("C").transplant(HCT, cgvhd_severity="SEVERE", cgvhd_date="2022-01-01"),
        {"AGVHD24": CENSORED, "AGVHD34": CENSORED, "CGVHD": (275, 1, "CGVHD_MOD_SEV")},
        id="chronic_severe_counts",
    ),
    pytest.param(
        _patient("R").transplant(HCT, agvhd_grade="III", agvhd_date="2021-06-01").relapse("2021-05-01"),
        {"AGVHD24": (30, 2, "RELAPSE"), "AGVHD34": (30, 2, "RELAPSE"), "CGVHD": (30, 2, "RELAPSE")},
        id="relapse_before_gvhd_competes",
    ),
    pytest.param(
        _patient("T").transplant(HCT, agvhd_grade="II", agvhd_date="2021-05-01").relapse("2021-05-01"),
        {"AGVHD24": (30, 1, "AGVHD_2_4"), "AGVHD34": (30, 2, "RELAPSE"), "CGVHD": (30, 2, "RELAPSE")},
        id="gvhd_and_relapse_on_the_same_day_count_as_gvhd",
    ),
    pytest.param(
        _patient("D").transplant(HCT, agvhd_grade="II", agvhd_date="2021-05-01").dies("2021-06-30", "GVHD"),
        {"AGVHD24": (30, 1, "AGVHD_2_4"), "AGVHD34": (90, 2, "DEATH"), "CGVHD": (90, 2, "DEATH")},
        id="death_without_the_gvhd_competes",
    ),
    pytest.param(
        _patient("S").relapse("2020-12-01").transplant(HCT).relapse(HCT),
        {"AGVHD24": CENSORED, "AGVHD34": CENSORED, "CGVHD": CENSORED},
        id="relapse_on_the_day_of_transplant_is_not_after_it",
    ),
    pytest.param(
        _patient("L").transplant(HCT, agvhd_grade="III", agvhd_date="2025-02-01"),
        {"AGVHD24": CENSORED, "AGVHD34": CENSORED, "CGVHD": CENSORED},
        id="gvhd_after_the_cutoff_is_not_observed",
    ),
    pytest.param(
        _patient("H2")
        .transplant(HCT)
        .relapse("2021-09-01")
        .transplant("2021-11-01", agvhd_grade="III", agvhd_date="2021-12-01"),
        {"AGVHD24": (153, 2, "RELAPSE"), "AGVHD34": (153, 2, "RELAPSE"), "CGVHD": (153, 2, "RELAPSE")},
        id="gvhd_of_a_second_transplant_after_a_relapse_is_too_late",
    ),
    pytest.param(
        _patient("G2").transplant(HCT).transplant("2021-08-01", cgvhd_severity="MODERATE", cgvhd_date="2022-03-01"),
        {"AGVHD24": CENSORED, "AGVHD34": CENSORED, "CGVHD": (334, 1, "CGVHD_MOD_SEV")},
        id="gvhd_of_a_second_transplant_counts_from_the_first",
    ),
]


@pytest.mark.parametrize(("patient", "expected"), CASES)
def test_gvhd_endpoint_rows(tmp_path: Path, patient: Patient, expected: dict[str, tuple]) -> None:
    rows, _ = _rows(tmp_path, patient)
    assert rows == expected


UNDATED = [
    pytest.param(
        {"agvhd_grade": "II"},
        {"AGVHD34", "CGVHD"},
        ("agvhd_date", "acute GVHD grade II has no agvhd_date, so it cannot be timed: the patient has no AGVHD24 row"),
        id="agvhd_II_without_date",
    ),
    pytest.param(
        {"agvhd_grade": "IV", "cgvhd_severity": "MILD", "cgvhd_date": "2022-01-01"},
        {"CGVHD"},
        (
            "agvhd_date",
            "acute GVHD grade IV has no agvhd_date, so it cannot be timed: it cannot count as a GRFS event, "
            "and the patient has no AGVHD24 or AGVHD34 row",
        ),
        id="agvhd_IV_without_date",
    ),
    pytest.param(
        {"agvhd_grade": "II", "agvhd_date": "2021-05-01", "cgvhd_severity": "MODERATE"},
        {"AGVHD24", "AGVHD34"},
        (
            "cgvhd_date",
            "chronic GVHD MODERATE has no cgvhd_date, so it cannot be timed: it cannot count as a GRFS event, "
            "and the patient has no CGVHD row",
        ),
        id="cgvhd_moderate_without_date",
    ),
]


@pytest.mark.parametrize(("values", "endpoints", "warning"), UNDATED)
def test_gvhd_without_an_onset_date_gives_no_row_and_a_warning(
    tmp_path: Path, values: dict[str, str], endpoints: set[str], warning: tuple[str, str]
) -> None:
    rows, con = _rows(tmp_path, _patient("U").transplant(HCT, **values))
    assert set(rows) == endpoints
    issues = con.execute(
        "SELECT column_name, issue FROM data_quality_issues WHERE table_name = 'transplants'"
    ).fetchall()
    assert issues == [warning]
    # The other endpoints from the transplant are there: OS and GRFS are not GVHD-grade specific.
    assert con.execute("SELECT count(*) FROM time_to_event WHERE origin = 'HCT1' AND endpoint = 'OS'").fetchone() == (
        1,
    )


def test_an_undated_gvhd_on_a_later_transplant_also_withholds_the_row(tmp_path: Path) -> None:
    """endpoints.md: a GVHD of the right grade without an onset date gives no row, whatever record holds it."""
    p = (
        _patient("U2")
        .transplant(HCT, agvhd_grade="II", agvhd_date="2021-05-01")
        .transplant("2022-06-01", agvhd_grade="III")
    )
    rows, _ = _rows(tmp_path, p)
    assert set(rows) == {"CGVHD"}


def test_no_transplant_no_gvhd_rows(tmp_path: Path) -> None:
    rows, _ = _rows(tmp_path, _patient("N"))
    assert rows == {}


def test_gvhd_endpoints_are_competing_risks_with_the_labels_of_the_spec() -> None:
    from ayaall.endpoints import endpoint_spec

    for name in GVHD_ENDPOINTS:
        spec = endpoint_spec(name, "HCT1")
        assert spec.competing_risks
