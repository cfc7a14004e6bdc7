"""What every ``ayaall analyze`` subcommand does the same way: read the cohort file, check the
shared options, make values JSON-safe and print the document. Not a subcommand itself (modules
whose names start with ``_`` are not registered)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

from ayaall.endpoints import EndpointSpec, endpoint_spec
from ayaall.errors import UserError

__all__ = ["check_endpoint", "check_min_cell", "cohort_from_args", "json_value", "write_json"]


def cohort_from_args(args: argparse.Namespace) -> Any:
    """The ``--cohort`` file's ``CohortSpec``, or the whole registry without one."""
    from analyses.cohort import CohortSpec  # opens DuckDB; load only when a command runs

    return CohortSpec.from_file(args.cohort) if args.cohort else CohortSpec()


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
