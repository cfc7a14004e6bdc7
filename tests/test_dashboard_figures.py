"""Figure builders: pure functions from (suppressed) results to plotly figures, tested without a browser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analyses.km import KMResult, fit_km
from ayaall.units import nice_ticks_days
from disclosure.curves import counts_at, release_km
from disclosure.policy import policy_for
from figures import balance_figure, cif_figure, forest_figure, km_figure, simon_makuch_figure
from figures.palette import OKABE_ITO, group_style


def _frame(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.45, 0.05])
    time = np.round(rng.exponential(900, size=n))
    event = (rng.random(n) < 0.6).astype(int)
    return pd.DataFrame({"time_days": time, "event_code": event, "arm": group})


def _km_inputs(min_cell: int = 11):
    frame = _frame()
    ticks = nice_ticks_days(frame["time_days"].max(), "years")
    policy = policy_for(min_cell)
    full = fit_km(frame, "time_days", "event_code", "arm")
    coarse = fit_km(policy.coarsen_frame(frame, ("time_days",)), "time_days", "event_code", "arm")
    released = release_km(coarse, full, policy)
    return released.km, counts_at(released.counts, ticks, policy), ticks


def test_km_figure_has_curves_bands_censor_marks_and_risk_table():
    shown, table, ticks = _km_inputs()
    fig = km_figure(shown, table, unit="years", title="OS", ticks_days=ticks)
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert {"A", "B"} <= set(names)
    assert any(t.fill == "tonexty" for t in fig.data), "confidence bands"
    assert any(t.marker.symbol == "line-ns-open" for t in fig.data if t.mode == "markers"), "censor marks"
    risk = [t for t in fig.data if t.meta == "risk-table"]
    assert {t.name.split(" ", 1)[1] for t in risk} == {"At risk", "Censored", "Events"}
    assert fig.layout.title.text == "OS"


def test_km_figure_group_of_fewer_than_min_cell_has_no_curve():
    shown, table, ticks = _km_inputs(min_cell=30)  # group C has about 20 patients: below 3 x 30
    fig = km_figure(shown, table, unit="months", ticks_days=ticks)
    curve_names = {t.name for t in fig.data if t.mode == "lines" and t.showlegend is not False}
    assert "C" not in curve_names


def test_risk_table_counts_are_zero_or_at_least_min_cell():
    _, table, _ = _km_inputs(min_cell=11)
    for col in ("at_risk", "censored", "events"):
        values = [v for v in table[col] if v is not None and not pd.isna(v)]
        assert all(v == 0 or v >= 11 for v in values), col


def test_km_figure_time_units_scale_the_x_axis():
    shown, table, ticks = _km_inputs()
    days = km_figure(shown, table, unit="days", ticks_days=ticks)
    years = km_figure(shown, table, unit="years", ticks_days=ticks)
    assert max(days.layout.xaxis.tickvals) == pytest.approx(max(years.layout.xaxis.tickvals) * 365.25)


def test_forest_figure_log_axis_and_models_side_by_side():
    terms = pd.DataFrame(
        {
            "term": ["arm=B", "arm=C", "arm=B", "arm=C"],
            "hr": [0.8, 1.5, 0.9, 1.3],
            "hr_ci_lower": [0.6, 1.0, 0.7, 0.9],
            "hr_ci_upper": [1.1, 2.2, 1.2, 1.9],
            "model": ["Unadjusted", "Unadjusted", "Adjusted", "Adjusted"],
        }
    )
    fig = forest_figure(terms)
    assert fig.layout.xaxis.type == "log"
    assert [t.name for t in fig.data] == ["Unadjusted", "Adjusted"]


def test_cif_figure_two_panels():
    curve = pd.DataFrame(
        {
            "group": ["A"] * 3,
            "time_days": [0, 100, 200],
            "cif_event": [0, 0.1, 0.2],
            "ci_lower_event": [0, 0.05, 0.1],
            "ci_upper_event": [0, 0.2, 0.3],
            "cif_competing": [0, 0.05, 0.05],
            "ci_lower_competing": [0, 0.01, 0.01],
            "ci_upper_competing": [0, 0.1, 0.1],
        }
    )
    fig = cif_figure(curve, group_col="arm", event_label="Relapse", competing_label="NRM")
    assert [a.text for a in fig.layout.annotations] == ["Relapse", "NRM"]


def test_balance_and_simon_makuch_figures():
    bal = pd.DataFrame({"covariate": ["age", "sex=M"], "smd_unweighted": [0.3, -0.2], "smd_weighted": [0.02, 0.01]})
    assert len(balance_figure(bal).data) == 2
    sm = pd.DataFrame({"group": ["no", "no", "yes"], "time_days": [0, 10, 0], "survival": [1, 0.9, 1]})
    assert len(simon_makuch_figure(sm, exposure="hct").data) == 2


def test_palette_is_deterministic_and_okabe_ito():
    assert group_style("salvage_regimen", "BLINATUMOMAB") == group_style("salvage_regimen", "BLINATUMOMAB")
    assert group_style("lineage", "B").color in OKABE_ITO
    colors = {group_style("frontline_regimen", r) for r in ("PED_INSPIRED", "HYPER_CVAD", "ADULT_OTHER")}
    assert len(colors) == 3


def _hand_curve(censored: list | pd.Series) -> KMResult:
    """A one-group suppressed KM result written out by hand (five rows; no interval at S = 1)."""
    curve = pd.DataFrame(
        {
            "group": ["A"] * 5,
            "time_days": [0.0, 30.4375, 60.875, 91.3125, 365.25],
            "at_risk": [None] * 5,
            "events": [None] * 5,
            "censored": censored,
            "survival": [1.0, 1.0, 0.875, 0.5, 0.1234],
            "std_err": [0.0, 0.0, 0.05, 0.1, 0.2],
            "ci_lower": [np.nan, np.nan, 0.7512, 0.25, 0.03],
            "ci_upper": [np.nan, np.nan, 0.9449, 0.7, 0.3],
        }
    )
    empty = pd.DataFrame()
    return KMResult(curve, pd.DataFrame({"group": ["A"]}), empty, empty, empty, "arm", 0.95)


@pytest.mark.parametrize(
    ("censored", "marked"),
    [
        pytest.param([False, True, False, True, True], [1, 3, 4], id="flags"),
        pytest.param([0.0, 2.0, np.nan, 0.0, 11.0], [1, 4], id="float counts, NaN not marked"),
        pytest.param(pd.Series([0, None, 0, 12, 0], dtype=object), [1, 3], id="counts, None (masked) marked"),
    ],
)
def test_km_figure_hover_text_and_censor_marks_row_by_row(censored: list | pd.Series, marked: list[int]) -> None:
    """Hover: "group<br>t unit: S (lower–upper)", t to 0.1 and percentages to 0.1% (Python's rounding),
    no interval where it is missing; censor marks where the flag is true, a count is positive or masked
    (None), never on the time-0 row. Expected strings worked out by hand from the rows above."""
    fig = km_figure(_hand_curve(censored), None, unit="months", show_ci=True)
    line = next(t for t in fig.data if t.name == "A")
    assert list(line.hovertext) == [
        "A<br>0.0 months: 100.0%",
        "A<br>1.0 months: 100.0%",
        "A<br>2.0 months: 87.5% (75.1%–94.5%)",
        "A<br>3.0 months: 50.0% (25.0%–70.0%)",
        "A<br>12.0 months: 12.3% (3.0%–30.0%)",
    ]
    assert line.hoverinfo == "text"
    marks = [t for t in fig.data if t.name == "A censored"]
    assert len(marks) == 1
    np.testing.assert_allclose(marks[0].x, np.array([0.0, 1.0, 2.0, 3.0, 12.0])[marked])
    np.testing.assert_allclose(marks[0].y, np.array([1.0, 1.0, 0.875, 0.5, 0.1234])[marked])
