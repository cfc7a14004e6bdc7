"""Download buttons under a page's figure or table: the figure (a journal preset, format, dpi, grayscale),
the data (XLSX) and the bundle (zip), made server-side by the same export code as ``ayaall export``.

A page adds ``download_controls(key)`` to its layout and calls ``register_downloads(app, page_ctx, key)``
for each of its figures (``PAGE_EXPORTS``' keys: the page's name, or ``page-figure`` on a page with
several figures). The request is built from the page's current cohort and options (``PAGE_EXPORTS`` maps them)
and the server's ``min_cell``; nothing the browser sends can change the suppression. A download comes
with its manifest (``FILE.manifest.json``, a second download), and the figure carries a copy inside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from ayaall.errors import UserError
from dashboard import ids
from dashboard.components import message
from dashboard.context import PageContext
from export.presets import DEFAULT_DPI, DEFAULT_PRESET, DPI_CHOICES, PRESETS
from export.requests import FIGURE_FORMATS

__all__ = ["PAGE_EXPORTS", "PageExport", "download_controls", "export_download", "register_downloads"]

_WHAT = ("figure", "data", "bundle")


@dataclass(frozen=True)
class PageExport:
    """What a page exports: the figure kind, the page options it reads and how they become request fields."""

    figure: str
    options: tuple[str, ...]
    fields: Callable[[Mapping[str, Any]], dict[str, Any]]
    has_figure: bool = True


def _endpoint(value: Any) -> dict[str, Any]:
    endpoint, _, origin = str(value or "").partition("/")
    return {"endpoint": endpoint or None, "origin": origin or None}


def _by(value: Any) -> str | None:
    return None if value in (None, "", "none") else str(value)


def _cox_fields(o: Mapping[str, Any]) -> dict[str, Any]:
    cov = [str(c) for c in o.get("cov") or []]
    refs = [tuple(str(r).split("=", 1)) for r in o.get("ref") or [] if "=" in str(r)]
    return {
        **_endpoint(o.get("endpoint")),
        "covariates": tuple(cov),
        "refs": tuple((c, v) for c, v in refs if c in cov),
    }


def _fraction(value: Any) -> float | None:
    if value in (None, "", "none"):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{value!r} is not a fraction.") from None


def _timing_fields(o: Mapping[str, Any], *, landmarks: bool = False, adjust: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {**_endpoint(o.get("endpoint")), "exposure": o.get("exposure") or None}
    if landmarks:
        try:
            fields["landmarks"] = tuple(sorted(float(v) for v in o.get("landmark") or []))
        except (TypeError, ValueError):
            raise UserError("Landmarks must be numbers of days.") from None
    if adjust:
        fields["covariates"] = tuple(str(c) for c in o.get("adjust") or [])
    if "unit" in o:
        fields["unit"] = o.get("unit") or "months"
    return fields


def _weighting_fields(o: Mapping[str, Any]) -> dict[str, Any]:
    estimand = str(o.get("estimand") or "ATE")
    fields: dict[str, Any] = {
        **_endpoint(o.get("wendpoint")),
        "treatment": o.get("treat") or None,
        "levels": tuple(str(v) for v in o.get("levels") or []),
        "covariates": tuple(str(c) for c in o.get("wcov") or []),
        "estimand": estimand,
        "target": (o.get("target") or None) if estimand == "ATT" else None,
        "trim": _fraction(o.get("trim")),
        "truncate": _fraction(o.get("truncate")),
    }
    if "unit" in o:
        fields["unit"] = o.get("unit") or "months"
    return fields


def _response_fields(o: Mapping[str, Any]) -> dict[str, Any]:
    try:
        line = int(o.get("line") or 1)
    except (TypeError, ValueError):
        raise UserError("The line must be 1 (frontline) or 2 (salvage).") from None
    return {"line": line, "outcome": o.get("outcome") or "cr", "by": _by(o.get("by"))}


def _toxicity_fields(o: Mapping[str, Any]) -> dict[str, Any]:
    try:
        line, grade = int(o.get("line") or 1), int(o.get("txgrade") or 1)
    except (TypeError, ValueError):
        raise UserError("The line must be 1 or 2 and the grade threshold 1 or 3.") from None
    by = o.get("txby") or "regimen"
    return {"line": line, "event": o.get("txevent") or "CRS", "grade": grade, "by": str(by)}


_WEIGHTING_OPTIONS = ("treat", "levels", "wcov", "estimand", "target", "trim", "truncate", "wendpoint")


def _table1_fields(o: Mapping[str, Any]) -> dict[str, Any]:
    return {"by": _by(o.get("t1by"))}


PAGE_EXPORTS: dict[str, PageExport] = {
    "survival": PageExport(
        "km",
        ("endpoint", "by", "unit"),
        lambda o: {**_endpoint(o.get("endpoint")), "by": _by(o.get("by")), "unit": o.get("unit") or "months"},
    ),
    "competing": PageExport(
        "cif",
        ("crendpoint", "by", "unit"),
        lambda o: {**_endpoint(o.get("crendpoint")), "by": _by(o.get("by")), "unit": o.get("unit") or "months"},
    ),
    "cox": PageExport("forest", ("endpoint", "cov", "ref"), _cox_fields),
    "cohort": PageExport("table1", ("t1by",), _table1_fields, has_figure=False),
    # Treatment timing page: one row under each of its three figures.
    "timing-landmark": PageExport(
        "landmark", ("exposure", "endpoint", "landmark", "unit"), lambda o: _timing_fields(o, landmarks=True)
    ),
    "timing-sm": PageExport("simon-makuch", ("exposure", "endpoint", "unit"), _timing_fields),
    "timing-cox": PageExport(
        "timing-cox", ("exposure", "endpoint", "adjust"), lambda o: _timing_fields(o, adjust=True)
    ),
    # Adjusted comparison page: one row under each of its three figures.
    "weighting-balance": PageExport("balance", _WEIGHTING_OPTIONS, _weighting_fields),
    "weighting-km": PageExport("adjusted-km", (*_WEIGHTING_OPTIONS, "unit"), _weighting_fields),
    "weighting-cox": PageExport("weighted-cox", _WEIGHTING_OPTIONS, _weighting_fields),
    "response": PageExport("response", ("line", "outcome", "by"), _response_fields),
    "toxicity": PageExport("toxicity", ("line", "txevent", "txgrade", "txby"), _toxicity_fields),
}


def _id(page: str, name: str) -> dict[str, str]:
    return {"type": "export-control", "page": page, "name": name}


def _button_id(page: str, what: str) -> dict[str, str]:
    return {"type": "export-button", "page": page, "what": what}


def download_controls(page: str) -> html.Div:
    """The download row of ``page``: preset, format, dpi, grayscale and the buttons."""
    spec = PAGE_EXPORTS[page]
    figure_controls = [
        dbc.Col(
            [
                dbc.Label("Journal size"),
                dcc.Dropdown(
                    id=_id(page, "preset"),
                    options=[{"label": f"{p.help} ({p.width_mm:g} mm)", "value": p.name} for p in PRESETS],
                    value=DEFAULT_PRESET,
                    clearable=False,
                ),
            ],
            md=3,
        ),
        dbc.Col(
            [
                dbc.Label("Figure format"),
                dcc.Dropdown(
                    id=_id(page, "format"),
                    options=[{"label": f.upper(), "value": f} for f in FIGURE_FORMATS],
                    value="pdf",
                    clearable=False,
                ),
            ],
            md=2,
        ),
        dbc.Col(
            [
                dbc.Label("Raster dpi"),
                dcc.Dropdown(
                    id=_id(page, "dpi"),
                    options=[{"label": str(d), "value": d} for d in DPI_CHOICES],
                    value=DEFAULT_DPI,
                    clearable=False,
                ),
            ],
            md=2,
        ),
        dbc.Col(
            dbc.Checklist(
                id=_id(page, "grayscale"), options=[{"label": "Grayscale", "value": "gray"}], value=[], switch=True
            ),
            md=2,
            className="align-self-end",
        ),
    ]
    buttons = [
        dbc.Button(label, id=_button_id(page, what), color="secondary", outline=True, size="sm", className="me-2")
        for what, label in (
            ("figure", "Download figure"),
            ("data", "Download data (xlsx)"),
            ("bundle", "Download bundle (zip)"),
        )
        if what != "figure" or spec.has_figure
    ]
    return html.Div(
        [
            dbc.Row(figure_controls if spec.has_figure else [], className="g-2"),
            html.Div(buttons, className="mt-2"),
            html.Div(id=_id(page, "message")),
            dcc.Download(id=_id(page, "file")),
            dcc.Download(id=_id(page, "manifest")),
        ],
        className="export-controls",
    )


def export_download(
    page_ctx: PageContext,
    page: str,
    what: str,
    filter_values: Sequence[Any],
    filter_ids: Sequence[dict[str, str]],
    options: Mapping[str, Any],
    export_options: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The file and its manifest as ``dcc.Download`` data; ``UserError`` when the page's view cannot export.

    ``options`` are the page's option values by name, ``export_options`` the download row's (preset,
    format, dpi, grayscale). The server's ``min_cell`` is used, whatever the browser sends.
    """
    from export.exporter import EXTENSIONS, default_stem, to_memory
    from export.requests import ExportRequest

    if what not in _WHAT:
        raise UserError(f"Unknown download {what!r}.")
    spec = PAGE_EXPORTS[page]
    cohort = page_ctx.cohort(filter_values, filter_ids)
    figure_format = str(export_options.get("format") or "pdf")
    fmt = {"figure": figure_format, "data": "xlsx", "bundle": "zip"}[what]
    request = ExportRequest(
        figure=spec.figure,
        **spec.fields(options),
        cohort=cohort.to_dict(),
        min_cell=page_ctx.min_cell,
        format=fmt,
        figure_format=figure_format,
        preset=str(export_options.get("preset") or DEFAULT_PRESET),
        dpi=int(export_options.get("dpi") or DEFAULT_DPI),
        grayscale=bool(export_options.get("grayscale")),
    )
    name = default_stem(request) + EXTENSIONS[fmt][0]
    source = {"kind": "dashboard", "page": page, "content": cohort.to_dict()}
    data, manifest = to_memory(page_ctx.service, request, name, cohort_source=source)
    file_payload = dcc.send_bytes(data, name)
    manifest_payload = {
        "content": json.dumps(manifest, indent=2, sort_keys=True),
        "filename": f"{name}.manifest.json",
        "type": "application/json",
        "base64": False,
    }
    return file_payload, manifest_payload


def register_downloads(app: Any, page_ctx: PageContext, page: str) -> None:
    """The download callback of ``page`` (its buttons -> the file and its manifest, or a message)."""
    spec = PAGE_EXPORTS[page]
    controls = ("preset", "format", "dpi", "grayscale") if spec.has_figure else ()

    @app.callback(
        Output(_id(page, "file"), "data"),
        Output(_id(page, "manifest"), "data"),
        Output(_id(page, "message"), "children"),
        Input({"type": "export-button", "page": page, "what": ALL}, "n_clicks"),
        State(ids.FILTER_ALL, "value"),
        State(ids.FILTER_ALL, "id"),
        *[State(ids.option_id(name), "value") for name in spec.options],
        *[State(_id(page, name), "value") for name in controls],
        prevent_initial_call=True,
    )
    def download(clicks: list[Any], filter_values: list[Any], filter_ids: list[dict[str, str]], *values: Any) -> Any:
        if not any(clicks or []) or not isinstance(ctx.triggered_id, Mapping):
            return no_update, no_update, no_update
        options = dict(zip(spec.options, values[: len(spec.options)], strict=True))
        export_options = dict(zip(controls, values[len(spec.options) :], strict=True))
        export_options["grayscale"] = bool(export_options.get("grayscale"))
        try:
            file_payload, manifest_payload = export_download(
                page_ctx, page, str(ctx.triggered_id["what"]), filter_values, filter_ids, options, export_options
            )
        except UserError as exc:
            return no_update, no_update, message(str(exc))
        return file_payload, manifest_payload, None
