"""Landmark Kaplan–Meier curves: one panel per landmark, exposed by then vs not, time from the landmark."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ayaall.units import to_unit, unit_label
from figures.common import SCREEN_STYLE, FigureStyle, add_ci_band, apply_house_style, fit_text
from figures.palette import rgba
from figures.simon_makuch import exposure_style
from figures.titles import title_above_legend

__all__ = ["landmark_figure"]

_COLUMNS_PER_ROW = 3
_SCREEN_CENSOR_MARK_PX = 7


def landmark_figure(
    curve: pd.DataFrame,
    *,
    exposure: str,
    unit: str = "months",
    title: str | None = None,
    y_title: str = "Survival probability",
    show_ci: bool = True,
    style: FigureStyle = SCREEN_STYLE,
) -> go.Figure:
    """Kaplan–Meier curves after each landmark from a *suppressed* curve table.

    Parameters
    ----------
    curve : DataFrame
        landmark_days, group ("exposed"/"unexposed"), time_days (from the landmark), survival, ci_lower,
        ci_upper and optionally censored (a flag). No counts.
    exposure : str
        The exposure column (``hct``, ``car_t``): its True/False colours are the groups' colours.
    style : FigureStyle
        Screen (default) or an export preset's print style.
    """
    marks = sorted(dict.fromkeys(curve["landmark_days"].astype(float)))
    cols = max(1, min(len(marks), _COLUMNS_PER_ROW))
    rows = max(1, math.ceil(len(marks) / cols))
    titles = [f"Landmark: day {m:g}" for m in marks]
    x_title = f"{unit_label(unit)} after the landmark"
    if style.is_print:  # a narrow panel: a long title goes on two lines
        panel_w = 0.85 * (style.width_px or 0) / cols
        titles = [fit_text(t, panel_w, style.title_font_px or style.font_px) for t in titles]
        x_title = fit_text(x_title, panel_w, style.font_px)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes=True,
        subplot_titles=titles or None,
        horizontal_spacing=0.05,
        vertical_spacing=0.12,
    )
    shown_legend: set[str] = set()
    for i, mark in enumerate(marks):
        row, col = i // cols + 1, i % cols + 1
        panel = curve[curve["landmark_days"].astype(float) == mark]
        for group in dict.fromkeys(panel["group"]):
            g = panel[panel["group"] == group]
            _add_group(fig, g, exposure, str(group), unit, (row, col), show_ci, str(group) not in shown_legend, style)
            shown_legend.add(str(group))
        fig.update_xaxes(title_text=x_title, rangemode="tozero", row=row, col=col)
    for row in range(1, rows + 1):
        fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=row, col=1, title_text=y_title)
    if not style.is_print:
        apply_house_style(fig, title=title, height=190 + 340 * rows)
        return title_above_legend(fig, extra_top=24)
    # Print: each row of panels a little shorter than the width over the columns, and room between the
    # legend and the panels for the panel titles.
    panel_px = style.panel_px(340) * (1.0 if cols == 1 else 0.8)
    lines = max((t.count("<br>") + 1 for t in titles), default=1)
    title_px = lines * 1.3 * (style.title_font_px or style.font_px)
    return apply_house_style(
        fig,
        title=title,
        height=rows * panel_px + (rows - 1) * (style.px(60) + title_px) + style.px(90),
        style=style,
        legend_gap_px=title_px,
    )


def _add_group(
    fig: go.Figure,
    g: pd.DataFrame,
    exposure: str,
    group: str,
    unit: str,
    cell: tuple[int, int],
    show_ci: bool,
    legend: bool,
    fig_style: FigureStyle,
) -> None:
    row, col = cell
    style = exposure_style(exposure, group, grayscale=fig_style.grayscale)
    x = to_unit(g["time_days"].astype(float), unit)
    if show_ci:
        upper = g["ci_upper"].astype(float).where(g["survival"] < 1, 1.0)
        lower = g["ci_lower"].astype(float).where(g["survival"] < 1, 1.0)
        add_ci_band(fig, x, lower, upper, rgba(style.color, fig_style.band_alpha), cell=cell)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=g["survival"].astype(float),
            mode="lines",
            name=group,
            legendgroup=group,
            showlegend=legend,
            line={"color": style.color, "dash": style.dash, "shape": "hv", "width": fig_style.line_px},
            hovertemplate=f"{group}<br>%{{x:.1f}} {unit} after the landmark: %{{y:.1%}}<extra></extra>",
        ),
        row=row,
        col=col,
    )
    if "censored" in g.columns:
        flags = g["censored"].fillna(False).astype(bool).to_numpy()
        flags[:1] = False  # the landmark row itself
        if flags.any():
            fig.add_trace(
                go.Scatter(
                    x=x[flags],
                    y=g["survival"].astype(float)[flags],
                    mode="markers",
                    marker={"symbol": "line-ns-open", **_censor_mark(fig_style), "color": style.color},
                    legendgroup=group,
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=row,
                col=col,
            )


def _censor_mark(style: FigureStyle) -> dict:
    """Size (and in print the stroke) of a censoring tick."""
    if not style.is_print:
        return {"size": _SCREEN_CENSOR_MARK_PX}
    return {"size": style.censor_mark_px, "line": {"width": style.thin_line_px}}
