"""Room for a long title: the title on the top line of the figure, the legend on the line under it.

(``apply_house_style`` now does this itself whenever a figure has a legend, in as many rows as its entries
need; ``title_above_legend`` then only adds ``extra_top`` for subplot titles.)

``apply_house_style`` puts the legend just above the plot, where a title longer than the left margin
runs into it; the builders of the treatment pages (whose titles name an endpoint, a time zero and a
method) call ``title_above_legend`` after it. Print figures carry no title and ``apply_house_style``
already gives their legend its own room, so there it changes nothing.
"""

from __future__ import annotations

import plotly.graph_objects as go

from figures.common import SCREEN_STYLE, FigureStyle

__all__ = ["title_above_legend"]

_TITLE_PX, _LEGEND_PX = 34, 30


def title_above_legend(fig: go.Figure, *, extra_top: int = 0, style: FigureStyle = SCREEN_STYLE) -> go.Figure:
    """Place the title at the top of the figure and the legend under it; ``extra_top`` more pixels of top
    margin for subplot titles. The figure's height must be set (``apply_house_style`` sets it). A print
    ``style`` leaves the figure as it is."""
    if style.is_print:
        return fig
    height = float(fig.layout.height or 520)
    if fig.layout.legend.yref == "container":  # apply_house_style has laid out title and legend rows
        if extra_top:
            grown = height + extra_top
            legend_y = 1 - (1 - float(fig.layout.legend.y)) * height / grown
            layout: dict = {"height": grown, "margin": {"t": float(fig.layout.margin.t) + extra_top}}
            layout["legend"] = {"y": legend_y}
            if fig.layout.title.text:
                layout["title"] = {"y": 1 - (1 - float(fig.layout.title.y)) * height / grown}
            fig.update_layout(**layout)
        return fig
    fig.update_layout(
        title={"yref": "container", "y": 1 - 8 / height, "yanchor": "top"},
        legend={"yref": "container", "y": 1 - (8 + _TITLE_PX) / height, "yanchor": "top", "x": 0, "xanchor": "left"},
        margin={"t": 8 + _TITLE_PX + _LEGEND_PX + 12 + extra_top},
    )
    return fig
