"""Treatment timing, adjusted comparison and response pages without a browser (3,000-patient demo registry).

* The view functions return the numbers of the analyses they call (``analyses.timing``,
  ``analyses.weighting``, ``analyses.response``, each validated against R in its own tests) and of the
  ``ayaall analyze`` commands that call them the same way.
* Small-cell suppression: no count from 1 to min_cell - 1 and no patient id in any callback output
  (tables, notes, figure traces and hover text) or in the views' count columns, over named cohorts.
* A cohort too small or an analysis the data cannot support gives a message in place of the figures.
* The URL sets every option; the immortal-time warning links to the timing page with the query string.
"""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.utils
import pytest

from ayaall.cohort import CohortSpec
from ayaall.settings import Settings
from dashboard.context import PageContext

MIN_CELL = 11
SALVAGE = ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"]
COVARIATES = ["age_at_dx", "cns_status", "mrd_eoi"]


@pytest.fixture(scope="module")
def page_ctx(demo_db):
    from dashboard.app import create_app

    app = create_app(demo_db, Settings(min_cell=MIN_CELL))
    return PageContext(app.server.config["AYAALL_SERVICE"], Settings(min_cell=MIN_CELL))


def _filters(**values):
    from ayaall.filters import FILTERS

    ids_ = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]
    return [values.get(s.column) for s in FILTERS], ids_


def _json(output) -> str:
    return json.dumps(output, cls=plotly.utils.PlotlyJSONEncoder)


# Counts as the pages write them: table cells marked "count", "N patients", "N of M" in hover text,
# "Patients analysed: N" and the like in sentences.
_COUNT_PHRASES = (
    re.compile(r"(\d[\d,]*) (?:patients|responded|had no assessment|events)\b"),
    re.compile(r"(\d[\d,]*) of (\d[\d,]*)"),
    re.compile(r"(?:analysed|covariate|trimmed): (\d[\d,]*)"),
)


def _count_cells(node):
    if isinstance(node, dict):
        props = node.get("props", {})
        if node.get("type") == "Td" and props.get("className") == "count" and props.get("children") != "—":
            yield props["children"]
        for value in node.values():
            yield from _count_cells(value)
    elif isinstance(node, list):
        for value in node:
            yield from _count_cells(value)


def _assert_safe(output, min_cell: int = MIN_CELL) -> None:
    """No patient id; every count cell and every count in a sentence or hover text is 0 or >= min_cell."""
    text = _json(output)
    assert "patient_id" not in text
    assert not re.search(r"\bP\d{7}\b", text), "a patient id reached the output"
    counts = [int(c.replace(",", "")) for c in _count_cells(json.loads(text))]
    for pattern in _COUNT_PHRASES:
        for match in pattern.finditer(text):
            counts += [int(g.replace(",", "")) for g in match.groups()]
    for value in counts:
        assert value == 0 or value >= min_cell, f"count {value} below min_cell {min_cell}"
    for key in ('"at_risk"', '"censored_count"', '"weighted_at_risk"', '"effective_at_risk"'):
        assert key not in text, f"{key} reached the browser"


def _assert_counts(frame, columns, min_cell: int) -> None:
    for col in columns:
        for v in frame[col]:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            assert int(v) == 0 or int(v) >= min_cell, f"{col} = {v} below min_cell {min_cell}"


COHORTS = {
    "everyone": {},
    "t_lineage": {"lineage": ["T"]},
    "small_subset": {"subtype": ["IAMP21", "ETV6_RUNX1"], "age_group": ["30-39"]},
    "transplanted_relapsed": {"hct": "yes", "relapsed": "yes"},
    "b_recent": {"lineage": ["B"], "dx_year": [2014, 2030]},
}


# ------------------------------------------------------------------------------ suppression of every output
@pytest.mark.parametrize("cohort", list(COHORTS), ids=list(COHORTS))
@pytest.mark.parametrize(
    ("exposure", "endpoint", "marks"),
    [("hct", "OS/DX", ["180", "365"]), ("car_t", "OS/REL1", ["30", "90"]), ("hct", "RFS/CR1", ["100", "730"])],
    ids=["hct_os_dx", "car_t_os_rel1", "hct_rfs_cr1"],
)
def test_timing_outputs_are_suppressed(page_ctx, cohort, exposure, endpoint, marks):
    from dashboard.pages.timing import timing_outputs

    values, ids_ = _filters(**COHORTS[cohort])
    _assert_safe(timing_outputs(page_ctx, values, ids_, exposure, endpoint, marks, ["age_at_dx"], "months"))


@pytest.mark.parametrize("cohort", list(COHORTS), ids=list(COHORTS))
@pytest.mark.parametrize(
    ("estimand", "trim", "truncate"), [("ATE", "none", "none"), ("ATT", "0.05", "0.01")], ids=["ate", "att_trimmed"]
)
def test_weighting_outputs_are_suppressed(page_ctx, cohort, estimand, trim, truncate):
    from dashboard.pages.weighting import weighting_outputs

    values, ids_ = _filters(**COHORTS[cohort])
    out = weighting_outputs(
        page_ctx,
        values,
        ids_,
        "salvage_regimen",
        SALVAGE,
        COVARIATES,
        estimand,
        None,
        trim,
        truncate,
        "OS/LINE2",
        "months",
    )
    _assert_safe(out)


@pytest.mark.parametrize("cohort", list(COHORTS), ids=list(COHORTS))
@pytest.mark.parametrize(
    ("line", "outcome", "by"),
    [("1", "cr", "frontline_regimen"), ("2", "mrd_negative", "salvage_regimen"), ("1", "mrd_negative", "none")],
    ids=["line1_cr", "line2_mrd", "line1_all"],
)
def test_response_outputs_are_suppressed(page_ctx, cohort, line, outcome, by):
    from dashboard.pages.response import response_outputs

    values, ids_ = _filters(**COHORTS[cohort])
    _assert_safe(response_outputs(page_ctx, values, ids_, line, outcome, by))


@pytest.mark.parametrize("min_cell", [11, 40], ids=["min_cell_11", "min_cell_40"])
def test_view_count_columns_respect_min_cell(page_ctx, min_cell):
    """The views themselves (what the export writes) hold no small count, also with a high threshold."""
    from reports.response import response_view
    from reports.timing import timing_view
    from reports.weighting import weighting_view

    service, cohort = page_ctx.service, CohortSpec.from_dict({"filters": {"lineage": ["B"]}})
    t = timing_view(service, cohort, "car_t", "OS", "REL1", [30, 90, 91], ["age_at_dx"], min_cell)
    _assert_counts(t.landmark_table, ["At risk", "Exposed by then", "Not exposed"], min_cell)
    _assert_counts(t.landmark_groups, ["Patients", "Events"], min_cell)
    _assert_counts(t.simon_makuch_summary, ["Patients (contributing time)", "Events"], min_cell)
    _assert_counts(t.cox_table, ["Patients", "Events"], min_cell)
    assert not {"at_risk", "events", "entered"} & set(t.simon_makuch.columns)
    w = weighting_view(
        service, cohort, "salvage_regimen", SALVAGE, COVARIATES, "ATE", None, 0.02, None, "OS", "LINE2", min_cell
    )
    _assert_counts(w.summary, ["Patients", "Events"], min_cell)
    _assert_counts(w.cox_table, ["Patients", "Events"], min_cell)
    assert w.km.curve["at_risk"].isna().all()
    assert w.km.curve["events"].isna().all()
    for value in (w.n, w.n_missing, w.n_trimmed):
        assert value is None or value == 0 or value >= min_cell
    r = response_view(service, cohort, 2, "cr", "salvage_regimen", min_cell)
    _assert_counts(r.rates, ["n", "responders"], min_cell)
    assert r.rates.loc[r.rates["responders"].isna(), "rate"].isna().all(), "a masked count's rate would reveal it"


def _released(value, truth: int, key: int | None = None, k: int = MIN_CELL) -> bool:
    """``value`` is how ``disclosure.policy`` releases ``truth`` (of the patients whose cell key is ``key``;
    None: a synthetic frame without record keys): shifted by the key, then 0 as 0, 1 to k masked, else
    the midpoint of its block of k."""
    from disclosure.policy import ReleasePolicy

    shifted = ReleasePolicy(k).perturbed(truth, key)
    if shifted == 0:
        return value == 0
    if shifted <= k:
        return value is None
    return value == k * -(-int(shifted) // k) - k // 2


def test_landmarks_a_day_apart_are_one_release(page_ctx):
    """[hct_os_dx_365_366] Landmarks on days 365 and 366: a handful of patients leave follow-up on day
    366 (counted here), so two landmarks would give that count by difference. Both are moved to the
    nearest grid day (364) and the page shows one landmark, its counts released blocks of the numbers at
    risk on grid-coarsened times."""
    from analyses.landmark import fit_landmark
    from disclosure.policy import ReleasePolicy
    from disclosure.treatment import landmark_keys
    from etl.read import exposure_frame
    from reports.timing import timing_view

    frame = exposure_frame(page_ctx.service.db_path, CohortSpec(), "OS", "DX", "hct", keys=True)
    truth = fit_landmark(frame, "time_days", "event_code", "exposure_days", [365, 366]).landmarks
    drop = int(truth["n_at_risk"].iloc[0] - truth["n_at_risk"].iloc[1])
    assert 0 < drop < MIN_CELL  # the named case: a handful of patients leave follow-up on day 366
    view = timing_view(page_ctx.service, CohortSpec(), "hct", "OS", "DX", [365, 366], [], MIN_CELL)
    assert view.landmarks_days == (364.0,)
    assert len(view.landmark_table) == 1
    coarse = ReleasePolicy(MIN_CELL).coarsen_frame(frame, ("time_days", "exposure_days"))
    grid = fit_landmark(coarse, "time_days", "event_code", "exposure_days", [364.0]).landmarks.iloc[0]
    keys = landmark_keys(coarse, [364.0])[364.0]
    row = view.landmark_table.iloc[0]
    assert _released(row["At risk"], int(grid["n_at_risk"]), keys.at_risk)
    assert _released(row["Exposed by then"], int(grid["n_exposed"]), keys.exposed)
    assert _released(row["Not exposed"], int(grid["n_unexposed"]), keys.unexposed)


def _simon_makuch_release(frame, min_cell: int):
    from analyses.counting import start_stop_frame
    from analyses.landmark import simon_makuch
    from disclosure.policy import ReleasePolicy
    from disclosure.treatment import release_simon_makuch

    policy = ReleasePolicy(min_cell)
    coarse = policy.coarsen_frame(frame, ("time_days", "exposure_days"))
    args = ("time_days", "event_code", "exposure_days")
    return release_simon_makuch(
        simon_makuch(start_stop_frame(coarse, *args)), simon_makuch(start_stop_frame(frame, *args)), policy
    )


def test_simon_makuch_small_exposed_group_is_not_drawn():
    """[early_exposed_death] 60 patients, 23 exposed (three on day 10, one of whom dies on day 12; twenty
    on day 100): the exposed group is smaller than 3k = 33, so its curve (whose first step would show
    the one death) is not drawn and its one event is masked; the unexposed curve is drawn. Without
    disclosure control both are drawn."""
    import pandas as pd

    n = 60
    frame = pd.DataFrame(
        {
            "time_days": np.r_[np.full(3, 12.0), np.full(n - 3, 400.0)],
            "event_code": np.r_[[1, 0, 0], np.zeros(n - 3, int)],
            "exposure_days": np.r_[np.full(3, 10.0), np.full(20, 100.0), np.full(n - 23, np.nan)],
        }
    )
    curve, groups = _simon_makuch_release(frame, MIN_CELL)
    assert set(curve["group"]) == {"unexposed"}
    groups = groups.set_index("group")
    assert groups.loc["exposed", "events"] is None
    assert _released(groups.loc["exposed", "n"], 23)
    curve0, groups0 = _simon_makuch_release(frame, 0)
    assert set(curve0["group"]) == {"exposed", "unexposed"}, "without disclosure control both curves are drawn"
    assert groups0.set_index("group").loc["exposed", "events"] == 1


def test_landmark_counts_are_released_blocks_of_the_grid_counts():
    """[landmark_small_drop] 88 patients, 6 of whom die on day 30, none exposed by the 100-day landmark
    (ten exposed on day 200): the 82 at risk are released as 83 (their block 78-88), as are the
    unexposed group's 82, and its 44 events as 39 (34-44); the cohort's 88 is 83 too, so the 6 deaths
    before the landmark are not given by difference. With disclosure control off, exact."""
    import warnings

    import pandas as pd

    from analyses.landmark import fit_landmark
    from disclosure.policy import ReleasePolicy
    from disclosure.treatment import release_landmarks

    n = 88
    frame = pd.DataFrame(
        {
            "time_days": np.r_[np.full(6, 30.0), np.linspace(150, 1400, 44), np.full(38, 1400.0)],
            "event_code": np.r_[np.ones(6, int), np.ones(44, int), np.zeros(38, int)],
            "exposure_days": np.r_[np.full(6, np.nan), np.full(10, 200.0), np.full(72, np.nan)],
        }
    )

    def tables(min_cell: int):
        policy = ReleasePolicy(min_cell)
        args = ("time_days", "event_code", "exposure_days", [policy.snap_landmark(100.0)])
        with warnings.catch_warnings():  # nobody is exposed by the landmark: no log-rank test (named)
            warnings.simplefilter("ignore")
            exact = fit_landmark(frame, *args)
            coarse = fit_landmark(policy.coarsen_frame(frame, ("time_days", "exposure_days")), *args)
        return release_landmarks(coarse, exact, "hct", policy, [])

    released = tables(MIN_CELL)
    test = released.tests.iloc[0]
    assert (test["at_risk"], test["exposed"], test["not_exposed"]) == (83, 0, 83)
    assert ReleasePolicy(MIN_CELL).count(n) == 83
    groups = released.groups.set_index("group")
    assert (groups.loc["unexposed", "n"], groups.loc["unexposed", "events"]) == (83, 39)
    exact = tables(0)
    assert exact.tests.iloc[0]["at_risk"] == 82
    assert exact.groups.set_index("group").loc["unexposed", "events"] == 44


def test_landmark_counts_are_the_same_on_the_page_and_in_the_command(page_ctx, demo_db, capsys):
    """[hct_rfs_cr1] The page's landmark table and ``ayaall analyze landmark`` print the same counts
    (at risk, exposed, not exposed, each group's patients and events), masks included: both read
    ``reports.timing.timing_view``."""
    from ayaall.cli import main
    from reports.timing import timing_view

    view = timing_view(page_ctx.service, CohortSpec(), "hct", "RFS", "CR1", [100, 365], [], MIN_CELL)
    args = ["analyze", "landmark", "--db", str(demo_db), "--endpoint", "RFS", "--origin", "CR1"]
    assert main([*args, "--exposure", "hct", "--landmarks", "100,365", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    compared = 0
    for row, shown in zip(out["landmarks"], view.landmark_table.to_dict("records"), strict=True):
        assert (row["n_at_risk"], row["n_exposed"], row["n_unexposed"]) == (
            shown["At risk"],
            shown["Exposed by then"],
            shown["Not exposed"],
        )
        groups = view.landmark_estimates[view.landmark_estimates["landmark_days"] == row["landmark_days"]]
        groups = groups.set_index("group")
        for group in row["groups"]:
            assert (group["n"], group["events"]) == (
                groups.loc[group["group"], "n"],
                groups.loc[group["group"], "events"],
            )
            compared += 1
    assert compared == 4


# ------------------------------------------------------------------------------ numbers equal the analyses'
def test_timing_view_numbers_equal_the_analyses(page_ctx):
    """[hct_os_dx] Landmark log-rank, Simon–Makuch, Mantel–Byar and time-varying Cox as analyses.timing."""
    from analyses.counting import start_stop_frame
    from analyses.cox_counting import fit_cox_counting
    from analyses.landmark import fit_landmark, mantel_byar_test, simon_makuch
    from disclosure.policy import policy_for
    from etl.read import exposure_frame
    from reports.timing import timing_view

    view = timing_view(page_ctx.service, CohortSpec(), "hct", "OS", "DX", [365, 180], [], MIN_CELL)
    assert view.landmarks_days == (182.0, 364.0)  # on the 7-day grid
    frame = exposure_frame(page_ctx.service.db_path, CohortSpec(), "OS", "DX", "hct")
    lm = fit_landmark(frame, "time_days", "event_code", "exposure_days", [182, 364])
    assert [float(v) for v in view.landmark_table["Log-rank χ²"]] == pytest.approx(
        [round(v, 2) for v in lm.landmarks["statistic"]], abs=0.005
    )
    from disclosure.treatment import landmark_keys

    keyed = exposure_frame(page_ctx.service.db_path, CohortSpec(), "OS", "DX", "hct", keys=True)
    coarse = policy_for(MIN_CELL).coarsen_frame(keyed, ("time_days", "exposure_days"))
    grid = fit_landmark(coarse, "time_days", "event_code", "exposure_days", [182, 364]).landmarks
    keys = landmark_keys(coarse, [182.0, 364.0])
    assert list(view.landmark_table["At risk"]) == policy_for(MIN_CELL).counts(
        grid["n_at_risk"], [keys[m].at_risk for m in (182.0, 364.0)]
    )
    counting = start_stop_frame(frame, "time_days", "event_code", "exposure_days")
    mb = mantel_byar_test(counting)
    assert view.mantel_byar["statistic"] == pytest.approx(mb.statistic, rel=1e-12)
    tv = fit_cox_counting(counting, "start", "stop", "event", ["exposed"], cluster_col="row_id")
    row = view.hazard_ratios[view.hazard_ratios["model"] == "Time-varying"].iloc[0]
    assert (row["hr"], row["hr_ci_lower"], row["hr_ci_upper"]) == pytest.approx(
        (tv.terms["hr"].iloc[0], tv.terms["hr_ci_lower"].iloc[0], tv.terms["hr_ci_upper"].iloc[0]), rel=1e-12
    )
    # Simon-Makuch: estimated from rounded counts on the grid, close to the exact curve where many are
    # at risk (bench_curve_release.py measures how close), and stopped before few remain
    sm = simon_makuch(counting).curve
    for group in ("exposed", "unexposed"):
        shown = view.simon_makuch[view.simon_makuch["group"] == group]
        full = sm[sm["group"] == group]
        assert len(shown) > 20
        assert (shown["time_days"] % 7 == 0).all()
        step = full["survival"].to_numpy()
        exact_at = step[np.searchsorted(full["time_days"].to_numpy(), shown["time_days"].to_numpy(), "right") - 1]
        assert np.max(np.abs(shown["survival"].to_numpy() - exact_at)) < 0.05
        at_risk = full.set_index("time_days")["at_risk"]
        first, last = float(shown["time_days"].min()), float(shown["time_days"].max())
        assert at_risk[(at_risk.index >= first) & (at_risk.index <= last)].min() >= MIN_CELL
    assert (
        view.simon_makuch[view.simon_makuch["group"] == "exposed"]["time_days"].min() > 0
    )  # drawn from where many are exposed


def test_timing_view_matches_the_landmark_command(page_ctx):
    """[car_t_os_rel1] The page and ``ayaall analyze landmark`` report the same tests and hazard ratio."""
    from reports.analyze.landmark import run
    from reports.timing import timing_view

    cli = run(page_ctx.service.db_path, "OS", "REL1", CohortSpec(), "car_t", [90], min_cell=MIN_CELL)
    view = timing_view(page_ctx.service, CohortSpec(), "car_t", "OS", "REL1", [90], [], MIN_CELL)
    assert view.mantel_byar["p"] == pytest.approx(cli["mantel_byar"]["p"], rel=1e-12)
    tv = view.hazard_ratios[view.hazard_ratios["model"] == "Time-varying"].iloc[0]
    assert tv["hr"] == pytest.approx(cli["time_varying_cox"][0]["hr"], rel=1e-12)
    assert view.landmark_table["At risk"].iloc[0] == cli["landmarks"][0]["n_at_risk"]
    assert view.n == cli["n"]


def test_weighting_view_matches_the_iptw_command(page_ctx):
    """[salvage_ate] Weighted HRs, SMDs and group counts as ``ayaall analyze iptw`` (README example)."""
    from reports.analyze.iptw import run
    from reports.weighting import weighting_view

    cohort = CohortSpec.from_dict({"filters": {"lineage": ["B"]}})
    cli = run(page_ctx.service.db_path, "OS", "LINE2", cohort, "salvage_regimen", COVARIATES, levels=SALVAGE)
    view = weighting_view(
        page_ctx.service, cohort, "salvage_regimen", SALVAGE, COVARIATES, "ATE", None, None, None, "OS", "LINE2", 11
    )
    weighted = view.hazard_ratios[view.hazard_ratios["model"] == "IPTW (robust SE)"]
    assert list(weighted["term"]) == [t["term"] for t in cli["cox"]["terms"]]
    assert list(weighted["hr"]) == pytest.approx([t["hr"] for t in cli["cox"]["terms"]], rel=1e-12)
    assert list(weighted["hr_ci_upper"]) == pytest.approx([t["hr_ci"][1] for t in cli["cox"]["terms"]], rel=1e-12)
    assert list(view.balance["smd_weighted"]) == pytest.approx([b["smd_weighted"] for b in cli["balance"]], rel=1e-12)
    assert list(view.km.summary["n"]) == [g["n"] for g in cli["groups"]]
    assert view.n == cli["n"]
    assert view.levels == tuple(cli["levels"])
    # the adjusted curve is the weighted Kaplan-Meier of the command, cut where fewer than 11 are at risk
    for group in cli["groups"]:
        full = {r["time_days"]: r["survival"] for r in group["curve"]}
        shown = view.km.curve[(view.km.curve["group"] == group["group"]) & (view.km.curve["time_days"] > 0)]
        assert shown["survival"].to_numpy() == pytest.approx([full[t] for t in shown["time_days"]], rel=1e-12)


def test_weighting_att_target_is_passed_to_weights_and_balance(page_ctx):
    """[att_unsorted_levels] With levels not in sorted order the ATT target is still the last level chosen."""
    from analyses.weighting import balance_table, fit_propensity, iptw_weights
    from reports.weighting import weighting_view

    levels = ["SALVAGE_CHEMO", "BLINATUMOMAB"]
    view = weighting_view(
        page_ctx.service,
        CohortSpec(),
        "salvage_regimen",
        levels,
        ["age_at_dx"],
        "ATT",
        None,
        None,
        None,
        "OS",
        "LINE2",
        11,
    )
    assert view.target == "BLINATUMOMAB"
    frame = page_ctx.service.frame(CohortSpec(), "OS", "LINE2", ["salvage_regimen", "age_at_dx"])
    frame = frame[frame["salvage_regimen"].isin(levels)]
    ps = fit_propensity(frame, "salvage_regimen", ["age_at_dx"], levels=levels)
    w = iptw_weights(ps, estimand="ATT", target="BLINATUMOMAB")
    expected = balance_table(
        frame.loc[w.index].assign(iptw=w["weight"]),
        "salvage_regimen",
        ["age_at_dx"],
        "iptw",
        estimand="ATT",
        target="BLINATUMOMAB",
    )
    assert view.balance["smd_weighted"].iloc[0] == pytest.approx(expected["smd_weighted"].iloc[0], rel=1e-12)
    assert "Effective sample size" in view.summary.columns


def test_response_view_matches_the_response_command(page_ctx):
    """[line2_by_salvage] Rates and Wilson intervals as ``ayaall analyze response --line 2 --by salvage_regimen``."""
    from reports.analyze.response import run
    from reports.response import response_view

    cli = run(page_ctx.service.db_path, CohortSpec(), line=2, by="salvage_regimen", min_cell=MIN_CELL)
    for outcome in ("cr", "mrd_negative"):
        view = response_view(page_ctx.service, CohortSpec(), 2, outcome, "salvage_regimen", MIN_CELL)
        groups = cli["outcomes"][outcome]["groups"]
        assert list(view.rates["group"]) == [g["group"] for g in groups]
        assert [None if v is None else int(v) for v in view.rates["responders"]] == [g["responders"] for g in groups]
        rates = [np.nan if g["rate"] is None else g["rate"] for g in groups]
        np.testing.assert_allclose(view.rates["rate"].astype(float), rates, rtol=1e-12)
        assert view.responders == cli["outcomes"][outcome]["responders"]
    assert view.n == cli["n"]
    assert view.not_assessed == cli["not_assessed"]


def test_views_are_cached(page_ctx):
    from reports.response import response_view

    cache = page_ctx.service.cache
    response_view(page_ctx.service, CohortSpec(), 1, "cr", "lineage", MIN_CELL)
    hits = cache.hits
    response_view(page_ctx.service, CohortSpec(), 1, "cr", "lineage", MIN_CELL)
    assert cache.hits == hits + 1


# ------------------------------------------------------------------------------ messages instead of figures
_HIDDEN = {"display": "none"}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("empty_cohort", "cohort"),
        ("baseline_exposure", "cannot start after time zero"),
        ("no_landmark", "at least one landmark"),
        ("landmark_beyond_follow_up", "No patient is event-free"),
    ],
)
def test_timing_degenerate_cases_show_a_message(page_ctx, case, expected):
    from dashboard.pages.timing import timing_outputs

    args = {
        "empty_cohort": ({"dx_year": [1990, 1991]}, "hct", "OS/DX", ["180"]),
        "baseline_exposure": ({}, "hct", "OS/HCT1", ["180"]),
        "no_landmark": ({}, "hct", "OS/DX", []),
        "landmark_beyond_follow_up": ({"lineage": ["T"]}, "hct", "OS/DX", ["100000"]),
    }[case]
    values, ids_ = _filters(**args[0])
    out = timing_outputs(page_ctx, values, ids_, args[1], args[2], args[3], [], "months")
    assert expected in _json(out[0])
    assert out[2] == out[5] == out[8] == _HIDDEN


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("one_treatment", "at least two treatments"),
        ("no_covariate", "at least one covariate"),
        ("separation", "predicts treatment perfectly"),
        ("empty_cohort", "No patient of this cohort"),
    ],
)
def test_weighting_degenerate_cases_show_a_message(page_ctx, case, expected):
    from dashboard.pages.weighting import weighting_outputs

    cohort, levels, cov = {
        "one_treatment": ({}, ["BLINATUMOMAB"], COVARIATES),
        "no_covariate": ({}, SALVAGE, []),
        "separation": ({}, SALVAGE, ["age_at_dx", "lineage"]),  # no T-lineage patient had blinatumomab
        "empty_cohort": ({"dx_year": [1990, 1991]}, SALVAGE, COVARIATES),
    }[case]
    values, ids_ = _filters(**cohort)
    out = weighting_outputs(
        page_ctx, values, ids_, "salvage_regimen", levels, cov, "ATE", None, "none", "none", "OS/LINE2", "months"
    )
    assert expected in _json(out[0])
    assert out[2] == out[5] == out[8] == _HIDDEN


def test_response_empty_cohort_shows_a_message(page_ctx):
    from dashboard.pages.response import response_outputs

    values, ids_ = _filters(dx_year=[1990, 1991])
    out = response_outputs(page_ctx, values, ids_, "2", "cr", "salvage_regimen")
    assert "started line 2" in _json(out[0])
    assert out[2] == _HIDDEN


def test_post_baseline_treatment_is_flagged_on_the_weighting_page(page_ctx):
    """[salvage_from_rel1] Salvage regimen from relapse: treatment is chosen after time zero."""
    from reports.weighting import weighting_view

    view = weighting_view(
        page_ctx.service,
        CohortSpec(),
        "salvage_regimen",
        SALVAGE,
        COVARIATES,
        "ATE",
        None,
        None,
        None,
        "OS",
        "REL1",
        11,
    )
    assert any("immortal time" in note for note in view.notes)


# ------------------------------------------------------------------------------ URL state
def _find(node, component_id):
    """The component with ``component_id`` in a layout tree."""
    if getattr(node, "id", None) == component_id:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize(
    ("page", "search", "expected"),
    [
        (
            "timing",
            "?exposure=car_t&endpoint=OS/REL1&landmark=90&landmark=365&adjust=age_at_dx&unit=years",
            {"exposure": "car_t", "endpoint": "OS/REL1", "landmark": ["90", "365"], "adjust": ["age_at_dx"]},
        ),
        ("timing", "?exposure=nope&landmark=17", {"exposure": "hct", "landmark": []}),
        (
            "weighting",
            "?treat=frontline_regimen&levels=HYPER_CVAD&levels=PED_INSPIRED&wcov=sex&estimand=ATT&trim=0.05",
            {
                "treat": "frontline_regimen",
                "levels": ["HYPER_CVAD", "PED_INSPIRED"],
                "wcov": ["sex"],
                "estimand": "ATT",
                "trim": "0.05",
                "wendpoint": "OS/DX",
                "target": "PED_INSPIRED",
            },
        ),
        ("response", "?line=2&outcome=mrd_negative&by=salvage_regimen", {"line": "2", "outcome": "mrd_negative"}),
    ],
    ids=["timing", "timing_invalid_values", "weighting", "response"],
)
def test_url_sets_every_option(page_ctx, page, search, expected):
    import importlib

    from dashboard import ids
    from dashboard.state import parse_search

    module = importlib.import_module(f"dashboard.pages.{page}")
    layout = module.layout(parse_search(search), page_ctx)
    for name, value in expected.items():
        control = _find(layout, ids.option_id(name))
        assert control is not None, name
        assert control.value == value, name
    assert set(expected) <= set(module.OPTIONS)


# ------------------------------------------------------------------------------ immortal-time warning
def test_exposure_warning_uses_the_analyses_answer():
    from ayaall.exposures import post_baseline
    from ayaall.filters import BY_COLUMNS
    from dashboard.exposures import exposure_warning

    for origin in ("DX", "CR1", "REL1", "LINE2", "HCT1"):
        for column, _ in BY_COLUMNS:
            assert (exposure_warning(column, origin) is not None) == (column in post_baseline(origin))
    assert exposure_warning("mrd_eoi", "DX") is not None  # known at end of induction, after diagnosis
    assert exposure_warning("relapsed", "HCT1") is not None
    assert exposure_warning(None, "DX") is None


def test_exposure_link_keeps_the_query_string():
    from dashboard.exposures import timing_href
    from dashboard.state import parse_search

    href = timing_href("?lineage=T&dx_year=2005..2015&endpoint=OS/DX&by=hct&unit=years")
    path, _, search = href.partition("?")
    assert path == "/timing"
    assert parse_search(search) == {
        "lineage": ["T"],
        "dx_year": ["2005..2015"],
        "endpoint": ["OS/DX"],
        "by": ["hct"],
        "unit": ["years"],
        "exposure": ["hct"],
    }
    assert timing_href("?by=salvage_regimen") == "/timing?by=salvage_regimen"
    assert timing_href(None) == "/timing"


def test_exposure_link_callback_is_registered(page_ctx):
    from dashboard.app import create_app

    app = create_app(page_ctx.service.db_path)
    assert any(key.startswith("exposure-warning-link.href") for key in app.callback_map)


def test_the_scanner_finds_small_counts_when_suppression_is_off(demo_db):
    """The checks above can fail: the same outputs without suppression show counts below 11."""
    from dashboard.app import create_app
    from dashboard.pages.response import response_outputs
    from dashboard.pages.timing import timing_outputs

    off = Settings(min_cell=0)
    ctx = PageContext(create_app(demo_db, off).server.config["AYAALL_SERVICE"], off)
    values, ids_ = _filters(**COHORTS["small_subset"])
    for out in (
        timing_outputs(ctx, values, ids_, "car_t", "OS/REL1", ["30", "90"], [], "months"),
        response_outputs(ctx, values, ids_, "2", "cr", "salvage_regimen"),
    ):
        with pytest.raises(AssertionError, match="below min_cell"):
            _assert_safe(out)


def test_weighting_treatment_change_resets_levels_and_time_zero(page_ctx):
    """Choosing the frontline regimen offers its codes, its usual comparison and time zero DX."""
    from dash import no_update

    from dashboard.pages.weighting import target_choices, treatment_defaults

    options, levels, endpoint = treatment_defaults(page_ctx, "frontline_regimen")
    assert "PED_INSPIRED" in options
    assert "BLINATUMOMAB" not in options
    assert levels == ["PED_INSPIRED", "HYPER_CVAD"]
    assert endpoint == "OS/DX"
    assert treatment_defaults(page_ctx, "nope") == (no_update, no_update, no_update)
    # the ATT target follows the levels: kept when still compared, else the last level
    assert target_choices(["A", "B"], [{"label": "A", "value": "A"}], "A") == (["A", "B"], no_update)
    assert target_choices(["A", "C"], ["A", "C"], "B") == (no_update, "C")
    assert target_choices([], [], "B") == (no_update, None)
