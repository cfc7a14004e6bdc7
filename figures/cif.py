"""Cumulative incidence figure: the event of interest and the competing event side by side, per group."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ayaall.units import to_unit, unit_label
from figures.common import SCREEN_STYLE, FigureStyle, add_ci_band, apply_house_style, fit_text
from figures.palette import group_style, rgba

__all__ = ["cif_figure"]


def cif_figure(
    curve: pd.DataFrame,
    *,
    group_col: str | None,
    event_label: str,
    competing_label: str,
    unit: str = "months",
    title: str | None = None,
    show_ci: bool = True,
    style: FigureStyle = SCREEN_STYLE,
    ticks_days: list[float] | None = None,
    clip_to_ticks: bool = False,
) -> go.Figure:
    """Step curves of cumulative incidence from a *released* curve table (``disclosure.incidence.release_cif``).

    ``curve`` has group, time_days, cif_event, ci_lower_event, ci_upper_event, cif_competing,
    ci_lower_competing, ci_upper_competing (no counts). ``style``: screen (default) or an export
    preset's print style. ``ticks_days`` puts the time axes' ticks there (those of the risk table beside
    the figure); the axes span the curves, or with ``clip_to_ticks`` end at the last tick (a toxicity's
    curves, complete within weeks, beside years of deaths). By default plotly chooses the ticks.
    """
    titles = (event_label, competing_label)
    if style.is_print:  # a panel is under half the width: a long title goes on two lines
        panel_w = 0.4 * (style.width_px or 0)
        titles = tuple(fit_text(t, panel_w, style.title_font_px or style.font_px) for t in titles)  # type: ignore[assignment]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.06)
    for col, cause in ((1, "event"), (2, "competing")):
        for group in dict.fromkeys(curve["group"]):
            g = curve[curve["group"] == group]
            gstyle = group_style(group_col, str(group), grayscale=style.grayscale)
            x = to_unit(g["time_days"].astype(float), unit)
            if show_ci:
                add_ci_band(
                    fig,
                    x,
                    g[f"ci_lower_{cause}"],
                    g[f"ci_upper_{cause}"],
                    rgba(gstyle.color, style.band_alpha),
                    cell=(1, col),
                )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=g[f"cif_{cause}"],
                    mode="lines",
                    name=str(group),
                    legendgroup=str(group),
                    showlegend=col == 1,
                    line={"color": gstyle.color, "dash": gstyle.dash, "shape": "hv", "width": style.line_px},
                    hovertemplate=f"{group}<br>%{{x:.1f}} {unit}: %{{y:.1%}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text=unit_label(unit), rangemode="tozero", row=1, col=col)
        if ticks_days:
            ticks = [float(to_unit(t, unit)) for t in ticks_days]
            drawn = float(to_unit(curve["time_days"].astype(float).max(), unit)) if len(curve) else 0.0
            end = max(ticks) if clip_to_ticks else max(max(ticks), drawn)
            fig.update_xaxes(range=[0, end * 1.02], tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], row=1, col=col)
    fig.update_yaxes(title_text="Cumulative incidence", tickformat=".0%", rangemode="tozero", row=1, col=1)
    # Two panels side by side (in print each a little taller than half the width), and in print room
    # between the legend and the panels for the panel titles (one or two lines).
    lines = max(t.count("<br>") + 1 for t in titles)
    gap = lines * 1.3 * (style.title_font_px or style.font_px) + style.px(4)
    return apply_house_style(
        fig,
        title=title,
        height=style.panel_px(480 - 130) + style.px(130),
        style=style,
        legend_gap_px=gap,
        legend_rows=True,
    )
