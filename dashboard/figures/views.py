"""A page's figure from its view result, in one place for the page and the export command, so an exported
figure is drawn exactly as the page draws it (only the style differs: screen or a print preset)."""

from __future__ import annotations

import plotly.graph_objects as go

from ayaall.endpoints import endpoint_spec
from dashboard.competing_view import CompetingView
from dashboard.cox_view import CoxView
from dashboard.figures.cif import cif_figure
from dashboard.figures.common import SCREEN_STYLE, FigureStyle
from dashboard.figures.forest import forest_figure
from dashboard.figures.km import km_figure
from dashboard.views import SurvivalView

__all__ = ["competing_figure", "cox_figure", "survival_figure"]


def survival_figure(
    view: SurvivalView, endpoint: str, origin: str, unit: str, min_cell: int, style: FigureStyle = SCREEN_STYLE
) -> go.Figure:
    """The Survival page's Kaplan–Meier figure (KMunicate) of ``view``."""
    spec = endpoint_spec(endpoint, origin)
    return km_figure(
        view.km,
        view.risk_table,
        unit=unit,
        title=spec.label,
        min_cell=min_cell,
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
    )


def cox_figure(view: CoxView, endpoint: str, origin: str, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """The Cox page's forest plot of ``view`` (unadjusted and adjusted hazard ratios)."""
    return forest_figure(view.terms, title=f"{endpoint} from {origin}: hazard ratios", style=style)
