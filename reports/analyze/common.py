"""What every ``ayaall analyze`` subcommand does the same way: read the cohort file, check the
shared options, suppress a group's curve and collect the analyses' warnings as notes, make values
JSON-safe and print the document. Not a subcommand itself (modules whose names start with ``_`` are not
registered)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analyses.results import AnalysisWarning
from ayaall.endpoints import EndpointSpec, endpoint_spec
from ayaall.errors import UserError
from ayaall.exposures import immortal_time_warning
from disclosure.suppression import suppress_curve_and_points
from reports.notes import count_free

__all__ = [
    "check_endpoint",
    "check_min_cell",
    "cohort_from_args",
    "count_free",
    "group_curve",
    "immortal_time_notes",
    "json_value",
    "shown_within",
    "warning_notes",
    "write_json",
]


def cohort_from_args(args: argparse.Namespace) -> Any:
    """The ``--cohort`` file's ``CohortSpec``, or the whole registry without one."""
    from ayaall.cohort import CohortSpec

    return CohortSpec.from_file(args.cohort) if args.cohort else CohortSpec()


def immortal_time_notes(columns: Iterable[str | None], origin: str) -> list[str]:
    """The immortal-time warning (``ayaall.exposures``) for each of ``columns`` known only after time zero
    ``origin``, with what to run instead: the notes of ``analyze km|cox|cif|iptw``."""
    remedy = (
        " Use a landmark analysis ('ayaall analyze landmark'), Simon–Makuch curves or a Cox model with a "
        "time-varying exposure instead."
    )
    warnings_ = (immortal_time_warning(c, origin) for c in dict.fromkeys(columns))
    return [text + remedy for text in warnings_ if text is not None]


def check_min_cell(min_cell: int) -> None:
    if min_cell < 0:
        raise UserError(f"--min-cell must be 0 or more, not {min_cell}.")


def check_endpoint(endpoint: str, origin: str) -> EndpointSpec:
    """The (endpoint, origin) definition, or a ``UserError`` naming the valid pairs."""
    try:
        return endpoint_spec(endpoint, origin)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from exc


def json_value(value: Any) -> Any:
    """A JSON-safe scalar: numpy scalars as Python ones, NaN and infinities as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(document: dict[str, Any]) -> int:
    """Print the command's JSON document (strict JSON: no NaN) and return exit code 0."""
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    return 0


def group_curve(
    curve: pd.DataFrame,
    min_cell: int,
    n: int,
    n_shown: int | None,
    totals_shown: dict[str, int | None],
    follow: Sequence[tuple[str, str]] = (),
    points: Sequence[tuple[float, float]] = (),
) -> tuple[pd.DataFrame, list[float | None]]:
    """One group's curve suppressed by ``disclosure.suppression``'s rule 4, as ``suppress_km`` does it.

    ``n`` is the group's size and ``n_shown`` its displayed size (None when masked by rules 1-3);
    ``totals_shown`` maps a per-row count column (``events``, ``competing_events``) to the group's
    displayed total of it. With a masked size every per-row count is masked (the rows add up to it),
    with a masked total every per-row count of that column. ``follow`` lists ``(column, base)`` pairs:
    ``column`` (a weighted count, say) is masked wherever the count ``base`` is. ``points`` are
    ``(time, at_risk)`` pairs shown beside the curve (milestones): their at-risk numbers are thinned
    together with the curve's (rules 4-5).

    Returns
    -------
    (curve, at-risk numbers of ``points``, None where masked)
    """
    hidden_n = None if n_shown is not None or not min_cell else n
    shown, at_points = suppress_curve_and_points(curve, min_cell, hidden_n, list(points))
    if min_cell and n_shown is None:
        shown[[c for c in ("events", "competing_events", "censored") if c in shown]] = None
    for col, total in totals_shown.items():
        if min_cell and total is None:
            shown[col] = None
    for col, base in follow:
        shown[col] = shown[col].astype(object).where(shown[base].notna(), None)
    return shown, at_points


def shown_within(value: float | None, curve: pd.DataFrame) -> float | None:
    """``value`` (a median or a confidence limit, in days) when the displayed curve reaches it, else None
    (``disclosure.suppression`` rule 6: beyond the curve it rests on fewer than ``min_cell`` patients)."""
    value = json_value(value)
    if value is None or not len(curve) or value > float(curve["time_days"].max()):
        return None
    return value


def warning_notes(caught: Iterable[warnings.WarningMessage], min_cell: int) -> list[str]:
    """The distinct ``AnalysisWarning`` messages of ``warnings.catch_warnings(record=True)``, as notes.

    With suppression on (``min_cell`` > 0) they are made :func:`count_free`. Other warnings are not
    ours to interpret and are issued again.
    """
    notes = []
    for w in caught:
        if not issubclass(w.category, AnalysisWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        notes.append(count_free(str(w.message)) if min_cell else str(w.message))
    return list(dict.fromkeys(notes))
