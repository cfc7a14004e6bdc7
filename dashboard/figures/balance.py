"""Love plot: absolute standardised mean differences before and after weighting."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import apply_house_style
from dashboard.figures.titles import title_above_legend

__all__ = ["balance_figure"]


def balance_figure(balance: pd.DataFrame, *, threshold: float = 0.1, title: str | None = None) -> go.Figure:
    """``balance`` has covariate, smd_unweighted, smd_weighted (estimates only)."""
    order = list(balance.sort_values("smd_unweighted", key=abs)["covariate"])
    fig = go.Figure()
    for column, name, symbol, color in (
        ("smd_unweighted", "Unweighted", "circle-open", "#D55E00"),
        ("smd_weighted", "Weighted", "circle", "#0072B2"),
    ):
        fig.add_trace(
            go.Scatter(
                x=balance[column].abs(),
                y=balance["covariate"],
                mode="markers",
                name=name,
                marker={"symbol": symbol, "size": 9, "color": color},
            )
        )
    fig.add_vline(x=threshold, line={"color": "#777", "dash": "dash", "width": 1})
    fig.update_xaxes(title_text="Absolute standardised mean difference", rangemode="tozero")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    return title_above_legend(apply_house_style(fig, title=title, height=max(320, 130 + 24 * len(order))))
