"""Worst grade of a toxicity by group: one horizontal bar per group, stacked by worst grade (percent of the
group's patients), from a *released* table (``disclosure.toxicity.release_toxicity``)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from figures.common import SCREEN_STYLE, FigureStyle, apply_house_style

__all__ = ["GRADE_COLORS", "worst_grade_figure"]

#: a colour per worst-grade category, light (none) to dark (fatal); merged categories take their worst's
GRADE_COLORS = {
    "NONE": "#e8e8e8",
    "UNK": "#b0b0b0",
    "1": "#fde0a8",
    "2": "#f8b15e",
    "UNK/1-2": "#f8b15e",
    "3": "#e6662f",
    "4": "#b8301c",
    "3-5": "#b8301c",
    "5": "#5c0d0d",
}
_GRAY = {"NONE": "#f2f2f2", "UNK": "#d0d0d0", "1": "#bdbdbd", "2": "#969696", "UNK/1-2": "#969696"} | {
    "3": "#636363",
    "4": "#3a3a3a",
    "3-5": "#3a3a3a",
    "5": "#111111",
}
_LABELS = {"NONE": "None", "UNK": "Grade unknown", "UNK/1-2": "Grade 1-2 or unknown", "3-5": "Grade 3-5"}
_LABEL_MARGIN_PX = 170


def worst_grade_figure(
    worst: pd.DataFrame,
    *,
    title: str | None = None,
    style: FigureStyle = SCREEN_STYLE,
) -> go.Figure:
    """Stacked bars of ``worst`` (group, worst_grade, n, total, percent of one event; percent NaN where not
    shown: no bar, so a group's bar falls short of 100% by its masked shares). A group none of whose shares
    is shown keeps its place on the axis, saying why."""
    fig = go.Figure()
    groups = [str(g) for g in dict.fromkeys(worst["group"])]
    for grade in dict.fromkeys(worst["worst_grade"].astype(str)):
        rows = worst[worst["worst_grade"].astype(str) == grade]
        colors = _GRAY if style.grayscale else GRADE_COLORS
        label = _LABELS.get(grade, f"Grade {grade}")
        shares = rows["percent"].astype(float)
        fig.add_trace(
            go.Bar(
                # a masked share is drawn as no bar (NaN would restart plotly's stack at 0), said on hover
                x=shares.fillna(0.0),
                y=rows["group"].astype(str),
                orientation="h",
                name=label,
                marker={"color": colors.get(grade, "#999999"), "line": {"color": "#ffffff", "width": 0.5}},
                customdata=[("—" if pd.isna(v) else f"{v:.1f}%") for v in shares],
                hovertemplate=f"%{{y}}: {label} %{{customdata}}<extra></extra>",
            )
        )
    hidden = [g for g in groups if worst.loc[worst["group"].astype(str) == g, "percent"].isna().all()]
    if hidden:
        fig.add_trace(
            go.Scatter(
                x=[1.0] * len(hidden),
                y=hidden,
                mode="text",
                text=["suppressed (small count)"] * len(hidden),
                textposition="middle right",
                textfont={"color": "#777", "size": style.small_font_px},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    s = style.px
    # released parts are rounded each on its own: their sum may pass 100% by a little
    stacked = worst.groupby(worst["group"].astype(str))["percent"].sum(min_count=1).max()
    right = max(100.0, float(stacked)) if pd.notna(stacked) else 100.0
    fig.update_xaxes(title_text="Patients (%) by worst grade", range=[0, right])
    fig.update_yaxes(categoryorder="array", categoryarray=groups[::-1], type="category")
    apply_house_style(fig, title=title, height=max(s(300), s(140) + s(34) * len(groups)), style=style, legend_rows=True)
    # stacked after the house style (which sets the layout's bar mode), the legend in the bars' order
    fig.update_layout(
        barmode="stack",
        legend={"traceorder": "normal"},
        margin={"l": s(70) if style.is_print else _LABEL_MARGIN_PX},
    )
    return fig
