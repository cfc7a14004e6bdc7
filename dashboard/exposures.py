"""Exposures that start after time zero: grouping survival by them from that origin creates immortal-time
bias, so the survival page warns and points to the treatment-timing page."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

__all__ = ["POST_BASELINE", "exposure_warning"]

# column -> origins from which the exposure can only start later (endpoints.md time zeros).
POST_BASELINE: dict[str, tuple[str, ...]] = {
    "hct": ("DX", "CR1", "REL1", "LINE2"),
    "car_t": ("DX", "CR1", "REL1", "LINE2", "HCT1"),
    "salvage_regimen": ("DX", "CR1", "REL1"),
    "relapsed": ("DX", "CR1"),
    "cr1": ("DX",),
}
_WHAT = {
    "hct": "transplant",
    "car_t": "CAR-T",
    "salvage_regimen": "salvage therapy",
    "relapsed": "relapse",
    "cr1": "remission",
}


def exposure_warning(by: str | None, origin: str) -> html.Div | None:
    if by is None or origin not in POST_BASELINE.get(by, ()):
        return None
    return html.Div(
        dbc.Alert(
            [
                html.Strong("Immortal-time bias: "),
                f"{_WHAT[by].capitalize()} happens after time zero ({origin}), so patients grouped by it had to live "
                "long enough to receive it. Comparing these curves overstates its benefit. Use a landmark analysis, "
                "Simon–Makuch curves or a time-varying Cox model on the ",
                dcc.Link("Treatment timing page", href="/timing", id="exposure-warning-link"),
                ".",
            ],
            color="danger",
            className="exposure-warning",
        ),
        role="alert",
    )
