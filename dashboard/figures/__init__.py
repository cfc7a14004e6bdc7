"""Pure figure builders, result -> plotly figure, shared by the dashboard and the export command."""

from __future__ import annotations

from dashboard.figures.balance import balance_figure
from dashboard.figures.cif import cif_figure
from dashboard.figures.forest import forest_figure
from dashboard.figures.km import km_figure
from dashboard.figures.simon_makuch import simon_makuch_figure

__all__ = ["balance_figure", "cif_figure", "forest_figure", "km_figure", "simon_makuch_figure"]
