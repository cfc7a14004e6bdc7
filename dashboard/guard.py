"""Every callback request checked against what the pages offer, before Dash runs it.

A browser only sends the values its controls offer, but anyone can post to ``/_dash-update-component``
by hand: the survival callback once took a grouping by ``patient_id`` on a 100,000-patient registry
(15 minutes at full CPU, 12 GB, and every patient id back as a row). Dash itself checks nothing of the
kind, so this module does, once, for every page:

- **what may be asked**: at start-up the layouts of the shell, the sidebar and every page are built and
  walked; each control with ``options`` (dropdowns, radio items, checklists) allows its option values,
  each slider or number input its ``min`` to ``max`` (a control id on several pages, such as "Group by",
  allows what any of them offers). A control whose options a callback rewrites (the
  Cox page's reference levels) is left to its callback, which checks the value itself;
- **the request**: a body over ``MAX_BODY_BYTES`` is refused by Flask (413) before it is read; a body
  that is not a callback request, names an output no callback has, or carries a value the control does
  not offer (a value of the wrong type, a list where one value is allowed, more values than there are
  options) gets a 400 with one sentence, logged without the body.

The sentence names the control and the value's kind, never the value itself (it could be anything).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request

__all__ = ["MAX_BODY_BYTES", "Allowed", "allowed_values", "install"]

#: the largest callback request accepted (a page's state is a few kilobytes; a cohort file upload tens)
MAX_BODY_BYTES = 2 * 1024 * 1024
_UPDATE_PATH = "_dash-update-component"
#: controls whose value is always a list of their options (no ``multi`` property)
_LIST_VALUED = frozenset({"Checklist"})
_log = logging.getLogger("ayaall.dashboard")


@dataclass(frozen=True)
class Allowed:
    """What one control may send as its ``value``: one of ``choices`` (or several, when ``multi``), or
    numbers from ``low`` to ``high`` (a slider: a number or a [low, high] pair)."""

    choices: frozenset[Any] | None = None
    multi: bool = False
    low: float | None = None
    high: float | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused, in words, or None when it is allowed."""
        if value is None or (self.choices is None and self.low is None and self.high is None):
            return None
        if self.choices is not None:
            values = value if isinstance(value, list) else [value]
            if isinstance(value, list) and not self.multi:
                return "a list where one value is expected"
            if len(values) > len(self.choices):
                return f"{len(values)} values where there are {len(self.choices)} options"
            if not all(_scalar(v) and v in self.choices for v in values):
                return "a value that is not one of its options"
            return None
        values = value if isinstance(value, list) else [value]
        if len(values) > 2:
            return f"{len(values)} numbers where at most 2 are expected"
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                return "a value that is not a number"
            if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
                return "a number outside its range"
        return None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _id_text(component_id: Any) -> str:
    """A component id as Dash writes it in a request: a string, or a dict id as sorted compact JSON."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, list | tuple):
        for child in node:
            yield from _walk(child)
        return
    if not hasattr(node, "_prop_names"):
        return
    yield node
    yield from _walk(getattr(node, "children", None))


def allowed_values(layouts: Iterable[Any], dynamic: set[str]) -> dict[str, Allowed]:
    """``{id: Allowed}`` for every control with options or a range in ``layouts``, except the ids in
    ``dynamic`` (their options are a callback's output)."""
    found: dict[str, Allowed] = {}
    for layout in layouts:
        for node in _walk(layout):
            component_id = getattr(node, "id", None)
            if component_id is None:
                continue
            key = _id_text(component_id)
            if key in dynamic:
                continue
            options = getattr(node, "options", None)
            if isinstance(options, list | dict):
                values = options.keys() if isinstance(options, dict) else (_option_value(o) for o in options)
                multi = bool(getattr(node, "multi", False)) or type(node).__name__ in _LIST_VALUED
                rule = Allowed(choices=frozenset(values), multi=multi)
            elif getattr(node, "min", None) is not None and getattr(node, "max", None) is not None:
                rule = Allowed(low=float(node.min), high=float(node.max))
            else:
                continue
            found[key] = _union(found[key], rule) if key in found else rule
    return found


def _union(a: Allowed, b: Allowed) -> Allowed:
    """One id on several pages (the "Group by" of Survival, Competing risks and Response): what any offers."""
    if a.choices is not None and b.choices is not None:
        return Allowed(choices=a.choices | b.choices, multi=a.multi or b.multi)
    if a.choices is None and b.choices is None:
        return Allowed(low=min(a.low or 0.0, b.low or 0.0), high=max(a.high or 0.0, b.high or 0.0))
    return Allowed()  # a list on one page, a range on another: left to the callbacks


def _option_value(option: Any) -> Any:
    return option.get("value") if isinstance(option, dict) else option


def _items(entries: Any) -> Iterator[dict[str, Any]]:
    """The (id, property, value) entries of a request's inputs or state; a wildcard input is a list."""
    for entry in entries or []:
        if isinstance(entry, list):
            yield from (e for e in entry if isinstance(e, dict))
        elif isinstance(entry, dict):
            yield entry


def check_request(body: Any, allowed: dict[str, Allowed], outputs: set[str]) -> str | None:
    """Why a callback request ``body`` (parsed JSON) is refused, in one sentence, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return "This is not a Dash callback request."
    if body["output"] not in outputs:
        return "The request names an output that no callback of this app has."
    for entry in [*_items(body.get("inputs")), *_items(body.get("state"))]:
        if entry.get("property") != "value":
            continue
        key = _id_text(entry.get("id"))
        rule = allowed.get(key)
        if rule is None:
            continue
        problem = rule.problem(entry.get("value"))
        if problem is not None:
            return f"The control {key} was sent {problem}; reload the page and choose from what it offers."
    return None


def install(server: Flask, allowed: Callable[[], dict[str, Allowed]], outputs: set[str]) -> None:
    """Cap the request size and check every callback request on ``server`` (a ``before_request`` hook)
    against ``allowed()``, the values offered now (a new load may offer other age bands)."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @server.before_request
    def _check_callback() -> Response | None:
        if request.method != "POST" or not request.path.endswith(_UPDATE_PATH):
            return None
        body = request.get_json(silent=True)
        problem = check_request(body, allowed(), outputs)
        if problem is None:
            return None
        _log.warning("refused a callback request from %s: %s", request.remote_addr, problem)
        return Response(problem, 400, {"Content-Type": "text/plain; charset=utf-8"})
