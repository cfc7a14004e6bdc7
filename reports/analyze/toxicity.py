"""``ayaall analyze toxicity``: the toxicities of a line of therapy by group (JSON).

Needs no endpoint or time zero (the line's start is time zero), so it takes ``--db``, ``--cohort``,
``--min-cell`` and ``--json`` of the shared options, and ``--line`` and ``--by``. The numbers are the
Toxicity page's (``reports.toxicity.toxicity_view``): released by ``disclosure.toxicity``.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from ayaall.settings import DEFAULT_MIN_CELL
from reports.analyze.common import check_min_cell, cohort_from_args, json_value, open_service, write_json
from reports.analyze.response import add_table_options

__all__ = ["register", "run"]

_NONE = "none"


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``toxicity`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "toxicity",
        help="toxicity proportions, worst grades and cumulative incidence by group",
        description="Toxicities of line 1 (frontline) or line 2 (first salvage): proportions with Wilson 95% "
        "intervals and a test between groups, worst-grade distribution, time to onset, cumulative incidence "
        "with death competing and Gray's test, at any grade and grade 3 or worse. Prints JSON.",
    )
    add_table_options(parser)
    parser.add_argument("--line", type=int, default=1, help="1 frontline (default), 2 first salvage")
    parser.add_argument(
        "--by",
        default="regimen",
        help="grouping: 'regimen' (the line's regimen, default), an analysis_patients column, or 'none'",
    )
    parser.add_argument("--event", action="append", help="a toxicity to report (repeatable; default all)")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    by = None if args.by == _NONE else args.by
    return write_json(run(args.db, cohort, line=args.line, by=by, min_cell=args.min_cell, events=args.event))


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [{c: json_value(r[c]) for c in columns} for r in frame.to_dict("records")]


def run(
    db: Any,
    cohort: Any,
    *,
    line: int = 1,
    by: str | None = "regimen",
    min_cell: int = DEFAULT_MIN_CELL,
    events: list[str] | None = None,
) -> dict[str, Any]:
    """The ``analyze toxicity`` JSON document as a dict: the Toxicity page's numbers."""
    from reports.toxicity import toxicity_view

    check_min_cell(min_cell)
    view = open_service(db, lambda service: toxicity_view(service, cohort, line, by, min_cell, events))
    r = view.released
    out_events = []
    for event in view.events:
        thresholds = []
        for grade in sorted(set(r.proportions.loc[r.proportions["event"] == event, "min_grade"].astype(int))):

            def cell(frame: pd.DataFrame, grade: int = grade, event: str = event) -> pd.DataFrame:
                return frame[(frame["event"] == event) & (frame["min_grade"] == grade)]

            props = cell(r.proportions)
            tests = cell(r.tests)
            gray = cell(r.gray)
            thresholds.append(
                {
                    "min_grade": grade,
                    "groups": [
                        {
                            "group": p["group"],
                            "n": json_value(p["n"]),
                            "events": json_value(p["events"]),
                            "proportion": json_value(p["proportion"]),
                            "proportion_ci": [json_value(p["ci_lower"]), json_value(p["ci_upper"])],
                        }
                        for p in props.to_dict("records")
                    ],
                    "test": _records(tests, ["test", "df", "p", "note"])[0] if len(tests) else None,
                    "onset": _records(cell(r.onset), ["group", "events", "median_days", "q1_days", "q3_days"]),
                    "cumulative_incidence": {
                        "milestones": _records(
                            cell(r.cif_milestones),
                            ["group", "time_days", "cif_event", "ci_lower_event", "ci_upper_event"],
                        ),
                        "risk_table": _records(
                            cell(view.risk_table),
                            ["group", "time_days", "at_risk", "events", "competing_events", "censored"],
                        ),
                        "gray": _records(gray, ["df", "p", "note"])[0] if len(gray) else None,
                    },
                }
            )
        worst = r.worst_grade[r.worst_grade["event"] == event]
        out_events.append(
            {
                "event": event,
                "thresholds": thresholds,
                "worst_grade": _records(worst, ["group", "worst_grade", "n", "total", "percent"]),
            }
        )
    return {
        "line": line,
        "by": by,
        "n": view.n,
        "release": view.release,
        "min_cell": min_cell,
        "ci_method": "Wilson score, prop.test(correct = FALSE)",
        "conf_level": 0.95,
        "cif_method": "Aalen-Johansen with death competing (cmprsk::cuminc); Gray's test",
        "grading": {"ASTCT 2019 consensus": ["CRS", "ICANS"], "CTCAE v5.0": "every other toxicity"},
        "window": "the line's start to the next line's start or the end of follow-up; death competes",
        "combined_groups": view.combined,
        "events": out_events,
        "notes": view.notes,
    }
