"""Exposures that start after time zero: grouping survival by them from that origin creates immortal-time
bias, so the survival page warns and points to the treatment-timing page.

Which columns are post-baseline for which origin is answered once, by
``ayaall.exposures`` (``ayaall analyze km|cox|cif|iptw`` ask it too).
The warning's link keeps the current cohort and options: a callback copies the URL's query string into
it, and presets the timing page's exposure when the grouping is one it analyses (transplant, CAR-T).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from ayaall.exposures import EXPOSURES, immortal_time_warning
from dashboard import ids
from dashboard.state import parse_search

__all__ = ["exposure_warning", "register", "timing_href"]

TIMING_PATH = "/timing"


def exposure_warning(by: str | None, origin: str) -> html.Div | None:
    """The immortal-time warning (``ayaall.exposures``) for grouping by ``by`` from ``origin``, with a link
    to the Treatment timing page, or None when there is no bias."""
    text = immortal_time_warning(by, origin)
    if text is None:
        return None
    return html.Div(
        dbc.Alert(
            [
                html.Strong("Immortal-time bias: "),
                text + " Use a landmark analysis, Simon–Makuch curves or a time-varying Cox model on the ",
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
