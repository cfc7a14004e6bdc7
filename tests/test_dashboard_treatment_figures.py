"""Figure builders of the treatment pages: pure functions from suppressed results to plotly figures,
tested without a browser on small hand-made inputs (and once on real analyses output)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from figures import balance_figure, landmark_figure, response_figure, simon_makuch_figure, title_above_legend
from figures.palette import group_style
from figures.simon_makuch import exposure_style


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

    from ayaall.cohort import CohortSpec
    from figures.views import timing_figures
    from reports.service import RegistryService
    from reports.timing import timing_view

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


# ------------------------------------------------------------------------------ print style (exports)
def _print(grayscale: bool = False):
    from export.presets import get_preset, style_for

    return style_for(get_preset("single"), grayscale=grayscale)


def _rates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["BLINATUMOMAB", "SALVAGE_CHEMO"],
            "n": [164, 585],
            "responders": [82, 255],
            "rate": [0.5, 255 / 585],
            "ci_lower": [0.42, 0.40],
            "ci_upper": [0.58, 0.48],
        }
    )


def _balance() -> pd.DataFrame:
    return pd.DataFrame(
        {"covariate": ["age_at_dx", "cns_status: CNS3"], "smd_unweighted": [0.14, -0.2], "smd_weighted": [0.02, 0.0]}
    )


def _sm_curve() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["exposed", "exposed", "unexposed", "unexposed"],
            "time_days": [120.0, 300.0, 0.0, 300.0],
            "survival": [1.0, 0.8, 1.0, 0.7],
            "ci_lower": [1.0, 0.7, 1.0, 0.6],
            "ci_upper": [1.0, 0.9, 1.0, 0.8],
        }
    )


PRINT_BUILDERS = {
    "landmark": lambda style: landmark_figure(_landmark_curve(), exposure="hct", title="t", style=style),
    "simon_makuch": lambda style: simon_makuch_figure(_sm_curve(), exposure="hct", title="t", style=style),
    "balance": lambda style: balance_figure(_balance(), title="t", style=style),
    "response": lambda style: response_figure(_rates(), group_col="salvage_regimen", title="t", style=style),
}


@pytest.mark.parametrize("name", list(PRINT_BUILDERS))
def test_print_style_sets_the_presets_width_type_and_lines_without_a_title(name):
    style = _print()
    fig = PRINT_BUILDERS[name](style)
    assert fig.layout.width == pytest.approx(85 / 25.4 * 96)  # 85 mm in CSS px
    assert fig.layout.font.size == pytest.approx(7 * 96 / 72)  # 7 pt
    assert fig.layout.title.text is None, "print figures leave the title to the caption"
    for trace in fig.data:
        if trace.mode == "lines" and trace.line.width:
            assert trace.line.width == pytest.approx(style.line_px)  # 1 pt curves
        if trace.mode == "markers" and trace.name in {"exposed", "unexposed", "Weighted", "Unweighted"}:
            assert trace.marker.size == pytest.approx(style.marker_px)


@pytest.mark.parametrize("name", list(PRINT_BUILDERS))
def test_grayscale_draws_in_gray_levels_only(name):
    from figures.palette import GRAYS

    fig = PRINT_BUILDERS[name](_print(grayscale=True))
    colors = {t.line.color for t in fig.data if t.mode == "lines" and t.line.color}
    colors |= {t.marker.color for t in fig.data if t.mode == "markers"}
    assert colors, "something is drawn"
    assert colors <= set(GRAYS), colors


def test_grayscale_exposure_groups_differ_in_gray_and_dash():
    fig = simon_makuch_figure(_sm_curve(), exposure="hct", style=_print(grayscale=True))
    lines = {t.name: t.line for t in fig.data if t.name}
    assert (lines["exposed"].color, lines["exposed"].dash) != (lines["unexposed"].color, lines["unexposed"].dash)


def test_title_above_legend_leaves_a_print_figure_alone():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="a"))
    fig.update_layout(height=500, margin={"t": 20})
    title_above_legend(fig, style=_print())
    assert fig.layout.margin.t == 20
    assert fig.layout.legend.yref is None


def test_screen_style_is_the_default_of_every_builder():
    """Called as the pages call them (no style): the screen constants the pages always had."""
    landmark = landmark_figure(_landmark_curve(), exposure="hct")
    assert landmark.layout.width is None
    assert landmark.layout.height == 190 + 340  # one row of panels
    marks = [t for t in landmark.data if t.mode == "markers"]
    assert {t.marker.size for t in marks} == {7}
    response = response_figure(_rates(), group_col="salvage_regimen")
    assert response.layout.margin.l == 170
    assert {t.marker.size for t in response.data if t.mode == "markers"} == {11}
    assert balance_figure(_balance()).layout.height == 320


@pytest.mark.parametrize(
    "models",
    [
        pytest.param(["Ever vs never (time-fixed, biased)", "Time-varying", "Time-varying, adjusted"], id="timing"),
        pytest.param(["Unadjusted", "Adjusted"], id="cox_page"),
        pytest.param(["Unweighted", "IPTW (robust SE)"], id="weighting"),
    ],
)
def test_forest_models_never_share_a_colour(models):
    """Models take the strong Okabe–Ito colours in the order they are listed (blue first), never the
    faint yellow ("Unadjusted" hashed to it before); in print, distinct gray levels."""
    from figures import forest_figure

    terms = pd.DataFrame({"term": "x", "hr": 1.2, "hr_ci_lower": 1.0, "hr_ci_upper": 1.5, "model": models, "p": 0.04})
    for grayscale in (False, True):
        colors = [t.marker.color for t in forest_figure(terms, style=_print(grayscale)).data]
        assert len(set(colors)) == len(models), (grayscale, colors)
    screen = [t.marker.color for t in forest_figure(terms).data]
    assert screen[0] == "#0072B2"
    assert "#F0E442" not in screen
