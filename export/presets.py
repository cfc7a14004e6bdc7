"""Journal presets, declared once as data: figure width, type sizes and line widths.

Widths are the usual journal column widths (single 85 mm, 1.5 column 114 mm, double 174 mm). Type is a
sans-serif at 7–9 pt at the printed size, and no line is thinner than 0.5 pt, so nothing vanishes
when a figure is reduced further. ``tests/test_export_docs.py`` keeps the README's table in step
with ``PRESETS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ayaall.errors import UserError

if TYPE_CHECKING:
    from figures.common import FigureStyle

__all__ = ["DEFAULT_DPI", "DEFAULT_PRESET", "DPI_CHOICES", "PRESETS", "Preset", "get_preset", "style_for"]


@dataclass(frozen=True)
class Preset:
    """A journal figure size.

    Attributes
    ----------
    name : str
        What ``--preset`` takes.
    width_mm : float
        Printed width.
    font_pt, small_font_pt, title_font_pt : float
        Body type (axes, legend), the risk table's type and panel titles, in points.
    line_pt, thin_line_pt, axis_line_pt : float
        Curves; reference lines, censoring ticks and error bars; axes and ticks, in points.
    panel_ratio : float
        Height of a plot panel as a fraction of the width.
    help : str
    """

    name: str
    width_mm: float
    font_pt: float
    small_font_pt: float
    title_font_pt: float
    line_pt: float
    thin_line_pt: float
    axis_line_pt: float
    panel_ratio: float
    help: str


PRESETS: tuple[Preset, ...] = (
    Preset("single", 85, 7, 7, 8, 1.0, 0.5, 0.5, 0.62, "single journal column"),
    Preset("onehalf", 114, 8, 7, 9, 1.25, 0.6, 0.6, 0.55, "one and a half columns"),
    Preset("double", 174, 8, 8, 9, 1.5, 0.75, 0.75, 0.45, "two columns (full page width)"),
)
DEFAULT_PRESET = "single"
DPI_CHOICES: tuple[int, ...] = (300, 600, 1200)
DEFAULT_DPI = 600


def get_preset(name: str) -> Preset:
    """The preset called ``name``, or a ``UserError`` naming the valid ones."""
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise UserError(f"--preset {name!r} is not a preset; choose one of {', '.join(p.name for p in PRESETS)}.")


def style_for(preset: Preset, *, grayscale: bool = False) -> FigureStyle:
    """The figure builders' print style for ``preset``."""
    from figures.common import print_style  # plotly: loaded only when a figure is drawn

    return print_style(
        width_mm=preset.width_mm,
        font_pt=preset.font_pt,
        small_font_pt=preset.small_font_pt,
        title_font_pt=preset.title_font_pt,
        line_pt=preset.line_pt,
        thin_line_pt=preset.thin_line_pt,
        axis_line_pt=preset.axis_line_pt,
        panel_ratio=preset.panel_ratio,
        grayscale=grayscale,
    )
