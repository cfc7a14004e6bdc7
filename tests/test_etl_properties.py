"""Property tests: random patient histories, loaded for real, keep the endpoint invariants.

Hypothesis draws histories with dates anywhere around diagnosis and the cut-off (so contradictions
and unobserved events occur), the real loader derives the endpoints, and these must hold for every
draw: times are non-negative and end by the cut-off, codes are in range, one row per patient and
(endpoint, origin), CIR and NRM are the same patients with codes 1 and 2 swapped, RFS has an event
exactly when CIR or NRM has one, EFS never outlasts OS, excluded patients have no rows, and rows
read = loaded + quarantined. The toxicity endpoints (``etl.toxicity``) keep theirs: times within
[0, L - line start], one row per patient who started the line x event x threshold, a grade >= 3
event is an any-grade event no earlier, the worst grade is the same at every threshold.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from builders import Patient, write_extract
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ayaall.errors import UserError
from etl import load_extract
from etl.toxicity import toxicity_frame

CUTOFF = date(2024, 12, 31)
DX = date(2020, 1, 1)


def _day(offset: int) -> str:
    return (DX + timedelta(days=offset)).isoformat()


offsets = st.integers(min_value=-30, max_value=2200)  # a few before diagnosis, some after the cut-off


@st.composite
def histories(draw: st.DrawFn, pid: str) -> Patient:
    p = Patient(pid, last_contact_date=_day(draw(offsets)))
    n_lines = draw(st.integers(0, 3))
    start = 0
    for line_no in range(1, n_lines + 1):
        start = draw(st.integers(start, start + 500))
        p.line(
            line_no, draw(st.sampled_from(["PED_INSPIRED", "BLINATUMOMAB", "CAR_T_CD19", "INOTUZUMAB"])), _day(start)
        )
        for k in range(draw(st.integers(0, 2))):
            p.response(
                line_no, _day(start + 30 + 20 * k), draw(st.sampled_from(["CR", "CRI", "CRH", "PR", "NR", "NE"]))
            )
        for _ in range(draw(st.integers(0, 3))):  # a few before the line's start (an exclusion)
            p.toxicity(
                line_no,
                draw(st.sampled_from(["CRS", "ICANS", "INFECTION"])),
                draw(st.sampled_from(["1", "2", "3", "4", "5", "UNK", ""])),
                _day(start + draw(st.integers(-10, 700))),
            )
    for offset in sorted(set(draw(st.lists(offsets, max_size=2)))):
        p.relapse(_day(offset))
    if draw(st.booleans()):
        hct = draw(offsets)
        p.transplant(
            _day(hct),
            agvhd_grade=draw(st.sampled_from(["0", "II", "III", "IV"])),
            agvhd_date=_day(hct + draw(st.integers(-5, 120))),
            cgvhd_severity=draw(st.sampled_from(["NONE", "MILD", "SEVERE"])),
            cgvhd_date=_day(hct + draw(st.integers(90, 500))),
        )
    vital = draw(st.sampled_from(["ALIVE", "DEAD", "DEAD_NO_DATE"]))
    if vital == "DEAD":
        p.vital_status, p.death_date = "DEAD", _day(draw(offsets))
    elif vital == "DEAD_NO_DATE":
        p.vital_status = "DEAD"
    return p


@st.composite
def registries(draw: st.DrawFn) -> list[Patient]:
    n = draw(st.integers(1, 12))
    return [draw(histories(f"P{i:03d}")) for i in range(n)]


def _check(con: duckdb.DuckDBPyConnection) -> None:
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    assert q("SELECT count(*) FROM time_to_event WHERE time_days < 0 OR end_date > DATE '2024-12-31'") == [(0,)]
    assert q("SELECT count(*) FROM time_to_event WHERE event_code NOT IN (0, 1, 2)") == [(0,)]
    competing = "('CIR', 'NRM', 'AGVHD24', 'AGVHD34', 'CGVHD')"
    assert q(f"SELECT count(*) FROM time_to_event WHERE event_code = 2 AND endpoint NOT IN {competing}") == [(0,)]
    assert q(
        "SELECT count(*) FROM (SELECT patient_id, endpoint, origin FROM time_to_event GROUP BY ALL HAVING count(*) > 1)"
    ) == [(0,)]
    assert q("SELECT count(*) FROM time_to_event WHERE (event_code = 0) <> (event_desc = 'CENSORED')") == [(0,)]
    # CIR and NRM: the same patients, times and descriptions, with codes 1 and 2 swapped.
    assert q(
        "SELECT count(*) FROM time_to_event c FULL JOIN time_to_event n "
        "ON c.patient_id = n.patient_id AND c.origin = n.origin AND n.endpoint = 'NRM' "
        "WHERE c.endpoint = 'CIR' AND (n.patient_id IS NULL OR c.time_days <> n.time_days "
        "OR c.event_desc <> n.event_desc OR (c.event_code + n.event_code) % 3 <> 0)"
    ) == [(0,)]
    assert q("SELECT count(*) FROM time_to_event WHERE endpoint = 'CIR'") == q(
        "SELECT count(*) FROM time_to_event WHERE endpoint = 'NRM'"
    )
    # RFS from CR1 has an event exactly when CIR has a relapse or a competing death, at the same time.
    assert q(
        "SELECT count(*) FROM time_to_event r JOIN time_to_event c USING (patient_id, origin) "
        "WHERE r.endpoint = 'RFS' AND c.endpoint = 'CIR' AND ((r.event_code = 1) <> (c.event_code > 0) "
        "OR r.time_days <> c.time_days)"
    ) == [(0,)]
    # EFS from diagnosis never outlasts OS from diagnosis.
    assert q(
        "SELECT count(*) FROM time_to_event e JOIN time_to_event o USING (patient_id, origin) "
        "WHERE e.endpoint = 'EFS' AND o.endpoint = 'OS' AND e.origin = 'DX' AND e.time_days > o.time_days"
    ) == [(0,)]
    # Every included patient has exactly one OS-from-diagnosis row; excluded patients have none.
    assert q(
        "SELECT count(*) FROM analysis_patients ap LEFT JOIN time_to_event t "
        "ON t.patient_id = ap.patient_id AND t.endpoint = 'OS' AND t.origin = 'DX' "
        "WHERE (ap.excluded_reason IS NULL) <> (t.patient_id IS NOT NULL)"
    ) == [(0,)]
    assert q("SELECT count(*) FROM load_report WHERE rows_read <> rows_loaded + rows_quarantined") == [(0,)]
    assert q("SELECT count(*) FROM analysis_patients") == q("SELECT count(*) FROM stg_patients")
    for line in (1, 2, 3):
        _check_toxicity(con, line)


def _check_toxicity(con: duckdb.DuckDBPyConnection, line: int) -> None:
    f = toxicity_frame(con, line, ["CRS", "ICANS", "INFECTION"], (1, 3), columns=["death_date", "followup_end"])
    started = con.execute(
        "SELECT DISTINCT patient_id FROM stg_treatment_lines JOIN analysis_patients USING (patient_id) "
        "WHERE line_no = ? AND start_date <= DATE '2024-12-31' AND excluded_reason IS NULL",
        [line],
    ).fetchall()
    assert set(f["patient_id"]) == {r[0] for r in started}
    assert len(f) == 6 * len(started)
    assert (f["time_days"] >= 0).all()
    span = (pd.to_datetime(f["followup_end"]) - pd.to_datetime(f["line_start"])).dt.days
    assert (f["time_days"] <= span).all()
    assert f["event_code"].isin([0, 1, 2]).all()
    assert ((f["event_code"] == 0) == (f["event_desc"] == "CENSORED")).all()
    assert ((f["event_code"] == 0) == f["censor_reason"].notna()).all()
    dead = f["event_code"] == 2
    assert (pd.to_datetime(f.loc[dead, "end_date"]) == pd.to_datetime(f.loc[dead, "death_date"])).all()
    if f.empty:
        return
    wide = f.pivot_table(index=["patient_id", "event"], columns="min_grade", values="time_days", aggfunc="first")
    codes = f.pivot_table(index=["patient_id", "event"], columns="min_grade", values="event_code", aggfunc="first")
    severe = codes[3] == 1
    assert (codes.loc[severe, 1] == 1).all()
    assert (wide.loc[severe, 1] <= wide.loc[severe, 3]).all()
    worst = f.groupby(["patient_id", "event"])["worst_grade"].nunique()
    assert (worst == 1).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients=registries())
def test_endpoint_invariants_hold_for_random_histories(patients: list[Patient]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="aya-prop-"))
    try:
        write_extract(folder / "extract", patients, cutoff=CUTOFF.isoformat())
        if not any(p.lines for p in patients):  # an empty required table stops the load (etl.guard)
            with pytest.raises(UserError, match=r"treatment_lines\.csv has no rows"):
                load_extract(folder / "extract", folder / "db.duckdb", memory_limit="500MB", threads=1)
            assert not (folder / "db.duckdb").exists()
            return
        load_extract(folder / "extract", folder / "db.duckdb", memory_limit="500MB", threads=1)
        con = duckdb.connect(str(folder / "db.duckdb"), read_only=True)
        try:
            _check(con)
        finally:
            con.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
