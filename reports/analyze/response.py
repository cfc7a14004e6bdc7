"""``ayaall analyze response``: CR/CRi/CRh and MRD-negativity rates by group, Wilson intervals (JSON).

Needs no endpoint or time zero, so it takes only ``--db``, ``--cohort``, ``--min-cell`` and ``--json``
of the shared options. Counts follow ``analyses.response.suppress_response_rates``; the overall
responders and not-assessed patients are also masked when their complements (non-responders,
assessed patients) are small counts.
"""

from __future__ import annotations

import argparse
from typing import Any

from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from reports.analyze.common import check_min_cell, cohort_from_args, json_value, write_json

__all__ = ["add_table_options", "register", "run"]


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """The shared options that make sense without an endpoint (cli.md)."""
    parser.add_argument("--db", required=True, help="DuckDB file written by 'ayaall load'")
    parser.add_argument("--cohort", help="cohort file (JSON, see cli.md)")
    parser.add_argument(
        "--min-cell",
        type=int,
        default=DEFAULT_MIN_CELL,
        help=f"small-cell suppression threshold (default {DEFAULT_MIN_CELL}; 0 turns it off)",
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
    """The ``analyze response`` JSON document as a dict."""
    from analyses.response import response_rates
    from disclosure.response import response_totals, suppress_response_rates
    from etl.read import response_frame

    check_min_cell(min_cell)
    frame = response_frame(db, cohort, line, [by] if by else [])
    if frame.empty:
        raise UserError(f"No patient in this cohort started line {line}, so there are no rates to report.")
    outcomes = {}
    not_assessed = int(frame["not_assessed"].sum())
    for name in ("cr", "mrd_negative"):
        table, hide = suppress_response_rates(response_rates(frame, name, by), min_cell)
        totals = response_totals(len(frame), int(frame[name].sum()), not_assessed, hide, min_cell)
        outcomes[name] = {
            "responders": totals["responders"],
            "groups": [
                {
                    "group": r["group"],
                    "n": json_value(r["n"]),
                    "responders": json_value(r["responders"]),
                    "rate": json_value(r["rate"]),
                    "rate_ci": [json_value(r["ci_lower"]), json_value(r["ci_upper"])],
                }
                for r in table.to_dict("records")
            ],
        }
    return {
        "line": line,
        "by": by,
        "n": totals["n"],
        "not_assessed": totals["not_assessed"],
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
