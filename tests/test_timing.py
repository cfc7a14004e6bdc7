"""Treatment timing (analyses/counting.py, landmark.py, cox_counting.py) against R survival 3.5-3 and
against invariants.

R outputs are committed by tests/r/timing_reference.R (see tests/r/README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.counting import start_stop_frame
from analyses.cox import fit_cox
from analyses.cox_counting import fit_cox_counting
from analyses.km import fit_km
from analyses.landmark import fit_landmark, mantel_byar_test, simon_makuch
from analyses.logrank import logrank_test
from analyses.results import AnalysisError, AnalysisWarning

R_DIR = Path(__file__).parent / "r"
CASES = ["sim", "small"]


def _counting(case: str) -> pd.DataFrame:
    patients = pd.read_csv(R_DIR / f"timing_patients_{case}.csv")
    return start_stop_frame(patients, "time", "status", "expo")


def _close(actual, expected, tol: float, rel: bool = False) -> None:
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if rel:
        np.testing.assert_allclose(a, e, rtol=tol, atol=0, equal_nan=True)
    else:
        np.testing.assert_allclose(a, e, rtol=0, atol=tol, equal_nan=True)


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_start_stop_frame_matches_r_split(case: str) -> None:
    """The split written by tests/r/timing_reference.R (split_cp) -> timing_data_<case>.csv, row for row."""
    expected = pd.read_csv(R_DIR / f"timing_data_{case}.csv")
    ours = _counting(case)
    for col in ("start", "stop", "event", "exposed"):
        _close(ours[col], expected[col], 0)
    assert list(ours["row_id"]) == list(expected["id"])


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_simon_makuch_matches_survfit(case: str) -> None:
    """R: summary(survfit(Surv(start, stop, event) ~ exposed, conf.type = "log-log"), censored = TRUE)
    (tests/r/timing_reference.R -> timing_<case>_simon_makuch.csv); survival, SE and CI to 1e-6."""
    expected = pd.read_csv(R_DIR / f"timing_{case}_simon_makuch.csv")
    curve = simon_makuch(_counting(case)).curve
    curve = curve[(curve["events"] + curve["censored"]) > 0]
    for group in ("exposed", "unexposed"):
        ours = curve[curve["group"] == group]
        ref = expected[expected["group"] == group]
        _close(ours["time_days"], ref["time"], 0)
        _close(ours["at_risk"], ref["n_risk"], 0)
        _close(ours["events"], ref["n_event"], 0)
        _close(ours["censored"], ref["n_censor"], 0)
        for col, rcol in (("survival", "surv"), ("std_err", "std_err"), ("ci_lower", "lower"), ("ci_upper", "upper")):
            _close(ours[col], ref[rcol], 1e-6)


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_mantel_byar_matches_coxph_score(case: str) -> None:
    """R: coxph(Surv(start, stop, event) ~ exposed, ties = "breslow")$score
    (tests/r/timing_reference.R -> timing_<case>_mantel_byar.csv); statistic and p to 1e-4 relative."""
    expected = pd.read_csv(R_DIR / f"timing_{case}_mantel_byar.csv")
    test = mantel_byar_test(_counting(case))
    _close(test.statistic, expected["statistic"][0], 1e-4, rel=True)
    _close(test.p, expected["p"][0], 1e-4, rel=True)


MODELS = ["efron", "breslow", "robust"]


@pytest.mark.parametrize("case", CASES, ids=CASES)
@pytest.mark.parametrize("model", MODELS, ids=MODELS)
def test_time_varying_cox_matches_coxph(case: str, model: str) -> None:
    """R: coxph(Surv(start, stop, event) ~ exposed + age + risk, ties = "efron" | "breslow"
    [, cluster = id]) (tests/r/timing_reference.R -> timing_<case>_cox.csv); coef, SE, robust SE to
    1e-5, log-likelihoods and the score test to 1e-6 relative."""
    expected = pd.read_csv(R_DIR / f"timing_{case}_cox.csv").query("model == @model").reset_index(drop=True)
    fit = fit_cox_counting(
        _counting(case),
        "start",
        "stop",
        "event",
        ["exposed", "age", "risk"],
        ties="breslow" if model == "breslow" else "efron",
        cluster_col="row_id" if model == "robust" else None,
    )
    assert list(fit.terms["term"]) == list(expected["term"])
    _close(fit.terms["coef"], expected["coef"], 1e-5)
    _close(fit.terms["se"], expected["se"], 1e-5)
    _close(fit.terms["robust_se"], expected["robust_se"], 1e-5)
    _close([fit.loglik, fit.loglik_null], [expected["loglik"][0], expected["loglik_null"][0]], 1e-6, rel=True)
    _close(fit.score_test["statistic"], expected["score"][0], 1e-6, rel=True)


# ------------------------------------------------------------------------------ invariants
@pytest.fixture
def fixed_data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 250
    return pd.DataFrame(
        {
            "time": rng.integers(0, 400, n).astype(float),  # includes day-0 events
            "status": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "arm": rng.choice(["A", "B"], n),
        }
    )


def test_no_time_change_reproduces_km_logrank_cox(fixed_data: pd.DataFrame) -> None:
    """With exposure fixed at baseline (day 0 or never), Simon–Makuch = fit_km, Mantel–Byar
    (hypergeometric) = logrank_test, and the counting-process Cox = fit_cox (robust too)."""
    data = fixed_data.assign(expo=np.where(fixed_data["arm"] == "B", 0.0, np.nan))
    cp = start_stop_frame(data, "time", "status", "expo")
    assert len(cp) == len(data)
    sm = simon_makuch(cp)
    km = fit_km(data.assign(g=np.where(data["arm"] == "B", "exposed", "unexposed")), "time", "status", "g")
    merged = sm.curve.drop(columns="entered").reset_index(drop=True)
    pd.testing.assert_frame_equal(merged[km.curve.columns], km.curve, check_dtype=False)
    lr = logrank_test(data, "time", "status", "arm")
    _close(mantel_byar_test(cp, variance="hypergeometric").statistic, lr.statistic, 1e-10, rel=True)
    tv = fit_cox_counting(cp, "start", "stop", "event", ["exposed", "x"], cluster_col="row_id")
    fixed = fit_cox(
        data.assign(exposed=(data["arm"] == "B").astype(int)), "time", "status", ["exposed", "x"], robust=True
    )
    _close(tv.terms[["coef", "se", "robust_se"]], fixed.terms[["coef", "se", "robust_se"]], 1e-10)


def test_start_stop_rules() -> None:
    """Exposure inside follow-up splits; at 0 is exposed throughout; at/after the end is never."""
    df = pd.DataFrame({"t": [10.0, 10, 10, 10, 10], "e": [1, 1, 0, 1, 1], "x": [4.0, 0, 10, 12, np.nan]})
    cp = start_stop_frame(df, "t", "e", "x")
    rows = cp[["row_id", "start", "stop", "event", "exposed"]].to_numpy().tolist()
    assert rows == [
        [0, 0, 4, 0, 0],
        [0, 4, 10, 1, 1],
        [1, 0, 10, 1, 1],
        [2, 0, 10, 0, 0],
        [3, 0, 10, 1, 0],
        [4, 0, 10, 1, 0],
    ]
    assert cp.groupby("row_id")["event"].sum().tolist() == df["e"].tolist()  # events conserved


def test_landmark_rebases_and_groups(fixed_data: pd.DataFrame) -> None:
    """A landmark fit equals fit_km + logrank_test on the hand-made landmark subset."""
    data = fixed_data.assign(expo=np.where(fixed_data["arm"] == "B", fixed_data["time"] / 2, np.nan))
    res = fit_landmark(data, "time", "status", "expo", [50, 100])
    sub = data[data["time"] > 100]
    sub = sub.assign(t=sub["time"] - 100, g=np.where(sub["expo"] <= 100, "exposed", "unexposed"))
    lr = logrank_test(sub, "t", "status", "g")
    row = res.landmarks.set_index("landmark_days").loc[100.0]
    assert row["n_at_risk"] == len(sub)
    assert row["n_exposed"] == (sub["g"] == "exposed").sum()
    _close(row["statistic"], lr.statistic, 1e-12, rel=True)
    km = fit_km(sub, "t", "status", "g")
    ours = res.curve[res.curve["landmark_days"] == 100].drop(columns="landmark_days").reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, km.curve)


# ------------------------------------------------------------------------------ degenerate input
def _tiny(**cols) -> pd.DataFrame:
    base = {"t": [5.0, 8, 12, 20], "e": [1, 0, 1, 1], "x": [np.nan, 2.0, np.nan, 3]}
    base.update(cols)
    return pd.DataFrame(base)


DEGENERATE_ERRORS = {
    "empty": (lambda: start_stop_frame(_tiny().iloc[:0], "t", "e", "x"), "no rows"),
    "no_events_mantel_byar": (
        lambda: mantel_byar_test(start_stop_frame(_tiny(e=[0, 0, 0, 0]), "t", "e", "x")),
        "no events",
    ),
    "never_exposed_mantel_byar": (
        lambda: mantel_byar_test(start_stop_frame(_tiny(x=[np.nan] * 4), "t", "e", "x")),
        "Nobody",
    ),
    "no_events_cox": (
        lambda: fit_cox_counting(
            start_stop_frame(_tiny(e=[0, 0, 0, 0]), "t", "e", "x"), "start", "stop", "event", ["exposed"]
        ),
        "no events",
    ),
    "never_exposed_cox": (
        lambda: fit_cox_counting(
            start_stop_frame(_tiny(x=[np.nan] * 4), "t", "e", "x"), "start", "stop", "event", ["exposed"]
        ),
        "constant",
    ),
    "missing_exposure_column": (lambda: start_stop_frame(_tiny(), "t", "e", "nope"), "no column"),
    "nobody_at_landmark": (lambda: fit_landmark(_tiny(), "t", "e", "x", [50]), "after any of the landmarks"),
    "negative_landmark": (lambda: fit_landmark(_tiny(), "t", "e", "x", [-1]), "non-negative"),
}


@pytest.mark.filterwarnings("ignore::analyses.results.AnalysisWarning")
@pytest.mark.parametrize("case", list(DEGENERATE_ERRORS), ids=list(DEGENERATE_ERRORS))
def test_degenerate_input_errors(case: str) -> None:
    call, words = DEGENERATE_ERRORS[case]
    with pytest.raises(AnalysisError, match=words):
        call()


@pytest.mark.filterwarnings("ignore::analyses.results.AnalysisWarning")
def test_perfect_separation_cox_is_an_error() -> None:
    """Events only in unexposed time: the hazard ratio heads to 0; say so rather than print a number."""
    df = pd.DataFrame(
        {"t": [5.0, 6, 7, 8, 20, 21, 22, 23], "e": [1, 1, 1, 1, 0, 0, 0, 0], "x": [np.nan] * 4 + [1.0, 1, 1, 1]}
    )
    cp = start_stop_frame(df, "t", "e", "x")
    with pytest.raises(AnalysisError, match=r"infinity|converge"):
        fit_cox_counting(cp, "start", "stop", "event", ["exposed"])


LANDMARK_WARNINGS = {
    "no_one_exposed_by_landmark": ([np.nan, 30.0, np.nan, 40], "Nobody at risk"),
    "everyone_exposed_by_landmark": ([1.0, 1, 1, 1], "Everybody at risk"),
}


@pytest.mark.parametrize("case", list(LANDMARK_WARNINGS), ids=list(LANDMARK_WARNINGS))
def test_landmark_one_group_warns(case: str) -> None:
    expo, words = LANDMARK_WARNINGS[case]
    with pytest.warns(AnalysisWarning, match=words):
        res = fit_landmark(_tiny(x=expo), "t", "e", "x", [4])
    row = res.landmarks.iloc[0]
    assert np.isnan(row["statistic"])
    assert words in row["note"]


def test_landmark_no_events_warns() -> None:
    with pytest.warns(AnalysisWarning, match="no events"):
        res = fit_landmark(_tiny(e=[0, 0, 0, 0], x=[1.0, np.nan, 2, np.nan]), "t", "e", "x", [4])
    assert res.landmarks["note"].iloc[0]


def test_exposure_frame_on_demo_db(demo_db: Path) -> None:
    """Days to first transplant from diagnosis agree with the dates in analysis_patients."""
    import duckdb

    from ayaall.cohort import CohortSpec
    from etl.read import exposure_frame

    frame = exposure_frame(demo_db, CohortSpec(), "OS", "DX", "hct")
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        ref = con.execute(
            "SELECT patient_id, date_diff('day', dx_date, hct1_date) AS d FROM analysis_patients "
            "WHERE excluded_reason IS NULL"
        ).df()
    finally:
        con.close()
    merged = frame.merge(ref, on="patient_id")
    assert len(merged) == len(frame) > 0
    _close(merged["exposure_days"], merged["d"], 0)
    assert (frame["exposure_days"].dropna() >= 0).all()


def test_an_exposure_before_time_zero_is_a_baseline_fact(demo_db: Path, service) -> None:
    """[hct_before_salvage] OS from the start of salvage (LINE2) with transplant as the exposure: a patient
    transplanted in CR1, before the salvage, is not exposed from time zero (the old rule took the first
    transplant ever, giving 124 of the demo's patients a negative exposure time); their exposure is a later
    transplant if any, and ``prior_exposure`` records the earlier one. The page's note says so, and the
    adjusted model takes the prior transplant as a covariate."""
    import duckdb

    from ayaall.cohort import CohortSpec
    from etl.read import exposure_frame
    from reports.timing import PRIOR_EXPOSURE, timing_view

    frame = exposure_frame(demo_db, CohortSpec(), "OS", "LINE2", "hct")
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        ref = con.execute(
            "SELECT t.patient_id, "
            "min(date_diff('day', t.origin_date, h.hct_date)) FILTER (WHERE h.hct_date >= t.origin_date) AS d, "
            "coalesce(bool_or(h.hct_date < t.origin_date), false) AS prior "
            "FROM time_to_event t LEFT JOIN stg_transplants h USING (patient_id) "
            "WHERE t.endpoint = 'OS' AND t.origin = 'LINE2' GROUP BY t.patient_id"
        ).df()
    finally:
        con.close()
    merged = frame.merge(ref, on="patient_id", validate="one_to_one")
    assert len(merged) == len(frame)
    assert (frame["exposure_days"].dropna() >= 0).all()
    _close(merged["exposure_days"], merged["d"], 0)
    assert merged["prior_exposure"].tolist() == merged["prior"].tolist()
    prior = int(frame["prior_exposure"].sum())
    assert prior >= 20  # CR1 transplants before relapse: a real share of the salvage cohort
    assert frame.loc[frame["prior_exposure"], "exposure_days"].isna().mean() > 0.5  # most have no second one

    view = timing_view(service, CohortSpec(), "hct", "OS", "LINE2", [180], [], 0)
    assert view.n_prior_exposure == prior
    assert any("before time zero (LINE2): a baseline fact" in n for n in view.notes)
    adjusted = timing_view(service, CohortSpec(), "hct", "OS", "LINE2", [180], [PRIOR_EXPOSURE], 0)
    terms = set(adjusted.hazard_ratios["term"])
    assert any(PRIOR_EXPOSURE in str(t) for t in terms), terms


def test_landmark_cli_on_demo_db(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ayaall analyze landmark` prints the documented JSON; small counts are masked."""
    import json

    from ayaall.cli import main

    code = main(
        [
            "analyze",
            "landmark",
            "--db",
            str(demo_db),
            "--endpoint",
            "OS",
            "--origin",
            "DX",
            "--exposure",
            "hct",
            "--landmarks",
            "100,180,365",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert [lm["landmark_days"] for lm in out["landmarks"]] == [98.0, 182.0, 364.0]  # on the 7-day grid
    assert out["mantel_byar"]["df"] == 1
    assert out["time_varying_cox"][0]["term"] == "exposed"
    later = out["landmarks"][-1]
    assert {g["group"] for g in later["groups"]} == {"exposed", "unexposed"}
    assert later["logrank"]["p"] is not None
    for lm in out["landmarks"]:
        for g in lm["groups"]:
            assert g["n"] is None or g["n"] == 0 or g["n"] % 11 == 6  # released: block midpoints
            assert g["events"] is None or g["events"] == 0 or g["events"] % 11 == 6
            assert all(r["time_days"] % 7 == 0 for r in g["curve"])  # on the grid


def test_nrm_after_vod_sos_as_a_time_varying_exposure(demo_db: Path, service) -> None:
    """[nrm_after_vod] "How many died without relapse after VOD/SOS": NRM from the transplant with VOD/SOS
    (any grade, by onset, adverse_events) as an exposure that starts after time zero. Each patient's
    exposure is the first VOD/SOS on or after the transplant, checked against the staged rows; the
    Treatment timing view gives landmark groups and the time-varying hazard ratio, relapse counted as
    censoring (said in its notes)."""
    import duckdb

    from ayaall.cohort import CohortSpec
    from etl.read import exposure_frame
    from reports.timing import timing_view

    frame = exposure_frame(demo_db, CohortSpec(), "NRM", "HCT1", "vod_sos")
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        ref = con.execute(
            "SELECT t.patient_id, min(date_diff('day', t.origin_date, a.onset_date)) "
            "FILTER (WHERE a.onset_date >= t.origin_date) AS d FROM time_to_event t "
            "LEFT JOIN stg_adverse_events a ON a.patient_id = t.patient_id AND a.event = 'VOD_SOS' "
            "WHERE t.endpoint = 'NRM' AND t.origin = 'HCT1' GROUP BY t.patient_id"
        ).df()
    finally:
        con.close()
    merged = frame.merge(ref, on="patient_id", validate="one_to_one")
    _close(merged["exposure_days"], merged["d"], 0)
    exposed = int(frame["exposure_days"].notna().sum())
    assert exposed >= 5  # VOD/SOS after a transplant: a real, small share
    view = timing_view(service, CohortSpec(), "vod_sos", "NRM", "HCT1", [30, 100], [], 0)
    assert any("competing event" in n for n in view.notes)
    models = set(view.hazard_ratios["model"])
    assert "Time-varying" in models
    tv = view.hazard_ratios[view.hazard_ratios["model"] == "Time-varying"].iloc[0]
    assert np.isfinite(tv["hr"])
    assert tv["hr"] > 0
