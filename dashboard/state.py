"""The whole view state in the URL query string, and the cohort it describes.

``?age_group=15-19&age_group=20-24&dx_year=2005..2020&endpoint=OS/DX&by=subtype`` means: the cohort
filters (repeated keys for lists, ``MIN..MAX`` for a range, ``yes``/``no`` for a flag) and the options of
the page. Pasting a URL gives the same view: the controls are built from it. Values that are not valid
for a control are dropped, so a hand-edited URL cannot break the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode

from ayaall.cohort import CohortSpec
from ayaall.filters import FILTERS, filter_spec

__all__ = [
    "cohort_from_values",
    "encode_search",
    "filter_values_from_query",
    "parse_search",
    "values_from_cohort",
]

_RANGE_SEP = ".."


def parse_search(search: str | None) -> dict[str, list[str]]:
    """``?a=1&a=2&b=x`` -> ``{"a": ["1", "2"], "b": ["x"]}``."""
    return parse_qs((search or "").lstrip("?"), keep_blank_values=False)


def filter_values_from_query(query: Mapping[str, list[str]]) -> dict[str, Any]:
    """The value of each cohort control (None = not filtered) read from a parsed query string."""
    values: dict[str, Any] = {}
    for spec in FILTERS:
        raw = query.get(spec.column, [])
        if spec.kind == "multi":
            values[spec.column] = [v for v in raw if v] or None
        elif spec.kind == "bool":
            values[spec.column] = raw[0] if raw and raw[0] in {"yes", "no"} else None
        else:
            values[spec.column] = _parse_range(raw[0]) if raw else None
    return values


def _parse_range(text: str) -> list[int] | None:
    lo, sep, hi = text.partition(_RANGE_SEP)
    try:
        return [int(lo), int(hi)] if sep else None
    except ValueError:
        return None


def cohort_from_values(
    values: Mapping[str, Any], full_ranges: Mapping[str, tuple[int, int]] | None = None
) -> CohortSpec:
    """The cohort selected by the controls; a range covering all the data is no filter at all."""
    filters: dict[str, Any] = {}
    for spec in FILTERS:
        value = values.get(spec.column)
        if value in (None, [], ""):
            continue
        if spec.kind == "multi":
            filters[spec.column] = [str(v) for v in value]
        elif spec.kind == "bool":
            if value not in {"yes", "no"}:
                continue
            filters[spec.column] = [value == "yes"]
        else:
            lo, hi = (int(v) for v in value)
            full = (full_ranges or {}).get(spec.column)
            if full is not None and lo <= full[0] and hi >= full[1]:
                continue
            filters[spec.column] = {"min": lo, "max": hi}
    return CohortSpec.from_dict({"filters": filters})


def values_from_cohort(cohort: CohortSpec) -> dict[str, Any]:
    """The controls' values that select ``cohort`` (the inverse of ``cohort_from_values``)."""
    values: dict[str, Any] = {spec.column: None for spec in FILTERS}
    for column, value in cohort.filters:
        spec = filter_spec(column)
        if spec.kind == "multi":
            values[column] = [str(v) for v in value]
        elif spec.kind == "bool":
            values[column] = "yes" if next(iter(value)) else "no"
        else:
            values[column] = [int(value.get("min", -(10**6))), int(value.get("max", 10**6))]  # type: ignore[union-attr]
    return values


def encode_search(filter_values: Mapping[str, Any], options: Iterable[tuple[str, Any]] = ()) -> str:
    """The query string (with its ``?``) for the controls' values; unset filters are left out."""
    pairs: list[tuple[str, str]] = []
    for spec in FILTERS:
        value = filter_values.get(spec.column)
        if value in (None, [], ""):
            continue
        if spec.kind == "multi":
            pairs += [(spec.column, str(v)) for v in value]
        elif spec.kind == "bool":
            if value in {"yes", "no"}:
                pairs.append((spec.column, str(value)))
        else:
            pairs.append((spec.column, f"{int(value[0])}{_RANGE_SEP}{int(value[1])}"))
    for name, value in options:
        if value is None or value == []:
            continue
        if isinstance(value, list | tuple):
            pairs += [(name, str(v)) for v in value]
        else:
            pairs.append((name, str(value)))
    return "?" + urlencode(pairs, safe="/,") if pairs else ""
