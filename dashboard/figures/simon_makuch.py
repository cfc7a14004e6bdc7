"""Simon–Makuch curves: survival by a time-varying exposure (patients move from unexposed to exposed)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import apply_house_style, to_unit, unit_label
from dashboard.palette import group_style, rgba

__all__ = ["simon_makuch_figure"]


def simon_makuch_figure(
    curve: pd.DataFrame, *, unit: str = "months", title: str | None = None, exposure: str = "exposure"
) -> go.Figure:
    """``curve`` has group, time_days, survival and optionally ci_lower, ci_upper (suppressed, no counts)."""
    fig = go.Figure()
    for group in dict.fromkeys(curve["group"]):
        g = curve[curve["group"] == group]
        style = group_style(exposure, str(group))
        x = to_unit(g["time_days"].astype(float), unit)
        if {"ci_lower", "ci_upper"} <= set(g.columns):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=g["ci_upper"],
                    mode="lines",
                    line={"width": 0, "shape": "hv"},
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=g["ci_lower"],
                    mode="lines",
                    line={"width": 0, "shape": "hv"},
                    fill="tonexty",
                    fillcolor=rgba(style.color, 0.15),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=g["survival"],
                mode="lines",
                name=str(group),
                line={"color": style.color, "dash": style.dash, "shape": "hv", "width": 2},
            )
        )
    fig.update_xaxes(title_text=unit_label(unit), rangemode="tozero")
    fig.update_yaxes(title_text="Survival probability", tickformat=".0%", range=[0, 1.02])
    return apply_house_style(fig, title=title)
