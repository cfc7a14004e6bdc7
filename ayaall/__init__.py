"""AYA-ALL Outcomes Explorer: registry ETL, survival analyses and a dashboard for AYA ALL outcomes."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("ayaall")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
