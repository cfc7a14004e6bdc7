"""The numbers in the exported figures and tables of the Treatment timing, Adjusted comparison and Response
pages equal the pages' views, to the stated rounding (estimates to 4 decimals, p-values to 4 significant
digits), and the views' numbers equal the estimators validated against R.

Sources: ``reports.timing.timing_view``, ``reports.weighting.weighting_view`` and
``reports.response.response_view`` (what the pages show), and one step further back
``analyses.timing`` (``fit_landmark``, ``mantel_byar_test``: R survival's ``survdiff`` and
``coxph(..., ties = "breslow")$score``), ``analyses.weighting`` (cobalt's ``bal.tab``) and, for the
Wilson interval, its closed form (Wilson 1927; R ``prop.test(correct = FALSE)``), computed here by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from export_support import TREATMENT_KINDS

from ayaall.cohort import CohortSpec
from disclosure.policy import policy_for
from export.exporter import prepare
from export.requests import ExportRequest

DECIMALS = 4
MIN_CELL = 11


def _content(service, name: str, **extra):
    request = ExportRequest(**{**TREATMENT_KINDS[name], **extra}, format="csv")
    return prepare(service, request, cohort_source={"kind": "test"})


def _r(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), DECIMALS)


def _p4(value: float) -> float:
    return float(f"{value:.4g}")


def _timing(service, adjust=()):
    from reports.timing import timing_view

    return timing_view(service, CohortSpec(), "hct", "OS", "DX", [180, 365], list(adjust), MIN_CELL)  # 182, 364


def _weighting(service):
    from reports.weighting import weighting_view

    w = TREATMENT_KINDS["balance"]
    levels = ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"]
    return weighting_view(
        service, CohortSpec(), w["treatment"], levels, list(w["covariates"]), "ATE", None, None, None, "OS", "LINE2", 11
    )


def _lines(fig) -> list:
    """The curve traces (named, drawn lines), in drawing order."""
    return [t for t in fig.data if t.mode == "lines" and t.name and (t.line.width or 0) > 0]


# ------------------------------------------------------------------------------ Treatment timing
def test_landmark_figure_and_tables_equal_the_timing_view_and_fit_landmark(service):
    from analyses.landmark import fit_landmark
    from etl.read import exposure_frame

    view = _timing(service)
    content = _content(service, "landmark")
    lines = _lines(content.figure())
    expected = [
        (mark, group, g)
        for mark, panel in view.landmark_curve.groupby("landmark_days", sort=True)
        for group, g in panel.groupby("group", sort=False)
    ]
    assert [t.name for t in lines] == [group for _, group, _ in expected]
    for trace, (_, _, g) in zip(lines, expected, strict=True):
        np.testing.assert_array_equal(np.asarray(trace.y, dtype=float), _r(g["survival"]))
    csv = content.frames["curve"]
    np.testing.assert_array_equal(csv["survival"].to_numpy(dtype=float), _r(view.landmark_curve["survival"]))
    np.testing.assert_array_equal(csv["time_months"], _r(view.landmark_curve["time_days"] / 30.4375))
    # The log-rank tests: the view's, rounded, and the estimator's (R survdiff, in analyses' own tests).
    tests = content.frames["tests"]
    np.testing.assert_array_equal(tests["statistic"], _r(view.landmark_tests["statistic"]))
    assert list(tests["p"]) == [_p4(p) for p in view.landmark_tests["p"]]
    with service.reading() as cur:
        frame = exposure_frame(cur, CohortSpec(), "OS", "DX", "hct", [])
    assert view.landmarks_days == (182.0, 364.0)  # 180 and 365 on the 7-day grid
    lm = fit_landmark(frame, "time_days", "event_code", "exposure_days", [182, 364])
    np.testing.assert_array_equal(tests["statistic"], _r(lm.landmarks["statistic"]))
    # at a grid day the numbers at risk of the coarsened and the exact times agree; released: shifted by
    # the cell keys of the patients at risk, rounded
    from disclosure.treatment import landmark_keys

    with service.reading() as cur:
        keyed = exposure_frame(cur, CohortSpec(), "OS", "DX", "hct", [], keys=True)
    keys = landmark_keys(policy_for(MIN_CELL).coarsen_frame(keyed, ("time_days", "exposure_days")), [182.0, 364.0])
    assert list(tests["at_risk"]) == policy_for(MIN_CELL).counts(
        lm.landmarks["n_at_risk"], [keys[m].at_risk for m in (182.0, 364.0)]
    )
    ms = content.frames["milestones"]
    np.testing.assert_array_equal(ms["survival"].to_numpy(dtype=float), _r(view.landmark_milestones["survival"]))
    assert set(ms["years_after_landmark"]) == {1.0, 2.0, 3.0}


def test_simon_makuch_figure_and_mantel_byar_equal_the_view_and_the_test(service):
    from analyses.counting import start_stop_frame
    from analyses.landmark import mantel_byar_test
    from etl.read import exposure_frame

    view = _timing(service)
    content = _content(service, "simon-makuch")
    lines = {t.name: t for t in _lines(content.figure())}
    assert set(lines) == {"exposed", "unexposed"}
    for group, trace in lines.items():
        curve = view.simon_makuch[view.simon_makuch["group"] == group]
        np.testing.assert_array_equal(np.asarray(trace.y, dtype=float), _r(curve["survival"]))
        np.testing.assert_array_equal(np.asarray(trace.x, dtype=float), curve["time_days"].to_numpy() / 30.4375)
    mb = content.frames["mantel_byar"].iloc[0]
    assert mb["statistic"] == round(view.mantel_byar["statistic"], DECIMALS)
    assert mb["p"] == _p4(view.mantel_byar["p"])
    assert mb["df"] == 1
    with service.reading() as cur:
        frame = exposure_frame(cur, CohortSpec(), "OS", "DX", "hct", [])
    direct = mantel_byar_test(start_stop_frame(frame, "time_days", "event_code", "exposure_days"))
    assert mb["statistic"] == round(direct.statistic, DECIMALS)
    groups = content.frames["groups"]
    assert [None if pd.isna(v) else int(v) for v in groups["n"]] == list(view.simon_makuch_groups["n"])


def test_timing_cox_figure_and_table_equal_the_view(service):
    view = _timing(service, adjust=("age_at_dx",))
    content = _content(service, "timing-cox")
    markers = [t for t in content.figure().data if t.mode == "markers"]
    assert [t.name for t in markers] == list(dict.fromkeys(view.hazard_ratios["model"]))
    assert len({t.marker.color for t in markers}) == len(markers), "each model its own colour"
    for trace in markers:
        terms = view.hazard_ratios[view.hazard_ratios["model"] == trace.name]
        np.testing.assert_array_equal(np.asarray(trace.x, dtype=float), _r(terms["hr"]))
        np.testing.assert_allclose(np.asarray(trace.error_x.array), _r(terms["hr_ci_upper"]) - _r(terms["hr"]))
    table = content.frames["hazard_ratios"]
    np.testing.assert_array_equal(table["hr_ci_lower"], _r(view.hazard_ratios["hr_ci_lower"]))
    models = content.frames["models"]
    assert list(models["model"]) == ["Ever vs never (time-fixed, biased)", "Time-varying", "Time-varying, adjusted"]
    assert list(models["standard_errors"]) == ["model-based", *["robust (clustered on patient)"] * 2]
    assert list(models["adjusted_for"]) == ["", "", "age_at_dx"]


# ------------------------------------------------------------------------------ Adjusted comparison
def test_balance_figure_and_table_equal_the_weighting_view(service):
    view = _weighting(service)
    content = _content(service, "balance")
    traces = {t.name: t for t in content.figure().data}
    for name, column in (("Unweighted", "smd_unweighted"), ("Weighted", "smd_weighted")):
        np.testing.assert_array_equal(np.asarray(traces[name].x, dtype=float), np.abs(_r(view.balance[column])))
        assert list(traces[name].y) == list(view.balance["covariate"])
    table = content.frames["balance"]
    np.testing.assert_array_equal(table["smd_weighted"], _r(view.balance["smd_weighted"]))
    labels = [c if not lv else f"{c}: {lv}" for c, lv in zip(table["covariate"], table["level"], strict=True)]
    assert labels == list(view.balance["covariate"]), "each row's covariate and level name the figure's row"
    # the page shows three decimals: the same SMDs
    assert [f"{v:.3f}" for v in table["smd_unweighted"]] == list(view.balance_table["SMD unweighted"])
    # patients per regimen: those with an OS-from-LINE2 row and every covariate (nothing trimmed), counted here
    from disclosure.cellkey import cell_keys

    frame = service.frame(CohortSpec(), "OS", "LINE2", ["salvage_regimen", "age_at_dx", "cns_status", "mrd_eoi"])
    complete = frame.dropna(subset=["age_at_dx", "cns_status", "mrd_eoi"])
    counts = complete["salvage_regimen"].astype(str).value_counts()
    keys = cell_keys(complete.assign(g=complete["salvage_regimen"].astype(str)), "g")  # each regimen's patients
    weights = content.frames["weights"]
    assert list(weights["n"]) == policy_for(MIN_CELL).counts(
        [counts[g] for g in weights["group"]], [keys[g] for g in weights["group"]]
    )
    assert list(weights["effective_n"]) == list(view.weights["effective_n"])  # released as a count


def test_adjusted_km_figure_and_tables_equal_the_weighting_view(service):
    view = _weighting(service)
    content = _content(service, "adjusted-km")
    lines = {t.name: t for t in _lines(content.figure())}
    assert set(lines) == set(view.levels)
    for group, trace in lines.items():
        curve = view.km.curve[view.km.curve["group"] == group]
        np.testing.assert_array_equal(np.asarray(trace.y, dtype=float), _r(curve["survival"]))
    ms = content.frames["milestones"]
    np.testing.assert_array_equal(ms["survival"].to_numpy(dtype=float), _r(view.km.milestones["survival"]))
    np.testing.assert_array_equal(ms["ci_upper"].to_numpy(dtype=float), _r(view.km.milestones["ci_upper"]))
    summary = content.frames["summary"]
    assert list(summary["adjusted_median_days"]) == [float(v) for v in view.km.summary["median_days"]]
    assert "at_risk" not in content.frames["curve"].columns, "a weighted curve carries no counts"


def test_weighted_cox_figure_and_table_equal_the_weighting_view(service):
    view = _weighting(service)
    content = _content(service, "weighted-cox")
    for trace in (t for t in content.figure().data if t.mode == "markers"):
        terms = view.hazard_ratios[view.hazard_ratios["model"] == trace.name]
        np.testing.assert_array_equal(np.asarray(trace.x, dtype=float), _r(terms["hr"]))
    table = content.frames["hazard_ratios"]
    assert list(table["p"]) == [_p4(p) for p in view.hazard_ratios["p"]]
    models = content.frames["models"]
    assert list(models["weights"]) == ["none", "IPTW"]
    assert list(models["standard_errors"]) == ["model-based", "robust (sandwich)"]


def test_weighting_manifest_records_the_resolved_comparison(service):
    """Without --levels the page's default comparison is used, and the manifest says which; ATT's target
    defaults to the last of them."""
    content = _content(service, "balance", estimand="ATT")
    assert content.manifest["request"]["levels"] == ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"]
    assert content.manifest["request"]["target"] == "SALVAGE_CHEMO"
    assert content.manifest["analysis"]["estimand"] == "ATT"
    assert "patients treated with SALVAGE_CHEMO" in content.methods


# ------------------------------------------------------------------------------ Response
def _wilson(responders: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval (Wilson 1927), as R's prop.test(x, n, correct = FALSE)$conf.int."""
    p = responders / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_response_figure_and_rates_equal_the_view_and_wilson(service):
    from reports.response import response_view

    view = response_view(service, CohortSpec(), 2, "cr", "salvage_regimen", MIN_CELL)
    content = _content(service, "response")
    points = {t.y[0]: t for t in content.figure().data if t.mode == "markers"}
    rates = content.frames["rates"]
    shown = rates[rates["rate"].notna()]
    assert set(points) == set(shown["group"])
    for _, row in shown.iterrows():
        trace = points[row["group"]]
        assert trace.x[0] == row["rate"]
        assert trace.error_x.array[0] == pytest.approx(row["ci_upper"] - row["rate"], abs=1e-12)
        lo, hi = _wilson(int(row["responders"]), int(row["n"]))
        assert row["rate"] == round(int(row["responders"]) / int(row["n"]), DECIMALS)
        assert (row["ci_lower"], row["ci_upper"]) == (round(lo, DECIMALS), round(hi, DECIMALS))
    np.testing.assert_array_equal(rates["rate"], _r(view.rates["rate"]))
    # the smallest regimens are combined; a group released as fewer than 33 patients has no rate
    assert "Other groups" in set(rates["group"])
    masked = rates[rates["rate"].isna()]
    assert len(masked) > 0, "a small group's rate is not shown"
    assert all(pd.isna(n) or int(n) < 3 * MIN_CELL for n in masked["n"])
    assert all(int(n) >= 3 * MIN_CELL for n in shown["n"])
    texts = [t for t in content.figure().data if t.mode == "text"]
    assert set(texts[0].y) == set(masked["group"])


def test_methods_name_the_methods_of_each_new_kind(service):
    expected = {
        "landmark": ("Anderson, Cain and Gelber", "landmark", "log-rank", "re-based", "days 182, 364"),
        "simon-makuch": ("Simon–Makuch", "Mantel–Byar", "Breslow's variance", "log(−log)"),
        "timing-cox": ("counting-process", "Efron", "robust standard errors clustered on patient", "immortal-time"),
        "balance": ("multinomial logistic", "stabilized", "standardized mean differences", "cobalt", "0.1"),
        "adjusted-km": ("weighted Kaplan–Meier", "Xie and Liu", "stabilized", "log(−log)"),
        "weighted-cox": ("robust (sandwich)", "Efron", "unweighted Cox", "BLINATUMOMAB"),
        "response": ("Wilson score", "intention to treat", "salvage", "correct"),
    }
    for name, phrases in expected.items():
        text = _content(service, name).methods
        for phrase in phrases:
            assert phrase in text, (name, phrase)
        assert "2026-06-30" in text, name  # the data cut-off
        assert "rounded to 4" in text, name
        assert "rounded to the midpoint of its block of 11" in text, name  # the release
