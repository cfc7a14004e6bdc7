"""Pure figure builders, result -> plotly figure, shared by the dashboard and the export command."""

from __future__ import annotations

from figures.balance import balance_figure
from figures.cif import cif_figure
from figures.forest import forest_figure
from figures.km import km_figure
from figures.landmark import landmark_figure
from figures.response import response_figure
from figures.simon_makuch import simon_makuch_figure
from figures.titles import title_above_legend

__all__ = [
    "balance_figure",
    "cif_figure",
    "forest_figure",
    "km_figure",
    "landmark_figure",
    "response_figure",
    "simon_makuch_figure",
    "title_above_legend",
]
