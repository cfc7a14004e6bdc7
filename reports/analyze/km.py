"""``ayaall analyze km``: Kaplan–Meier curves and the log-rank test, as JSON (cli.md).

With ``--by`` there is one curve per group and the log-rank test compares them (stratified with
``--strata``; pairwise Holm-adjusted tests are added when there are more than two groups); without it
there is one group named ``all`` and ``logrank`` is null. Small-cell suppression (``--min-cell``,
default 11, 0 = off) follows ``disclosure.suppression``: counts of 1 to min_cell - 1 are null, further
counts are masked so totals and differences cannot reveal them (the overall events too, when the patients
without an event are that few), and each curve stops at the last time with at least min_cell patients at
risk. Tests are computed on all the data and reported as they are.
"""

from __future__ import annotations

import argparse
import math
import warnings
from typing import Any

from analyses.km import KMResult, fit_km
from analyses.logrank import logrank_test, pairwise_logrank
from analyses.results import AnalysisError, AnalysisWarning
from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from ayaall.units import DAYS_PER_YEAR
from disclosure.suppression import is_small, mask_count, suppress_km
from reports.analyze.common import (
    check_endpoint,
    check_min_cell,
    cohort_from_args,
    immortal_time_notes,
    warning_notes,
    write_json,
)

__all__ = ["register", "run"]

_CURVE_FIELDS = ("time_days", "survival", "ci_lower", "ci_upper", "at_risk", "events", "censored")
_DEFAULT_TIMES = (1 * DAYS_PER_YEAR, 2 * DAYS_PER_YEAR, 3 * DAYS_PER_YEAR, 5 * DAYS_PER_YEAR)
_MILESTONE_FIELDS = ("time_days", "survival", "ci_lower", "ci_upper", "at_risk", "events")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``km`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "km",
        parents=[common],
        help="Kaplan–Meier curves + log-rank test",
        description="Kaplan–Meier survival (log-log confidence intervals, as R survfit) per group, with "
        "the log-rank test (R survdiff). Prints JSON (cli.md).",
    )
    parser.add_argument("--by", help="analysis_patients column whose groups are compared")
    parser.add_argument("--strata", help="analysis_patients column stratifying the log-rank test")
    parser.add_argument(
        "--times", default="1,2,3,5", help="milestone times in years for survival estimates (default 1,2,3,5)"
    )
    parser.add_argument(
        "--rmst", type=float, metavar="DAYS", help="horizon in days for the restricted mean survival time"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    try:
        years = [float(x) for x in args.times.split(",") if x.strip()]
    except ValueError as exc:
        raise UserError(f"--times must be comma-separated numbers of years, not {args.times!r}.") from exc
    result = run(
        args.db,
        args.endpoint,
        args.origin,
        cohort,
        by=args.by,
        strata=args.strata,
        times=[y * DAYS_PER_YEAR for y in years],
        rmst_horizon=args.rmst,
        min_cell=args.min_cell,
    )
    return write_json(result)


def run(
    db: Any,
    endpoint: str,
    origin: str,
    cohort: Any,
    *,
    by: str | None = None,
    strata: str | None = None,
    times: list[float] | tuple[float, ...] = _DEFAULT_TIMES,
    rmst_horizon: float | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict[str, Any]:
    """The ``analyze km`` JSON document as a dict (also used by the dashboard's export)."""
    from etl.read import load_analysis_frame

    spec = check_endpoint(endpoint, origin)
    check_min_cell(min_cell)
    frame = load_analysis_frame(db, cohort, endpoint, origin, [c for c in (by, strata) if c])
    if frame.empty:
        raise UserError(f"The cohort has no {endpoint} rows from {origin}.")
    notes: list[str] = immortal_time_notes([by, strata], origin)
    if spec.competing_risks:
        notes.append(
            f"{endpoint} has a competing event (event_code 2), counted here as censoring; "
            "'analyze cif' gives the cumulative incidence."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        km = fit_km(frame, "time_days", "event_code", by, times=times, rmst_horizon=rmst_horizon)
        logrank, pairwise = _tests(frame, by, strata, notes)
    notes += warning_notes(caught, min_cell)
    shown, hide = suppress_km(km, min_cell)
    # rule 2 on the totals: the patients without an event, n - events, is a count too
    hide["events"] = hide["events"] or is_small(km.n - km.events, min_cell)
    if min_cell:
        notes.append(
            f"Small-cell suppression (disclosure.suppression): counts of 1 to {min_cell - 1} are "
            f"null, and each curve stops at the last time with at least {min_cell} at risk."
        )
    return {
        "endpoint": endpoint,
        "origin": origin,
        "by": by,
        "strata": strata,
        "event": spec.event,
        "n": None if hide["n"] else mask_count(km.n, min_cell),
        "events": None if hide["events"] else mask_count(km.events, min_cell),
        "conf_type": km.conf_type,
        "conf_level": km.conf_level,
        "min_cell": min_cell,
        "groups": _groups(shown),
        "logrank": logrank,
        "pairwise_logrank": pairwise,
        "rmst_diff": [_clean(r) for r in shown.rmst_diff.to_dict("records")],
        "notes": notes,
    }


def _tests(frame, by, strata, notes) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    if by is None:
        notes.append("No --by column: one group, so no log-rank test.")
        return None, None
    try:
        test = logrank_test(frame, "time_days", "event_code", by, strata_col=strata)
    except AnalysisError as exc:
        notes.append(f"Log-rank test not reported: {exc}")
        return None, None
    out = {"statistic": test.statistic, "df": test.df, "p": test.p, "method": test.method, "strata": strata}
    pairwise = None
    if frame[by].nunique() > 2:
        pairwise = [
            _clean(r)
            for r in pairwise_logrank(frame, "time_days", "event_code", by, strata_col=strata).to_dict("records")
        ]
    return out, pairwise


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe values: NaN -> None, whole-number times as ints."""
    out = {}
    for key, value in record.items():
        if isinstance(value, float) and math.isnan(value):
            value = None
        elif key == "time_days" and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif hasattr(value, "item"):  # numpy scalar
            value = value.item()
        out[key] = value
    return out


def _groups(km: KMResult) -> list[dict[str, Any]]:
    groups = []
    rmst = km.rmst.set_index("group") if len(km.rmst) else None
    for row in km.summary.to_dict("records"):
        g = row["group"]
        curve = km.curve[km.curve["group"] == g]
        ms = km.milestones[km.milestones["group"] == g]
        clean = _clean(row)
        groups.append(
            {
                "group": g,
                "n": clean["n"],
                "events": clean["events"],
                "median_days": clean["median_days"],
                "median_ci_days": [clean["median_ci_lower"], clean["median_ci_upper"]],
                "curve": [_clean({k: r[k] for k in _CURVE_FIELDS}) for r in curve.to_dict("records")],
                "milestones": [_clean({k: r[k] for k in _MILESTONE_FIELDS}) for r in ms.to_dict("records")],
                "rmst": None if rmst is None else _clean(rmst.loc[g].to_dict()),
            }
        )
    return groups
