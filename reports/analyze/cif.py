"""``ayaall analyze cif``: Aalen–Johansen cumulative incidence and Gray's test, as JSON (cli.md).

Only the competing-risks endpoints (CIR, NRM) have a competing event; for the others use
``analyze km``. With ``--by`` the curves are per group and Gray's test compares them; without it there
is one group named ``all`` and ``gray_test`` is null, with a note saying why.

The numbers are the Competing risks page's (``reports.competing``), released by ``disclosure``
(``--min-cell N``, default 11; 0 turns it off; ``release`` says how): counts rounded, curves estimated
from rounded counts on the time grid. Gray's test is computed on the exact data.
"""

from __future__ import annotations

import argparse
import math
import warnings
from typing import Any

import pandas as pd

from analyses.gray import gray_test
from analyses.results import AnalysisError, AnalysisWarning
from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.groups import OTHER_GROUPS
from disclosure.incidence import CIF_ESTIMATES
from disclosure.policy import policy_for
from reports.analyze.common import (
    check_endpoint,
    check_min_cell,
    cohort_from_args,
    immortal_time_notes,
    open_service,
    warning_notes,
    write_json,
)
from reports.competing import competing_view
from reports.notes import count_free

__all__ = ["register", "run"]

_COUNT_FIELDS = ("at_risk", "events", "competing_events", "censored")
_CURVE_FIELDS_ESTIMATES = ("time_days", *CIF_ESTIMATES)
_CURVE_FIELDS = (
    "time_days",
    "at_risk",
    "events",
    "competing_events",
    "censored",
    "cif_event",
    "var_event",
    "ci_lower_event",
    "ci_upper_event",
    "cif_competing",
    "var_competing",
    "ci_lower_competing",
    "ci_upper_competing",
)
_MILESTONE_FIELDS = (
    "time_days",
    "at_risk",
    "cif_event",
    "var_event",
    "ci_lower_event",
    "ci_upper_event",
    "cif_competing",
    "var_competing",
    "ci_lower_competing",
    "ci_upper_competing",
)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``cif`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "cif",
        parents=[common],
        help="Aalen–Johansen cumulative incidence + Gray's test (CIR, NRM)",
        description="Cumulative incidence of the endpoint's event and of its competing event, per group, "
        "with Gray's test (cmprsk::cuminc). Prints JSON (cli.md).",
    )
    parser.add_argument("--by", help="analysis_patients column whose groups are compared")
    parser.add_argument("--strata", help="analysis_patients column stratifying Gray's test")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    result = run(args.db, args.endpoint, args.origin, cohort, by=args.by, strata=args.strata, min_cell=args.min_cell)
    return write_json(result)


def run(
    db: Any,
    endpoint: str,
    origin: str,
    cohort: Any,
    *,
    by: str | None = None,
    strata: str | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict[str, Any]:
    """The ``analyze cif`` JSON document as a dict: the Competing risks page's numbers
    (``reports.competing``), with Gray's test stratified by ``strata`` when given."""
    from etl.read import load_analysis_frame

    spec = check_endpoint(endpoint, origin)
    if not spec.competing_risks:
        raise UserError(f"{endpoint} has no competing event; 'analyze cif' is for CIR and NRM (use 'analyze km').")
    check_min_cell(min_cell)
    view = open_service(db, lambda service: competing_view(service, cohort, endpoint, origin, by, min_cell))
    notes: list[str] = immortal_time_notes([by, strata], origin) + [count_free(n) for n in view.notes]
    frame = load_analysis_frame(db, cohort, endpoint, origin, [c for c in (by, strata) if c])  # Gray's test only
    if by is not None and view.combined:
        frame = frame.assign(
            **{by: frame[by].astype(str).where(~frame[by].astype(str).isin(view.combined), OTHER_GROUPS)}
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        gray = _gray(frame, by, strata, notes, event=1)
        gray_competing = _gray(frame, by, strata, [], event=2)
    notes += warning_notes(caught, min_cell)
    policy = policy_for(min_cell)
    totals = {"n": view.n, "events": view.events, "competing_events": view.competing_events}
    return {
        "endpoint": endpoint,
        "origin": origin,
        "by": by,
        "strata": strata,
        "event": spec.event,
        "competing_event": spec.competing,
        **totals,
        "conf_type": "log-log",
        "conf_level": 0.95,
        "variance": "Gray (1988), as cmprsk::cuminc",
        "min_cell": min_cell,
        "release": view.release,
        "groups": _groups(view, policy),
        "gray_test": gray,
        "gray_test_competing": gray_competing,
        "combined_groups": view.combined,
        "notes": list(dict.fromkeys(notes)),
    }


def _gray(
    frame: pd.DataFrame, by: str | None, strata: str | None, notes: list[str], *, event: int
) -> dict[str, Any] | None:
    """Gray's test of the event (1) or of the competing event (2); None with a note when impossible."""
    if by is None:
        notes.append("No --by column: one group, so Gray's test is not reported.")
        return None
    try:
        test = gray_test(frame, "time_days", "event_code", by, strata_col=strata, event=event, competing=3 - event)
    except AnalysisError as exc:
        notes.append(f"Gray's test not reported: {count_free(str(exc))}")
        return None
    return {"statistic": test.statistic, "df": test.df, "p": test.p, "strata": strata}


def _groups(view: Any, policy: Any) -> list[dict[str, Any]]:
    """Per-group JSON: released counts, the released curve (one row per released time, with the released
    number at risk and the events, competing events and censorings at that time) and the milestones."""
    groups = []
    for row in view.summary.to_dict("records"):
        g = row["group"]
        curve = view.curve[view.curve["group"] == g]
        counts = view.counts[view.counts["group"] == g].set_index("time_days")
        previous = dict.fromkeys(("events", "competing_events", "censored"), 0.0)
        rows = []
        for r in curve.to_dict("records"):
            point = _point(r, _CURVE_FIELDS_ESTIMATES)
            if r["time_days"] in counts.index:
                c = counts.loc[r["time_days"]]
                point["at_risk"] = policy.shown(c["at_risk"])
                for col in previous:
                    point[col] = policy.shown(float(c[col]) - previous[col])
                    previous[col] = float(c[col])
            rows.append(point)
        ms = view.milestones[view.milestones["group"] == g]
        groups.append(
            {
                "group": g,
                "n": row["n"],
                "events": row["events"],
                "competing_events": row["competing_events"],
                "curve": rows,
                "milestones": [_point(r, _CURVE_FIELDS_ESTIMATES) for r in ms.to_dict("records")],
            }
        )
    return groups


def _point(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = record[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[name] = None
        elif name in _COUNT_FIELDS:
            out[name] = int(value)
        elif name == "time_days":
            out[name] = int(value) if float(value).is_integer() else float(value)
        else:
            out[name] = float(value)
    return out
