"""Shared pieces of the figure builders: time units, ticks, the house layout and the figure style.

A ``FigureStyle`` says how a builder draws: the default is the dashboard's screen style; an export
preset (``export.presets``) makes a print style with a fixed width, type in points and line widths
that survive reduction. Sizes are CSS pixels, as plotly takes them: 1 px = 1/96 in = 0.75 pt.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "PRINT_FONT",
    "SCREEN_FONT",
    "SCREEN_STYLE",
    "FigureStyle",
    "add_ci_band",
    "apply_house_style",
    "fit_text",
    "mm_to_px",
    "print_style",
    "pt_to_px",
]

SCREEN_FONT = "Arial, Helvetica, sans-serif"
# Liberation Sans (Debian's fonts-liberation) has Arial's metrics, so a figure laid out with it keeps its
# layout where a reader's machine substitutes Arial or Helvetica; DejaVu Sans is the last resort.
PRINT_FONT = "Liberation Sans, Arial, Helvetica, DejaVu Sans, sans-serif"
_PX_PER_PT = 96 / 72
_PX_PER_MM = 96 / 25.4


def pt_to_px(points: float) -> float:
    """Typographic points (1/72 in) as CSS pixels (1/96 in)."""
    return points * _PX_PER_PT


def mm_to_px(millimetres: float) -> float:
    """Millimetres as CSS pixels (1/96 in)."""
    return millimetres * _PX_PER_MM


@dataclass(frozen=True)
class FigureStyle:
    """How a figure builder draws (sizes in CSS px).

    The defaults are the dashboard's screen style; ``print_style`` makes the style of an export preset.

    Attributes
    ----------
    width_px : float or None
        Figure width; None fills the page (screen).
    font_family, font_px, small_font_px : str, float, float
        Type: ``small_font_px`` is the KMunicate risk table's.
    title_font_px : float or None
        Subplot and figure titles; None keeps plotly's default.
    line_px, thin_line_px, axis_line_px : float, float, float or None
        Curves; reference lines and error bars; axes and ticks (None keeps the template's).
    marker_px, censor_mark_px : float
        Point markers (forest, balance) and censoring ticks.
    band_alpha : float
        Opacity of confidence bands.
    panel_ratio : float or None
        Print only: height of a plot panel as a fraction of the figure width (None: the builder's
        screen height in px).
    space : float
        Multiplies the builders' spacing constants (margins, gaps, row heights), designed for screen.
    grayscale : bool
        Gray levels, dash patterns and marker shapes instead of colours (``figures.palette``).
    titles : bool
        Draw the figure title (print figures leave it to the caption).
    """

    width_px: float | None = None
    font_family: str = SCREEN_FONT
    font_px: float = 13
    small_font_px: float = 11
    title_font_px: float | None = None
    line_px: float = 2
    thin_line_px: float = 1
    axis_line_px: float | None = None
    marker_px: float = 9
    censor_mark_px: float = 8
    band_alpha: float = 0.15
    panel_ratio: float | None = None
    space: float = 1.0
    grayscale: bool = False
    titles: bool = True

    @property
    def is_print(self) -> bool:
        """True for a fixed-width print style."""
        return self.width_px is not None

    def px(self, screen_px: float) -> float:
        """A spacing constant designed for screen, in this style (unchanged on screen)."""
        return screen_px if self.space == 1 else screen_px * self.space

    def panel_px(self, screen_px: float) -> float:
        """Height of a plot panel: ``screen_px`` on screen, a fraction of the width in print."""
        if self.width_px is None or self.panel_ratio is None:
            return screen_px
        return self.width_px * self.panel_ratio

    def title(self, text: str | None) -> str | None:
        """The figure title to draw (None when this style leaves titles to the caption)."""
        return text if self.titles else None


SCREEN_STYLE = FigureStyle()


def print_style(
    *,
    width_mm: float,
    font_pt: float,
    small_font_pt: float,
    title_font_pt: float,
    line_pt: float,
    thin_line_pt: float,
    axis_line_pt: float,
    panel_ratio: float,
    grayscale: bool = False,
) -> FigureStyle:
    """A print style: width in mm, type in pt and line widths in pt, converted to CSS px."""
    font_px = pt_to_px(font_pt)
    return FigureStyle(
        width_px=mm_to_px(width_mm),
        font_family=PRINT_FONT,
        font_px=font_px,
        small_font_px=pt_to_px(small_font_pt),
        title_font_px=pt_to_px(title_font_pt),
        line_px=pt_to_px(line_pt),
        thin_line_px=pt_to_px(thin_line_pt),
        axis_line_px=pt_to_px(axis_line_pt),
        marker_px=font_px * 0.75,
        censor_mark_px=font_px * 0.5,
        band_alpha=0.18,
        panel_ratio=panel_ratio,
        space=font_px / SCREEN_STYLE.font_px,
        grayscale=grayscale,
        titles=False,
    )


def fit_text(text: str, width_px: float, font_px: float) -> str:
    """``text``, broken (``<br>``) at the space nearest its middle when it is wider than ``width_px``
    (estimated at 0.55 em per character, about right for Arial and Liberation Sans)."""
    if len(text) * 0.55 * font_px <= width_px or " " not in text:
        return text
    middle = len(text) / 2
    cut = min((i for i, ch in enumerate(text) if ch == " "), key=lambda i: abs(i - middle))
    return text[:cut] + "<br>" + text[cut + 1 :]


def add_ci_band(
    fig: go.Figure,
    x: Any,
    lower: Any,
    upper: Any,
    fillcolor: str,
    *,
    cell: tuple[int, int] | None = None,
    **trace: Any,
) -> None:
    """A step-function confidence band: an invisible upper line, then the lower line filled up to it.

    ``cell`` is the (row, col) of a subplot figure; ``trace`` adds properties to both traces
    (``legendgroup``) or, for ``name``, to the filled one.
    """
    name = trace.pop("name", None)
    common = {"mode": "lines", "line": {"width": 0, "shape": "hv"}, "hoverinfo": "skip", "showlegend": False, **trace}
    where = {"row": cell[0], "col": cell[1]} if cell else {}
    fig.add_trace(go.Scatter(x=x, y=upper, **common), **where)
    filled = {"name": name} if name is not None else {}
    fig.add_trace(go.Scatter(x=x, y=lower, fill="tonexty", fillcolor=fillcolor, **common, **filled), **where)


def apply_house_style(
    fig: go.Figure,
    *,
    title: str | None = None,
    height: float = 520,
    style: FigureStyle = SCREEN_STYLE,
    legend_gap_px: float = 0,
    plot_width_px: float | None = None,
    legend_rows: bool = False,
) -> go.Figure:
    """The shared layout: template, type, title, margins, legend.

    In print also the width, line widths, margins that grow to fit the tick labels (so no label is cut at
    a narrow width) and a legend in the top margin, whose height is added to ``height``;
    ``legend_gap_px`` more is left between the legend and the plot (for panel titles), and
    ``plot_width_px`` is the builder's estimate of the plot area's width (the legend wraps within it).
    On screen ``legend_rows`` lays the title and legend out the same way (the title on the top line, the
    legend in rows of its own under it, ``legend_gap_px`` above the panels' titles).
    """
    title = style.title(title)
    s = style.px
    fig.update_layout(
        template=_house_template(),
        font={"family": style.font_family, "size": style.font_px},
        title={"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        height=height,
        margin={"l": s(70), "r": s(20), "t": s(60 if title else 20), "b": s(50)},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )
    if style.is_print:
        legend, legend_px = _print_legend(fig, style, plot_width_px)
        top = s(20) + legend_px + legend_gap_px
        fig.update_layout(
            width=style.width_px,
            height=height + legend_px + legend_gap_px,
            margin={"t": top},
            legend=legend | ({"y": 1 - s(4) / (height + legend_px + legend_gap_px)} if legend else {}),
        )
        axis: dict[str, Any] = {"automargin": True}
        if style.axis_line_px is not None:
            axis |= {"linewidth": style.axis_line_px, "tickwidth": style.axis_line_px, "ticklen": s(5)}
        fig.update_xaxes(**axis)
        fig.update_yaxes(**axis)
    elif legend_rows:  # on screen: the title on the top line, the legend in rows of its own under it, the plot
        legend, legend_px = _print_legend(fig, style, plot_width_px or _SCREEN_PLOT_PX)
        if legend:
            title_px = s(8 + 34) if title else s(8)
            total = height + legend_px + legend_gap_px
            fig.update_layout(
                height=total,
                margin={"t": title_px + legend_px + legend_gap_px + s(6)},
                legend=legend | {"y": 1 - title_px / total},
            )
            if title:
                fig.update_layout(title={"yref": "container", "y": 1 - s(8) / total, "yanchor": "top"})
    if style.title_font_px is not None:
        fig.update_annotations(font={"size": style.title_font_px})
        if title:
            fig.update_layout(title={"font": {"size": style.title_font_px}})
    return fig


#: the plot area's width on screen that a legend is laid out for (the page's figure column, about 1,000
#: px wide on a laptop, less the margins; an under-estimate costs a legend column, never an overlap)
_SCREEN_PLOT_PX = 820.0


@cache
def _house_template() -> go.layout.Template:
    """plotly's "simple_white" with only the scatter defaults: every figure here is drawn with scatter
    traces, so it looks the same, and the figure carries (and copies, once per figure) half the JSON."""
    simple_white = pio.templates["simple_white"]
    return go.layout.Template(layout=simple_white.layout, data={"scatter": simple_white.data.scatter})


def _print_legend(fig: go.Figure, style: FigureStyle, plot_width_px: float | None) -> tuple[dict, float]:
    """A horizontal legend at the top of the figure in equal columns, and the height it takes in px.

    Its room is reserved in the top margin, so it never covers the plot however many groups there are.
    plotly wraps a legend within the plot area's width, so the columns are counted on an estimate of it
    (the builder's, else the figure's width less about 35% for margins; an under-estimate costs a column).
    """
    names = [str(t.name) for t in fig.data if t.showlegend is not False and t.name]
    if not names:
        return {}, 0.0
    longest = max(len(n) for n in names)
    plot_px = plot_width_px if plot_width_px is not None else 0.65 * float(style.width_px or 0)
    entry_px = 30 + style.px(14) + 0.58 * style.font_px * longest  # line sample, gaps, text
    columns = max(1, min(len(names), int(plot_px // entry_px)))
    rows = -(-len(names) // columns)
    legend = {
        "font": {"size": style.font_px},
        "itemwidth": 30,
        "traceorder": "normal",  # with legend groups ("grouped") plotly stacks the entries one per line
        "yref": "container",
        "yanchor": "top",
        "entrywidthmode": "fraction",
        "entrywidth": 0.98 / columns,  # a little under 1/columns, or plotly wraps the last column
    }
    return legend, rows * 2.1 * style.font_px + style.px(6)  # plotly spaces legend rows about 2 em apart
