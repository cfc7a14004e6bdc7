"""A page's figure from its view result, in one place for the page and the export command, so an exported
figure is drawn exactly as the page draws it (only the style differs: screen or a print preset)."""

from __future__ import annotations

import plotly.graph_objects as go

from ayaall.endpoints import endpoint_spec
from ayaall.exposures import EXPOSURE_LABELS
from ayaall.units import nice_ticks_days
from figures.balance import balance_figure
from figures.cif import cif_figure
from figures.common import SCREEN_STYLE, FigureStyle
from figures.forest import forest_figure
from figures.km import km_figure
from figures.landmark import landmark_figure
from figures.response import response_figure
from figures.simon_makuch import simon_makuch_figure
from figures.titles import title_above_legend
from figures.toxicity import worst_grade_figure
from reports.competing import CompetingView
from reports.cox import CoxView
from reports.response import LINES, OUTCOMES, ResponseView
from reports.survival import SurvivalView
from reports.timing import TimingView
from reports.toxicity import GRADES, ToxicityView, event_label
from reports.toxicity import LINES as TOXICITY_LINES
from reports.weighting import WeightingView

__all__ = [
    "adjusted_km_figure",
    "balance_page_figure",
    "competing_figure",
    "cox_figure",
    "landmark_page_figure",
    "response_page_figure",
    "simon_makuch_page_figure",
    "survival_figure",
    "timing_cox_figure",
    "timing_figures",
    "toxicity_cif_figure",
    "toxicity_grade_figure",
    "weighted_cox_figure",
    "weighting_figures",
]


def survival_figure(
    view: SurvivalView, endpoint: str, origin: str, unit: str, style: FigureStyle = SCREEN_STYLE
) -> go.Figure:
    """The Survival page's Kaplan–Meier figure (KMunicate) of ``view``."""
    spec = endpoint_spec(endpoint, origin)
    return km_figure(
        view.km,
        view.risk_table,
        unit=unit,
        title=spec.label,
        ticks_days=view.ticks_days,
        y_title=f"{endpoint} probability" if not spec.competing_risks else f"Free of {endpoint}",
        style=style,
    )


def competing_figure(
    view: CompetingView, endpoint: str, origin: str, by: str | None, unit: str, style: FigureStyle = SCREEN_STYLE
) -> go.Figure:
    """The Competing risks page's cumulative incidence figure of ``view``."""
    spec = endpoint_spec(endpoint, origin)
    return cif_figure(
        view.curve,
        group_col=by,
        event_label=f"{spec.event} ({endpoint})",
        competing_label=f"{spec.competing} (competing)",
        unit=unit or "months",
        title=f"{spec.label}: cumulative incidence",
        style=style,
        ticks_days=list(view.ticks_days) or None,
    )


def cox_figure(view: CoxView, endpoint: str, origin: str, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """The Cox page's forest plot of ``view`` (unadjusted and adjusted hazard ratios)."""
    return forest_figure(view.terms, title=f"{endpoint} from {origin}: hazard ratios", style=style)


# ------------------------------------------------------------------------------ Treatment timing page
def landmark_page_figure(view: TimingView, unit: str, style: FigureStyle = SCREEN_STYLE) -> go.Figure | None:
    """The Treatment timing page's landmark curves of ``view`` (None: no landmark has a curve)."""
    if not len(view.landmark_curve):
        return None
    spec = endpoint_spec(view.endpoint, view.origin)
    return landmark_figure(
        view.landmark_curve,
        exposure=view.exposure,
        unit=unit,
        title=f"{spec.label}: by {EXPOSURE_LABELS[view.exposure]} status at each landmark",
        y_title=f"{view.endpoint} probability",
        style=style,
    )


def simon_makuch_page_figure(view: TimingView, unit: str, style: FigureStyle = SCREEN_STYLE) -> go.Figure | None:
    """The Treatment timing page's Simon–Makuch curves of ``view`` (None: no curve could be drawn)."""
    if not len(view.simon_makuch):
        return None
    spec = endpoint_spec(view.endpoint, view.origin)
    return simon_makuch_figure(
        view.simon_makuch,
        unit=unit,
        title=f"{spec.label}: Simon–Makuch, {EXPOSURE_LABELS[view.exposure]} as a time-varying exposure",
        exposure=view.exposure,
        y_title=f"{view.endpoint} probability",
        style=style,
    )


def timing_cox_figure(view: TimingView, style: FigureStyle = SCREEN_STYLE) -> go.Figure | None:
    """The Treatment timing page's forest plot: time-fixed (biased) and time-varying hazard ratios of the
    exposure (None: no model could be fitted)."""
    if not len(view.hazard_ratios):
        return None
    spec = endpoint_spec(view.endpoint, view.origin)
    title = f"{spec.label}: hazard ratios for {EXPOSURE_LABELS[view.exposure]}"
    return title_above_legend(forest_figure(view.hazard_ratios, title=title, style=style), style=style)


def timing_figures(view: TimingView, unit: str) -> tuple[go.Figure | None, go.Figure | None, go.Figure | None]:
    """The landmark, Simon–Makuch and forest figures of a view, as the page shows them (None for a figure
    with nothing to draw). ``unit`` is the time axis' unit: days, months or years."""
    return landmark_page_figure(view, unit), simon_makuch_page_figure(view, unit), timing_cox_figure(view)


# ------------------------------------------------------------------------------ Adjusted comparison page
def balance_page_figure(view: WeightingView, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """The Adjusted comparison page's love plot of ``view``."""
    return balance_figure(view.balance, title="Covariate balance before and after weighting", style=style)


def adjusted_km_figure(view: WeightingView, unit: str, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """The Adjusted comparison page's IPTW-adjusted Kaplan–Meier curves of ``view`` (no risk table: the
    numbers at risk of a weighted curve are weighted)."""
    spec = endpoint_spec(view.endpoint, view.origin)
    curve = view.km.curve
    ticks = nice_ticks_days(float(curve["time_days"].max()) if len(curve) else 1.0, unit)
    fig = km_figure(
        view.km,
        None,
        unit=unit,
        title=f"{spec.label}: IPTW-adjusted ({view.estimand})",
        y_title=f"Adjusted {view.endpoint} probability",
        ticks_days=ticks,
        style=style,
    )
    return title_above_legend(fig, style=style)


def weighted_cox_figure(view: WeightingView, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """The Adjusted comparison page's forest plot: unweighted and IPTW hazard ratios against the reference
    treatment."""
    spec = endpoint_spec(view.endpoint, view.origin)
    fig = forest_figure(view.hazard_ratios, title=f"{spec.label}: hazard ratios vs {view.levels[0]}", style=style)
    return title_above_legend(fig, style=style)


def weighting_figures(view: WeightingView, unit: str) -> tuple[go.Figure, go.Figure, go.Figure]:
    """The love plot, the adjusted Kaplan–Meier figure and the forest plot of a view, as the page shows
    them; ``unit`` is the time axis' unit (days, months or years)."""
    return balance_page_figure(view), adjusted_km_figure(view, unit), weighted_cox_figure(view)


# ------------------------------------------------------------------------------ Response page
def response_page_figure(view: ResponseView, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """The Response page's rates with Wilson intervals of ``view``."""
    return response_figure(
        view.rates,
        group_col=view.by,
        outcome_label=OUTCOMES[view.outcome],
        title=f"{OUTCOMES[view.outcome]}, {LINES[view.line].lower()}",
        style=style,
    )


# ------------------------------------------------------------------------------ Toxicity page
def toxicity_grade_figure(view: ToxicityView, event: str, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """The Toxicity page's worst-grade bars of ``event`` (stacked, percent of each group)."""
    worst = view.released.worst_grade
    return worst_grade_figure(
        worst[worst["event"] == event],
        title=f"{event_label(event)}, {TOXICITY_LINES[view.line].lower()}: worst grade",
        style=style,
    )


def toxicity_cif_figure(
    view: ToxicityView, event: str, grade: int, unit: str = "months", style: FigureStyle = SCREEN_STYLE
) -> go.Figure:
    """The Toxicity page's cumulative incidence of ``event`` at threshold ``grade`` (death competing)."""
    curve = view.released.cif
    cell = curve[(curve["event"] == event) & (curve["min_grade"] == grade)]
    threshold = GRADES.get(grade, f"grade {grade} or worse").lower()
    return cif_figure(
        cell.drop(columns=["event", "min_grade"]),
        group_col=view.by,
        event_label=f"{event_label(event)} ({threshold})",
        competing_label="Death (competing)",
        unit=unit,
        title=f"{event_label(event)}, {TOXICITY_LINES[view.line].lower()}: cumulative incidence",
        style=style,
        ticks_days=view.ticks_days.get(event) or None,
        clip_to_ticks=True,
    )
