"""Forest plot of hazard ratios with confidence intervals, several models side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import apply_house_style
from dashboard.palette import group_style

__all__ = ["forest_figure"]


def forest_figure(
    terms: pd.DataFrame, *, title: str | None = None, x_title: str = "Hazard ratio (95% CI)"
) -> go.Figure:
    """Hazard ratios on a log axis.

    Parameters
    ----------
    terms : DataFrame
        term, hr, hr_ci_lower, hr_ci_upper and optionally model (e.g. "Unadjusted", "Adjusted") and p.
        Estimates only: no counts.
    """
    terms = terms.copy()
    if "model" not in terms.columns:
        terms["model"] = "Model"
    order = list(dict.fromkeys(terms["term"]))
    models = list(dict.fromkeys(terms["model"]))
    fig = go.Figure()
    offsets = np.linspace(-0.15, 0.15, len(models)) if len(models) > 1 else [0.0]
    for model, offset in zip(models, offsets, strict=True):
        sub = terms[terms["model"] == model]
        y = [len(order) - 1 - order.index(t) + offset for t in sub["term"]]
        style = group_style("model", model)
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
                marker={"color": style.color, "size": 9, "symbol": "square"},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": sub["hr_ci_upper"] - sub["hr"],
                    "arrayminus": sub["hr"] - sub["hr_ci_lower"],
                    "color": style.color,
                    "thickness": 1.5,
                },
                hovertext=hover,
                hoverinfo="text",
            )
        )
    fig.add_vline(x=1.0, line={"color": "#777", "dash": "dash", "width": 1})
    fig.update_xaxes(type="log", title_text=x_title)
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(order))),
        ticktext=order[::-1],
        range=[-0.7, len(order) - 0.3],
        showgrid=False,
    )
    apply_house_style(fig, title=title, height=max(300, 110 + 32 * len(order)))
    fig.update_layout(margin={"l": 220})
    return fig
