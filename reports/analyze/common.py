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
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np

from analyses.results import AnalysisWarning
from ayaall.endpoints import EndpointSpec, endpoint_spec
from ayaall.errors import UserError
from ayaall.exposures import immortal_time_warning
from reports.notes import count_free

T = TypeVar("T")

__all__ = [
    "check_endpoint",
    "check_min_cell",
    "cohort_from_args",
    "count_free",
    "immortal_time_notes",
    "json_value",
    "open_service",
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


def open_service(db: Any, compute: Callable[[Any], T]) -> T:
    """``compute(service)`` on a ``reports.service.RegistryService`` of ``db``, closed afterwards: an
    ``analyze`` command prints what the dashboard's service computes."""
    from reports.service import RegistryService

    service = RegistryService(db, blas_threads=None)
    try:
        return compute(service)
    finally:
        service.close()


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
