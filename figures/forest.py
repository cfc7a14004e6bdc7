"""Forest plot of hazard ratios with confidence intervals, several models side by side."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from figures.common import SCREEN_STYLE, FigureStyle, apply_house_style
from figures.palette import GRAY_SYMBOLS, GRAYS, OKABE_ITO

__all__ = ["forest_figure"]

_HR_TICKS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
# blue, vermillion, bluish green, reddish purple, black: the Okabe–Ito colours that read as thin marks
_MODEL_PALETTE: tuple[str, ...] = tuple(OKABE_ITO[i] for i in (0, 3, 2, 4, 6))


def forest_figure(
    terms: pd.DataFrame,
    *,
    title: str | None = None,
    x_title: str = "Hazard ratio (95% CI)",
    style: FigureStyle = SCREEN_STYLE,
) -> go.Figure:
    """Hazard ratios on a log axis.

    Parameters
    ----------
    terms : DataFrame
        term, hr, hr_ci_lower, hr_ci_upper and optionally model (e.g. "Unadjusted", "Adjusted") and p.
        Estimates only: no counts.
    style : FigureStyle
        Screen (default) or an export preset's print style.
    """
    terms = terms.copy()
    if "model" not in terms.columns:
        terms["model"] = "Model"
    order = list(dict.fromkeys(terms["term"]))
    models = list(dict.fromkeys(terms["model"]))
    fig = go.Figure()
    offsets = np.linspace(-0.15, 0.15, len(models)) if len(models) > 1 else [0.0]
    colors = _model_colors(models, style.grayscale)
    for i, (model, offset, color) in enumerate(zip(models, offsets, colors, strict=True)):
        sub = terms[terms["model"] == model]
        y = [len(order) - 1 - order.index(t) + offset for t in sub["term"]]
        # In gray the models differ by marker shape too (in the order they are listed).
        symbol = GRAY_SYMBOLS[(i + 1) % len(GRAY_SYMBOLS)] if style.grayscale else "square"
        hover = [
            f"{t}<br>{model}: HR {hr:.2f} ({lo:.2f}–{hi:.2f})"
            for t, hr, lo, hi in zip(sub["term"], sub["hr"], sub["hr_ci_lower"], sub["hr_ci_upper"], strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=sub["hr"],
                y=y,
                mode="markers",
                name=str(model),
                marker={"color": color, "size": style.marker_px, "symbol": symbol},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": sub["hr_ci_upper"] - sub["hr"],
                    "arrayminus": sub["hr"] - sub["hr_ci_lower"],
                    "color": color,
                    "thickness": style.thin_line_px * 1.5,
                    **({"width": style.marker_px / 2} if style.is_print else {}),
                },
                hovertext=hover,
                hoverinfo="text",
            )
        )
    fig.add_vline(x=1.0, line={"color": "#777", "dash": "dash", "width": style.thin_line_px})
    fig.update_xaxes(type="log", title_text=x_title)
    if style.is_print:  # round ticks, upright, that fit a narrow axis
        lo, hi = float(terms["hr_ci_lower"].min()), float(terms["hr_ci_upper"].max())
        ticks = [t for t in _HR_TICKS if lo / 1.5 <= t <= hi * 1.5] or [1.0]
        span = (math.log10(min(lo, ticks[0]) / 1.15), math.log10(max(hi, ticks[-1]) * 1.15))  # every tick shows
        fig.update_xaxes(
            tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], tickangle=0, range=list(span)
        )
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(order))),
        ticktext=order[::-1],
        range=[-0.7, len(order) - 0.3],
        showgrid=False,
    )
    s = style.px
    label_px = 0.58 * style.font_px * max((len(str(t)) for t in order), default=1)
    plot_px = (style.width_px or 0) - label_px - s(40)
    apply_house_style(
        fig, title=title, height=max(s(300), s(110) + s(32) * len(order)), style=style, plot_width_px=plot_px
    )
    # Screen: room for long term labels; print: the y axis' automargin makes the room it needs.
    fig.update_layout(margin={"l": s(70) if style.is_print else 220})
    entry_px = 30 + s(14) + 0.58 * style.font_px * max(len(str(m)) for m in models)
    if style.is_print and entry_px > plot_px:  # long term labels leave the legend too little room: use the width
        fig.update_layout(
            legend={
                "xref": "container",
                "x": s(4) / float(style.width_px or 1),
                "entrywidthmode": "pixels",
                "entrywidth": 0,  # each entry as wide as its text
            }
        )
    return fig


def _model_colors(models: list[str], grayscale: bool) -> list[str]:
    """Each model's colour, in the order the models are listed: the strong Okabe–Ito colours (blue,
    vermillion, bluish green, reddish purple, black), never the faint yellow; in print, gray levels
    (the markers then differ too). A page lists its models in a fixed order, so a model keeps its
    colour from the screen to the export."""
    palette = GRAYS if grayscale else _MODEL_PALETTE
    return [palette[i % len(palette)] for i in range(len(models))]
