"""Response rates by group: a point per group with its confidence interval, in the group's colour."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from figures.common import SCREEN_STYLE, FigureStyle, apply_house_style, fit_text
from figures.palette import group_style

__all__ = ["response_figure"]

_SCREEN_MARKER_PX, _SCREEN_LABEL_MARGIN_PX = 11, 170


def response_figure(
    rates: pd.DataFrame,
    *,
    group_col: str | None,
    outcome_label: str = "Response rate",
    title: str | None = None,
    style: FigureStyle = SCREEN_STYLE,
) -> go.Figure:
    """Rates with intervals from a *released* table (``disclosure.response.release_response_rates``).

    Parameters
    ----------
    rates : DataFrame
        group, rate, ci_lower, ci_upper, and optionally n and responders (None when masked). A group
        whose rate is masked keeps its place on the axis with no point.
    group_col : str or None
        The grouping column (colours); None for a single "all" group.
    style : FigureStyle
        Screen (default) or an export preset's print style.
    """
    fig = go.Figure()
    groups = [str(g) for g in rates["group"]]
    for _, r in rates.iterrows():
        group = str(r["group"])
        if pd.isna(r["rate"]):
            continue
        gstyle = group_style(group_col, group, grayscale=style.grayscale)
        counts = ""
        if r.get("responders") is not None and r.get("n") is not None and not pd.isna(r.get("responders")):
            counts = f"<br>{int(r['responders']):,} of {int(r['n']):,}"
        fig.add_trace(
            go.Scatter(
                x=[float(r["rate"])],
                y=[group],
                mode="markers",
                name=group,
                marker={"color": gstyle.color, "size": _marker_px(style), "symbol": _symbol(gstyle.symbol, style)},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [float(r["ci_upper"]) - float(r["rate"])],
                    "arrayminus": [float(r["rate"]) - float(r["ci_lower"])],
                    "color": gstyle.color,
                    "thickness": style.thin_line_px * 1.5 if style.is_print else style.line_px,
                    **({"width": style.marker_px / 2} if style.is_print else {}),
                },
                hovertext=[
                    f"{group}: {float(r['rate']):.1%} ({float(r['ci_lower']):.1%}–{float(r['ci_upper']):.1%}){counts}"
                ],
                hoverinfo="text",
                showlegend=False,
            )
        )
    masked = [str(g) for g, rate in zip(rates["group"], rates["rate"], strict=True) if pd.isna(rate)]
    if masked:  # keep the group on the axis, saying why it has no point
        fig.add_trace(
            go.Scatter(
                x=[0.01] * len(masked),
                y=masked,
                mode="text",
                text=["suppressed (small count)"] * len(masked),
                textposition="middle right",
                textfont={"color": "#777", "size": style.small_font_px},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    s = style.px
    x_title = f"{outcome_label} (95% CI)"
    if style.is_print:  # the plot is what the group labels leave of the width: a long title on two lines
        label_px = 0.58 * style.font_px * max((len(g) for g in groups), default=1)
        x_title = fit_text(x_title, float(style.width_px or 0) - label_px - s(40), style.font_px)
    fig.update_xaxes(title_text=x_title, tickformat=".0%", range=[0, 1.0])
    fig.update_yaxes(categoryorder="array", categoryarray=groups[::-1], type="category")
    apply_house_style(fig, title=title, height=max(s(280), s(120) + s(36) * len(groups)), style=style)
    # Screen: room for long group labels; print: the y axis' automargin makes the room it needs.
    fig.update_layout(margin={"l": s(70) if style.is_print else _SCREEN_LABEL_MARGIN_PX})
    return fig


def _marker_px(style: FigureStyle) -> float:
    return style.marker_px if style.is_print else _SCREEN_MARKER_PX


def _symbol(group_symbol: str, style: FigureStyle) -> str:
    """Squares on screen; in grayscale the group's marker shape tells groups apart."""
    return group_symbol if style.grayscale else "square"
