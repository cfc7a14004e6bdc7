"""``ayaall analyze response``: CR/CRi/CRh and MRD-negativity rates by group, Wilson intervals (JSON).

Needs no endpoint or time zero, so it takes only ``--db``, ``--cohort``, ``--min-cell`` and ``--json``
of the shared options. The numbers are the Response page's (``reports.response``): counts released by
``disclosure.response``, rates and intervals computed from the released counts.
"""

from __future__ import annotations

import argparse
from typing import Any

from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from reports.analyze.common import check_min_cell, cohort_from_args, json_value, open_service, write_json

OUTCOMES = ("cr", "mrd_negative")

__all__ = ["add_table_options", "register", "run"]


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """The shared options that make sense without an endpoint (cli.md)."""
    parser.add_argument("--db", required=True, help="DuckDB file written by 'ayaall load'")
    parser.add_argument("--cohort", help="cohort file (JSON, see cli.md)")
    parser.add_argument(
        "--min-cell",
        type=int,
        default=DEFAULT_MIN_CELL,
        help=f"disclosure control: counts shifted and rounded to blocks of this size (default {DEFAULT_MIN_CELL}; "
        "0 turns it off)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON (cli.md)")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``response`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "response",
        help="remission and MRD-negativity rates by group",
        description="CR/CRi/CRh and MRD-negative rates (intention to treat) of line 1 "
        "(frontline) or line 2 (salvage), Wilson 95% intervals. Prints JSON.",
    )
    add_table_options(parser)
    parser.add_argument("--by", help="analysis_patients column whose groups are compared")
    parser.add_argument("--line", type=int, default=1, choices=[1, 2], help="1 frontline, 2 salvage")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    result = run(args.db, cohort, line=args.line, by=args.by, min_cell=args.min_cell)
    return write_json(result)


def run(
    db: Any, cohort: Any, *, line: int = 1, by: str | None = None, min_cell: int = DEFAULT_MIN_CELL
) -> dict[str, Any]:
    """The ``analyze response`` JSON document as a dict: the Response page's numbers (``reports.response``)."""
    from disclosure.policy import policy_for
    from reports.response import response_view

    check_min_cell(min_cell)
    if line not in (1, 2):
        raise UserError(f"--line must be 1 (frontline) or 2 (salvage), not {line}.")
    views = open_service(
        db, lambda service: {name: response_view(service, cohort, line, name, by, min_cell) for name in OUTCOMES}
    )
    outcomes = {
        name: {
            "responders": view.responders,
            "groups": [
                {
                    "group": r["group"],
                    "n": json_value(r["n"]),
                    "responders": json_value(r["responders"]),
                    "rate": json_value(r["rate"]),
                    "rate_ci": [json_value(r["ci_lower"]), json_value(r["ci_upper"])],
                }
                for r in view.rates.to_dict("records")
            ],
        }
        for name, view in views.items()
    }
    view = views["cr"]
    n, not_assessed = view.n, view.not_assessed
    return {
        "line": line,
        "by": by,
        "n": n,
        "not_assessed": not_assessed,
        "release": policy_for(min_cell).to_dict(),
        "ci_method": "Wilson score, prop.test(correct = FALSE)",
        "conf_level": 0.95,
        "min_cell": min_cell,
        "definitions": {
            "cr": "any observed assessment of the line with CR, CRI or CRH",
            "mrd_negative": "any such remission assessment with MRD NEG",
            "denominator": "patients who started the line (not assessed = non-responder)",
        },
        "outcomes": outcomes,
    }
