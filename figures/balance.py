"""Love plot: absolute standardised mean differences before and after weighting."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from figures.common import SCREEN_STYLE, FigureStyle, apply_house_style
from figures.palette import GRAYS
from figures.titles import title_above_legend

__all__ = ["balance_figure"]

# (column, legend name, marker, colour, gray): open = before weighting, filled = after.
_SERIES = (
    ("smd_unweighted", "Unweighted", "circle-open", "#D55E00", GRAYS[1]),
    ("smd_weighted", "Weighted", "circle", "#0072B2", GRAYS[0]),
)


def balance_figure(
    balance: pd.DataFrame, *, threshold: float = 0.1, title: str | None = None, style: FigureStyle = SCREEN_STYLE
) -> go.Figure:
    """``balance`` has covariate, smd_unweighted, smd_weighted (estimates only). ``style``: screen
    (default) or an export preset's print style (grayscale: gray levels, the markers open and filled)."""
    order = list(balance.sort_values("smd_unweighted", key=abs)["covariate"])
    fig = go.Figure()
    for column, name, symbol, color, gray in _SERIES:
        marker = {"symbol": symbol, "size": style.marker_px, "color": gray if style.grayscale else color}
        if style.is_print:
            marker["line"] = {"width": style.thin_line_px, "color": marker["color"]}
        fig.add_trace(
            go.Scatter(x=balance[column].abs(), y=balance["covariate"], mode="markers", name=name, marker=marker)
        )
    fig.add_vline(x=threshold, line={"color": "#777", "dash": "dash", "width": style.thin_line_px})
    fig.update_xaxes(title_text="Absolute standardised mean difference", rangemode="tozero")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    s = style.px
    height = max(s(320), s(130) + s(24) * len(order))
    label_px = 0.58 * style.font_px * max((len(str(c)) for c in order), default=1)
    apply_house_style(
        fig, title=title, height=height, style=style, plot_width_px=(style.width_px or 0) - label_px - s(40)
    )
    return title_above_legend(fig, style=style)
