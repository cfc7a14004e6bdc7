"""Exposures that start after time zero: grouping survival by them from that origin creates immortal-time
bias, so the survival page warns and points to the treatment-timing page.

Which columns are post-baseline for which origin is answered once, by
``analyses.timing.post_baseline_exposures`` (the command line's ``analyze km`` asks the same function).
The warning's link keeps the current cohort and options: a callback copies the URL's query string into
it, and presets the timing page's exposure when the grouping is one it analyses (transplant, CAR-T).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from analyses.results import AnalysisError
from analyses.timing import EXPOSURES, post_baseline_exposures
from dashboard import ids
from dashboard.state import parse_search

__all__ = ["exposure_warning", "is_post_baseline", "register", "timing_href"]

TIMING_PATH = "/timing"

# What a post-baseline grouping column records, in words (the warning's first sentence).
_WHAT = {
    "hct": "transplant",
    "car_t": "CAR-T",
    "salvage_regimen": "salvage therapy",
    "relapsed": "relapse",
    "cr1": "remission (CR1)",
    "mrd_eoi": "end-of-induction MRD",
    "induction_failure": "induction failure",
}


def is_post_baseline(by: str | None, origin: str) -> bool:
    """True when grouping by ``by`` from time zero ``origin`` conditions on the future."""
    if by is None:
        return False
    try:
        return by in post_baseline_exposures(origin)
    except AnalysisError:
        return False


def exposure_warning(by: str | None, origin: str) -> html.Div | None:
    """The immortal-time warning for grouping by ``by`` from ``origin``, or None when there is no bias."""
    if not is_post_baseline(by, origin):
        return None
    what = _WHAT.get(by or "", by or "")
    return html.Div(
        dbc.Alert(
            [
                html.Strong("Immortal-time bias: "),
                f"{what[0].upper()}{what[1:]} is only known after time zero ({origin}), so patients grouped by it "
                "had to live long enough to get it. Comparing these curves overstates its benefit. Use a landmark "
                "analysis, Simon–Makuch curves or a time-varying Cox model on the ",
                dcc.Link("Treatment timing page", href=TIMING_PATH, id=ids.EXPOSURE_WARNING_LINK),
                ".",
            ],
            color="danger",
            className="exposure-warning",
        ),
        role="alert",
    )


def timing_href(search: str | None) -> str:
    """The timing page's URL for the current query string: same cohort and options; ``by=hct`` or
    ``by=car_t`` becomes the page's exposure (unless the URL already sets one)."""
    query = parse_search(search)
    pairs = [(key, value) for key, values in query.items() for value in values]
    by = query.get("by", [None])[0]
    if by in EXPOSURES and "exposure" not in query:
        pairs.append(("exposure", by))
    return TIMING_PATH + ("?" + urlencode(pairs, safe="/,") if pairs else "")


def register(app: Any) -> None:
    """Keep the warning's link in step with the URL (the warning itself is cached without it)."""

    @app.callback(Output(ids.EXPOSURE_WARNING_LINK, "href"), Input(ids.URL, "search"))
    def link(search: str | None) -> str:
        return timing_href(search)
