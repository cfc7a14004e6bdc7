"""The access log: one JSON line per request, an audit trail a registry's governance can read.

Each line says who (the basic-auth user or the trusted proxy's header, else "-"), from where, when,
which request (method, path, status, server time in ms) and, for a callback, which page and which
cohort: the callback's first output (its page) and the cohort filters that were set (codes such as
``lineage: ["T"]``), for a request that was answered (a refused one is logged without them). Nothing
else of the request is written: no body, no figure, no count, no patient data (there is none in a
request: the server sends aggregates only). Lines go to the ``ayaall.access``
logger, which ``ayaall serve`` sends to ``--access-log`` or standard error.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

from ayaall.settings import Settings

__all__ = ["ACCESS_LOGGER", "install", "record"]

ACCESS_LOGGER = "ayaall.access"
_FILTER_TYPE = "cohort-filter"
_log = logging.getLogger(ACCESS_LOGGER)


def _user(settings: Settings) -> str:
    if settings.trusted_user_header and request.headers.get(settings.trusted_user_header, "").strip():
        return request.headers[settings.trusted_user_header].strip()
    auth = request.authorization
    return auth.username if auth is not None and auth.username else "-"


def _callback(body: Any) -> dict[str, Any]:
    """The page (first output id) and the cohort filters set in a callback request body."""
    if not isinstance(body, dict):
        return {}
    out: dict[str, Any] = {}
    outputs = body.get("outputs")
    first = outputs[0] if isinstance(outputs, list) and outputs else outputs
    if isinstance(first, dict):
        component = first.get("id")
        out["output"] = component if isinstance(component, str) else json.dumps(component, sort_keys=True)
    cohort: dict[str, Any] = {}
    for group in (body.get("inputs") or []) + (body.get("state") or []):
        for entry in group if isinstance(group, list) else [group]:
            if not isinstance(entry, dict) or entry.get("property") != "value":
                continue
            component = entry.get("id")
            value = entry.get("value")
            if isinstance(component, dict) and component.get("type") == _FILTER_TYPE and value not in (None, [], "any"):
                cohort[str(component.get("column"))] = value
    if cohort:
        out["cohort"] = cohort
    return out


def record(settings: Settings, response: Response, started: float | None) -> dict[str, Any]:
    """The access-log entry of the current request."""
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "user": _user(settings),
        "remote": request.remote_addr,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
    }
    if request.method == "POST" and request.path.endswith("_dash-update-component") and response.status_code < 400:
        entry.update(_callback(request.get_json(silent=True)))
    return entry


def install(server: Flask, settings: Settings) -> None:
    """Log every request of ``server`` to ``ACCESS_LOGGER`` (hooks around each request)."""

    @server.before_request
    def _start() -> None:
        g.ayaall_started = time.perf_counter()

    @server.after_request
    def _log_request(response: Response) -> Response:
        if _log.isEnabledFor(logging.INFO):
            entry = record(settings, response, g.get("ayaall_started"))
            _log.info(json.dumps(entry, default=str, separators=(",", ":")))
        return response
