"""Publication export: figures at journal presets (SVG, PDF, PNG, TIFF), the numbers behind them (CSV,
XLSX), a methods paragraph and a provenance manifest, alone or bundled (``ayaall export``)."""

from __future__ import annotations

from export.presets import PRESETS, Preset
from export.requests import FORMATS, ExportRequest

__all__ = ["FORMATS", "PRESETS", "ExportRequest", "Preset"]
