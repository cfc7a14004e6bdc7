"""``ayaall analyze cif``: Aalen–Johansen cumulative incidence and Gray's test, as JSON (cli.md).

Only the competing-risks endpoints (CIR, NRM) have a competing event; for the others use
``analyze km``. With ``--by`` the curves are per group and Gray's test compares them; without it there
is one group named ``all`` and ``gray_test`` is null, with a note saying why.

Small-cell suppression (``--min-cell N``, default 11, 0 turns it off) follows ``disclosure.suppression``
(see ``_groups``): counts of 1 to N − 1 are null, totals cannot reveal a masked group count, and a curve
stops at the last time with at least N patients at risk (a group of fewer than N has no curve). The
estimates are computed on all the data; Gray's test is reported as computed.
"""

from __future__ import annotations

import argparse
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from analyses.cif import CIFResult, cumulative_incidence
from analyses.gray import gray_test
from analyses.results import AnalysisError, AnalysisWarning
from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.suppression import is_small, mask_count, suppress_totals
from reports.analyze.common import (
    check_endpoint,
    check_min_cell,
    cohort_from_args,
    group_curve,
    immortal_time_notes,
    warning_notes,
    write_json,
)
from reports.notes import count_free

__all__ = ["register", "run"]

_COUNT_FIELDS = ("at_risk", "events", "competing_events", "censored")
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
    """The ``analyze cif`` JSON document as a dict (also used by the dashboard's export)."""
    from etl.read import load_analysis_frame

    spec = check_endpoint(endpoint, origin)
    if not spec.competing_risks:
        raise UserError(f"{endpoint} has no competing event; 'analyze cif' is for CIR and NRM (use 'analyze km').")
    check_min_cell(min_cell)
    columns = [c for c in (by, strata) if c]
    frame = load_analysis_frame(db, cohort, endpoint, origin, columns)
    notes: list[str] = immortal_time_notes([by, strata], origin)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        cif = cumulative_incidence(frame, "time_days", "event_code", by)
        gray = _gray(frame, by, strata, notes, event=1)
        gray_competing = _gray(frame, by, strata, [], event=2)
    notes += warning_notes(caught, min_cell)
    groups, totals = _groups(cif, min_cell)
    if min_cell:
        notes.append(
            f"Small-cell suppression (disclosure.suppression): counts of 1 to {min_cell - 1} are null, and "
            f"each curve stops at the last time with at least {min_cell} patients at risk."
        )
    return {
        "endpoint": endpoint,
        "origin": origin,
        "by": by,
        "strata": strata,
        "event": spec.event,
        "competing_event": spec.competing,
        **totals,
        "conf_type": cif.conf_type,
        "conf_level": cif.conf_level,
        "variance": "Gray (1988), as cmprsk::cuminc",
        "min_cell": min_cell,
        "groups": groups,
        "gray_test": gray,
        "gray_test_competing": gray_competing,
        "notes": notes,
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


def _groups(cif: CIFResult, min_cell: int) -> tuple[list[dict[str, Any]], dict[str, int | None]]:
    """Per-group JSON with small-cell suppression, and the overall counts (None when masked).

    ``disclosure.suppression`` rules: a count of 1 to min_cell − 1 is masked; group counts are masked
    further (smallest first) so that totals cannot reveal them; a group's events (competing events) are
    masked when the patients without them are a small count, and its competing events also when its
    censored patients (n − events − competing events) are; the overall events and competing events
    likewise. Curves stop where fewer than min_cell are at risk and at-risk numbers are thinned so that
    drops between them are not small counts (milestones' at-risk numbers thinned together with the
    curve's, as ``suppress_km`` does); with a masked group size every per-row count is masked, with
    masked group events every per-row event count. Milestones after a curve's last shown time are left
    out.
    """
    n, events, competing = (cif.summary[c].to_numpy(dtype=int) for c in ("n", "events", "competing_events"))
    censored = n - events - competing
    # per group and overall, the counts whose smallness masks each column (rule 2)
    complements = {
        "n": ([], []),
        "events": ([n - events], [n.sum() - events.sum()]),
        "competing_events": ([n - competing, censored], [n.sum() - competing.sum(), censored.sum()]),
    }
    shown: dict[str, list[int | None]] = {}
    totals: dict[str, int | None] = {}
    for col, values in (("n", n), ("events", events), ("competing_events", competing)):
        per_group, overall = complements[col]
        also = [any(is_small(c[i], min_cell) for c in per_group) for i in range(len(values))]
        shown[col], hide_total = suppress_totals(values, min_cell, also_mask=also)
        hide_total = hide_total or any(is_small(c, min_cell) for c in overall)
        totals[col] = None if hide_total else mask_count(int(values.sum()), min_cell)
    groups = []
    for i, label in enumerate(cif.groups):
        curve = cif.curve.loc[cif.curve["group"] == label].drop(columns="group")
        at = cif.milestones.loc[cif.milestones["group"] == label].drop(columns="group")
        curve, at_risk = group_curve(
            curve,
            min_cell,
            int(n[i]),
            shown["n"][i],
            {"events": shown["events"][i], "competing_events": shown["competing_events"][i]},
            points=list(zip(at["time_days"], at["at_risk"], strict=True)),
        )
        at = at.assign(at_risk=pd.Series(at_risk, index=at.index, dtype=object))
        if min_cell:
            last = curve["time_days"].max() if len(curve) else -np.inf
            at = at.loc[at["time_days"] <= last].reset_index(drop=True)
        groups.append(
            {
                "group": label,
                "n": shown["n"][i],
                "events": shown["events"][i],
                "competing_events": shown["competing_events"][i],
                "curve": [_point(r, _CURVE_FIELDS) for r in curve.to_dict("records")],
                "milestones": [
                    _point(r, _MILESTONE_FIELDS) | {"beyond_follow_up": bool(r["beyond_follow_up"])}
                    for r in at.to_dict("records")
                ],
            }
        )
    return groups, totals


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
