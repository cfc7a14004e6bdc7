"""The toxicity endpoints of endpoints.md (format 1.1), one named case per rule (``etl.toxicity``).

Time zero is the start of line k; the event is the first adverse event attributed to line k with
the event type and grade >= g (UNK counting for "any grade" only); death before it competes;
censoring at the next line's start, the end of follow-up or an optional window; a transplant does
not end the window. Each case is a hand-made patient loaded by the real loader; expected day counts
are calendar arithmetic on the dates shown.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from builders import Patient, write_extract

from ayaall.errors import UserError
from etl import load_extract
from etl.toxicity import TOXICITY_COLUMNS, toxicity_frame

L1, L2 = "2020-01-05", "2021-03-01"


def _db(tmp_path: Path, *patients: Patient) -> duckdb.DuckDBPyConnection:
    write_extract(tmp_path / "extract", list(patients), adverse_events=True)
    load_extract(tmp_path / "extract", tmp_path / "db.duckdb")
    return duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)


def _one(frame: pd.DataFrame, event: str, min_grade: int) -> tuple:
    row = frame[(frame["event"] == event) & (frame["min_grade"] == min_grade)]
    assert len(row) == 1
    r = row.iloc[0]
    return (
        int(r["time_days"]),
        int(r["event_code"]),
        *(r[c] for c in ("event_desc", "censor_reason", "grade")),
        r["worst_grade"],
    )


def _salvage(pid: str, **kw: str) -> Patient:
    return Patient(pid, **kw).line(1, "PED_INSPIRED", L1).relapse("2021-02-20").line(2, "CAR_T_CD19", L2)


def test_a_toxicity_counts_for_the_line_it_is_attributed_to(tmp_path: Path) -> None:
    p = _salvage("A").toxicity(2, "CRS", "3", "2021-03-04").toxicity(1, "INFECTION", "3", "2020-03-01")
    con = _db(tmp_path, p)
    line2 = toxicity_frame(con, 2, ["CRS", "INFECTION"])
    assert _one(line2, "CRS", 3) == (3, 1, "CRS", None, "3", "3")
    assert _one(line2, "INFECTION", 1)[:3] == (1217, 0, "CENSORED")  # the line-1 infection is not line 2's
    line1 = toxicity_frame(con, 1, ["CRS", "INFECTION"])
    assert _one(line1, "INFECTION", 3) == (56, 1, "INFECTION", None, "3", "3")
    # line 1 is censored at the start of line 2 (421 days), not at the CRS of line 2
    assert _one(line1, "CRS", 1) == (421, 0, "CENSORED", "NEXT_LINE", None, "NONE")


def test_censored_at_the_next_line_start(tmp_path: Path) -> None:
    # Osteonecrosis attributed to frontline, but dated after salvage started: outside line 1's window.
    con = _db(tmp_path, _salvage("N").toxicity(1, "OSTEONECROSIS", "3", "2021-06-01"))
    assert _one(toxicity_frame(con, 1, ["OSTEONECROSIS"]), "OSTEONECROSIS", 1) == (
        421,
        0,
        "CENSORED",
        "NEXT_LINE",
        None,
        "NONE",
    )


def test_a_toxicity_on_the_day_the_next_line_starts_counts_for_its_line(tmp_path: Path) -> None:
    con = _db(tmp_path, _salvage("D").toxicity(1, "THROMBOSIS", "2", L2))
    assert _one(toxicity_frame(con, 1, ["THROMBOSIS"]), "THROMBOSIS", 1)[:3] == (421, 1, "THROMBOSIS")


@pytest.mark.parametrize("grade", ["UNK", ""], ids=["grade_UNK", "grade_empty"])
def test_grade_unk_counts_for_any_grade_only(tmp_path: Path, grade: str) -> None:
    con = _db(tmp_path, _salvage("U").toxicity(2, "ICANS", grade, "2021-03-06"))
    frame = toxicity_frame(con, 2, ["ICANS"], (1, 3))
    assert _one(frame, "ICANS", 1) == (5, 1, "ICANS", None, "UNK", "UNK")
    assert _one(frame, "ICANS", 3)[:3] == (1217, 0, "CENSORED")
    assert _one(frame, "ICANS", 3)[5] == "UNK"  # the worst grade does not depend on the threshold


def test_crs_on_the_day_of_infusion_is_at_time_0(tmp_path: Path) -> None:
    con = _db(tmp_path, _salvage("Z").toxicity(2, "CRS", "1", L2))
    assert _one(toxicity_frame(con, 2, ["CRS"]), "CRS", 1) == (0, 1, "CRS", None, "1", "1")


def test_the_first_event_of_the_grade_asked_is_taken(tmp_path: Path) -> None:
    p = _salvage("G").toxicity(2, "CRS", "2", "2021-03-03").toxicity(2, "CRS", "4", "2021-03-09")
    frame = toxicity_frame(_db(tmp_path, p), 2, ["CRS"], (1, 3))
    assert _one(frame, "CRS", 1) == (2, 1, "CRS", None, "2", "4")
    assert _one(frame, "CRS", 3) == (8, 1, "CRS", None, "4", "4")


def test_death_before_the_toxicity_competes(tmp_path: Path) -> None:
    con = _db(tmp_path, _salvage("M").dies("2021-04-10"))
    assert _one(toxicity_frame(con, 2, ["VOD_SOS"]), "VOD_SOS", 3) == (40, 2, "DEATH", None, None, "NONE")


def test_a_fatal_event_on_the_day_of_death_is_the_event(tmp_path: Path) -> None:
    p = _salvage("F").toxicity(2, "CRS", "5", "2021-03-08").dies("2021-03-08", "TOXICITY")
    assert _one(toxicity_frame(_db(tmp_path, p), 2, ["CRS"]), "CRS", 3) == (7, 1, "CRS", None, "5", "5")


def test_death_on_the_day_the_next_line_starts_competes(tmp_path: Path) -> None:
    p = _salvage("X", last_contact_date="2021-03-01").dies(L2)
    assert _one(toxicity_frame(_db(tmp_path, p), 1, ["INFECTION"]), "INFECTION", 1)[:3] == (421, 2, "DEATH")


def test_a_transplant_does_not_end_the_window(tmp_path: Path) -> None:
    p = (
        Patient("V")
        .line(1, "PED_INSPIRED", L1)
        .relapse("2021-02-20")
        .line(2, "INOTUZUMAB", L2)
        .response(2, "2021-04-01", "CR")
        .transplant("2021-05-10")
        .toxicity(2, "VOD_SOS", "3", "2021-05-25")
    )
    assert _one(toxicity_frame(_db(tmp_path, p), 2, ["VOD_SOS"]), "VOD_SOS", 3) == (85, 1, "VOD_SOS", None, "3", "3")


def test_a_fixed_window_censors_and_its_last_day_counts(tmp_path: Path) -> None:
    p = _salvage("W").toxicity(2, "ICANS", "3", "2021-06-09").toxicity(2, "CRS", "2", "2021-06-10")
    frame = toxicity_frame(_db(tmp_path, p), 2, ["ICANS", "CRS"], window_days=100)
    assert _one(frame, "ICANS", 1)[:3] == (100, 1, "ICANS")  # day 100: inside
    assert _one(frame, "CRS", 1) == (100, 0, "CENSORED", "WINDOW", None, "NONE")  # day 101: outside
    without = toxicity_frame(_db(tmp_path / "b", p), 2, ["CRS"])
    assert _one(without, "CRS", 1)[:3] == (101, 1, "CRS")


def test_no_event_is_censored_at_the_end_of_follow_up(tmp_path: Path) -> None:
    con = _db(tmp_path, _salvage("C", last_contact_date="2022-01-01"))
    assert _one(toxicity_frame(con, 2, ["CRS"]), "CRS", 1) == (306, 0, "CENSORED", "END_OF_FOLLOW_UP", None, "NONE")


def test_an_event_after_the_cutoff_is_not_observed(tmp_path: Path) -> None:
    p = _salvage("Q", last_contact_date="2024-12-31").toxicity(2, "OTHER", "3", "2025-01-10")
    assert _one(toxicity_frame(_db(tmp_path, p), 2, ["OTHER"]), "OTHER", 1)[:4] == (
        1401,
        0,
        "CENSORED",
        "END_OF_FOLLOW_UP",
    )


def test_only_patients_who_started_the_line_and_are_included_have_rows(tmp_path: Path) -> None:
    late = Patient("LATE").line(1, "PED_INSPIRED", L1).line(2, "BLINATUMOMAB", "2025-02-01")  # after the cut-off
    excluded = Patient("EXCL").line(1, "PED_INSPIRED", L1).toxicity(1, "CRS", "1", "2019-12-01")
    con = _db(tmp_path, _salvage("IN"), late, excluded, Patient("NOLINE"))
    assert set(toxicity_frame(con, 2, ["CRS"])["patient_id"]) == {"IN"}
    assert set(toxicity_frame(con, 1, ["CRS"])["patient_id"]) == {"IN", "LATE"}


def test_one_row_per_patient_event_and_threshold_with_the_columns_asked(tmp_path: Path) -> None:
    con = _db(tmp_path, _salvage("P1"), _salvage("P2", sex="M"))
    frame = toxicity_frame(con, 2, ["CRS", "ICANS", "VOD_SOS"], (1, 3, 4), columns=["sex", "age_at_dx", "regimen"])
    assert list(frame.columns) == [*TOXICITY_COLUMNS, "sex", "age_at_dx"]
    assert len(frame) == 2 * 3 * 3
    assert frame.groupby(["patient_id", "event", "min_grade"]).size().eq(1).all()
    assert set(frame["sex"]) == {"F", "M"}
    assert frame["sex"].map(type).eq(str).all()
    assert set(frame["regimen"]) == {"CAR_T_CD19"}


def test_a_cohort_condition_restricts_the_patients(tmp_path: Path) -> None:
    con = _db(tmp_path, _salvage("P1"), _salvage("P2", sex="M"))
    frame = toxicity_frame(con, 2, ["CRS"], where="ap.sex = ?", params=["M"])
    assert set(frame["patient_id"]) == {"P2"}


def test_an_extract_without_adverse_events_gives_no_events(tmp_path: Path) -> None:
    write_extract(tmp_path / "e", [_salvage("P1"), _salvage("P2").dies("2021-05-01")])
    assert not (tmp_path / "e" / "adverse_events.csv").exists()
    load_extract(tmp_path / "e", tmp_path / "db.duckdb")
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    frame = toxicity_frame(con, 2, ["CRS"], (1,))
    assert dict(zip(frame["patient_id"], frame["event_code"], strict=True)) == {"P1": 0, "P2": 2}


BAD = [
    pytest.param({"line": 0}, "at least 1", id="line_0"),
    pytest.param({"line": 2, "events": ["MUCOSITIS"]}, "'MUCOSITIS' is not a toxicity", id="unknown_event"),
    pytest.param({"line": 2, "min_grades": [6]}, r"from 1 \(any grade\) to 5", id="grade_6"),
    pytest.param({"line": 2, "window_days": -1}, "at least 0", id="negative_window"),
    pytest.param({"line": 2, "columns": ["shoe_size"]}, "'shoe_size' not a column of analysis_patients", id="column"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD)
def test_bad_requests_are_one_sentence(tmp_path: Path, kwargs: dict, message: str) -> None:
    con = _db(tmp_path, _salvage("P1"))
    with pytest.raises(UserError, match=message):
        toxicity_frame(con, **kwargs)


def test_a_database_loaded_before_format_1_1_says_to_reload(tmp_path: Path) -> None:
    write_extract(tmp_path / "e", [_salvage("P1")])
    load_extract(tmp_path / "e", tmp_path / "db.duckdb")
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    con.execute("DROP TABLE stg_adverse_events")
    with pytest.raises(UserError, match="no adverse_events table; load the extract again"):
        toxicity_frame(con, 2)


def test_load_toxicity_frame_selects_the_cohort(demo_db) -> None:
    """[toxicity_cohort] ``etl.read.load_toxicity_frame`` for a cohort (T-lineage) gives exactly the rows
    of the whole registry's frame whose patient is in it: the cohort's SQL is the one every frame uses."""
    from ayaall.cohort import CohortSpec
    from etl.read import load_toxicity_frame

    cohort = CohortSpec.from_dict({"filters": {"lineage": ["T"]}})
    some = load_toxicity_frame(demo_db, cohort, 2, ["CRS"], [3], columns=["lineage"])
    every = load_toxicity_frame(demo_db, CohortSpec(), 2, ["CRS"], [3], columns=["lineage"])
    assert len(some) > 0
    assert set(some["lineage"]) == {"T"}
    assert sorted(some["patient_id"]) == sorted(every.loc[every["lineage"] == "T", "patient_id"])
