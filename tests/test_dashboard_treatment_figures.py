"""Figure builders of the treatment pages: pure functions from suppressed results to plotly figures,
tested without a browser on small hand-made inputs (and once on real analyses output)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard.figures import landmark_figure, response_figure, simon_makuch_figure, title_above_legend
from dashboard.figures.simon_makuch import exposure_style
from dashboard.palette import group_style


def _landmark_curve(marks=(180.0, 365.0)) -> pd.DataFrame:
    rows = []
    for mark in marks:
        for group, drop in (("exposed", 0.3), ("unexposed", 0.2)):
            for t, s in ((0, 1.0), (100, 1 - drop / 2), (400, 1 - drop)):
                rows.append(
                    {
                        "landmark_days": mark,
                        "group": group,
                        "time_days": float(t),
                        "survival": s,
                        "ci_lower": s - 0.05,
                        "ci_upper": min(1.0, s + 0.05),
                        "censored": t == 400,
                    }
                )
    return pd.DataFrame(rows)


def test_landmark_figure_one_panel_per_landmark_in_the_exposure_colours():
    fig = landmark_figure(_landmark_curve(), exposure="hct", unit="months", title="OS")
    assert isinstance(fig, go.Figure)
    assert [a.text for a in fig.layout.annotations] == ["Landmark: day 180", "Landmark: day 365"]
    lines = [t for t in fig.data if t.mode == "lines" and t.name in {"exposed", "unexposed"}]
    assert len(lines) == 4
    assert [t.showlegend for t in lines] == [True, True, False, False], "each group once in the legend"
    exposed = next(t for t in lines if t.name == "exposed")
    # the same colour as "Transplanted: True" on the Survival page
    assert exposed.line.color == group_style("hct", "True").color
    assert max(exposed.x) == pytest.approx(400 / 30.4375)
    assert any(t.fill == "tonexty" for t in fig.data), "confidence bands"
    assert any(t.mode == "markers" for t in fig.data), "censor marks"


def test_landmark_figure_wraps_panels_in_rows_of_three():
    fig = landmark_figure(_landmark_curve((30.0, 90.0, 180.0, 365.0)), exposure="car_t")
    rows = {a.y for a in fig.layout.annotations}
    assert len(fig.layout.annotations) == 4
    assert len(rows) == 2


def test_simon_makuch_figure_exposure_colours_and_late_start():
    curve = pd.DataFrame(
        {
            "group": ["exposed", "exposed", "unexposed", "unexposed"],
            "time_days": [120.0, 300.0, 0.0, 300.0],
            "survival": [1.0, 0.8, 1.0, 0.7],
            "ci_lower": [1.0, 0.7, 1.0, 0.6],
            "ci_upper": [1.0, 0.9, 1.0, 0.8],
        }
    )
    fig = simon_makuch_figure(curve, exposure="car_t", unit="days", y_title="OS probability")
    lines = {t.name: t for t in fig.data if t.name}
    assert lines["exposed"].line.color == group_style("car_t", "True").color
    assert lines["unexposed"].line.color == group_style("car_t", "False").color
    assert lines["exposed"].x[0] == 120.0, "the exposed curve starts when enough patients are exposed"
    assert fig.layout.yaxis.title.text == "OS probability"
    assert exposure_style("hct", "exposed") == group_style("hct", "True")


def test_response_figure_points_intervals_and_masked_groups():
    rates = pd.DataFrame(
        {
            "group": ["BLINATUMOMAB", "CAR_T_CD7", "SALVAGE_CHEMO"],
            "n": [164, None, 585],
            "responders": [82, None, 255],
            "rate": [0.5, np.nan, 255 / 585],
            "ci_lower": [0.42, np.nan, 0.40],
            "ci_upper": [0.58, np.nan, 0.48],
        }
    )
    fig = response_figure(rates, group_col="salvage_regimen", outcome_label="CR")
    points = [t for t in fig.data if t.mode == "markers"]
    assert [t.y[0] for t in points] == ["BLINATUMOMAB", "SALVAGE_CHEMO"]
    assert points[0].marker.color == group_style("salvage_regimen", "BLINATUMOMAB").color
    assert points[0].error_x.array[0] == pytest.approx(0.08)
    assert points[0].error_x.arrayminus[0] == pytest.approx(0.08)
    assert "82 of 164" in points[0].hovertext[0]
    masked = [t for t in fig.data if t.mode == "text"]
    assert list(masked[0].y) == ["CAR_T_CD7"], "a masked group keeps its row, without a point"
    assert list(fig.layout.yaxis.categoryarray) == ["SALVAGE_CHEMO", "CAR_T_CD7", "BLINATUMOMAB"]


def test_title_above_legend_gives_the_legend_its_own_line():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="a"))
    fig.update_layout(height=500, title={"text": "A long title naming an endpoint, a time zero and a method"})
    title_above_legend(fig)
    assert fig.layout.title.yref == fig.layout.legend.yref == "container"
    assert fig.layout.title.y > fig.layout.legend.y
    assert fig.layout.margin.t >= (1 - fig.layout.legend.y) * 500 + 20, "legend above the plot area"


def test_timing_figures_from_a_real_view(demo_db):
    """The page's figures of a real analysis: curves, bands and hazard ratios, no counts anywhere."""
    import json

    import plotly.utils

    from analyses.cohort import CohortSpec
    from dashboard.data import RegistryService
    from dashboard.figures.views import timing_figures
    from dashboard.timing_view import timing_view

    service = RegistryService(demo_db)
    try:
        view = timing_view(service, CohortSpec(), "hct", "OS", "DX", [180, 365], [], 11)
        landmark, sm, forest = timing_figures(view, "years")
    finally:
        service.close()
    assert len(landmark.layout.annotations) == 2
    assert {t.name for t in sm.data if t.name} == {"exposed", "unexposed"}
    assert forest.layout.xaxis.type == "log"
    text = json.dumps([landmark, sm, forest], cls=plotly.utils.PlotlyJSONEncoder)
    assert "at_risk" not in text
