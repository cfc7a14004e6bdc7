"""Response rates by group: a point per group with its confidence interval, in the group's colour."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import apply_house_style
from dashboard.palette import group_style

__all__ = ["response_figure"]


def response_figure(
    rates: pd.DataFrame, *, group_col: str | None, outcome_label: str = "Response rate", title: str | None = None
) -> go.Figure:
    """Rates with intervals from a *suppressed* table (``analyses.response.suppress_response_rates``).

    Parameters
    ----------
    rates : DataFrame
        group, rate, ci_lower, ci_upper, and optionally n and responders (None when masked). A group
        whose rate is masked keeps its place on the axis with no point.
    group_col : str or None
        The grouping column (colours); None for a single "all" group.
    """
    fig = go.Figure()
    groups = [str(g) for g in rates["group"]]
    for _, r in rates.iterrows():
        group = str(r["group"])
        if pd.isna(r["rate"]):
            continue
        style = group_style(group_col, group)
        counts = ""
        if r.get("responders") is not None and r.get("n") is not None and not pd.isna(r.get("responders")):
            counts = f"<br>{int(r['responders']):,} of {int(r['n']):,}"
        fig.add_trace(
            go.Scatter(
                x=[float(r["rate"])],
                y=[group],
                mode="markers",
                name=group,
                marker={"color": style.color, "size": 11, "symbol": "square"},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [float(r["ci_upper"]) - float(r["rate"])],
                    "arrayminus": [float(r["rate"]) - float(r["ci_lower"])],
                    "color": style.color,
                    "thickness": 2,
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
                textfont={"color": "#777", "size": 11},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.update_xaxes(title_text=f"{outcome_label} (95% CI)", tickformat=".0%", range=[0, 1.0])
    fig.update_yaxes(categoryorder="array", categoryarray=groups[::-1], type="category")
    apply_house_style(fig, title=title, height=max(280, 120 + 36 * len(groups)))
    fig.update_layout(margin={"l": 170})
    return fig
