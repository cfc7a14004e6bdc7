"""Pure figure builders, result -> plotly figure, shared by the dashboard and the export command."""

from __future__ import annotations

from dashboard.figures.balance import balance_figure
from dashboard.figures.cif import cif_figure
from dashboard.figures.forest import forest_figure
from dashboard.figures.km import km_figure
from dashboard.figures.landmark import landmark_figure
from dashboard.figures.response import response_figure
from dashboard.figures.simon_makuch import simon_makuch_figure
from dashboard.figures.titles import title_above_legend

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
