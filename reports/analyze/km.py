"""``ayaall analyze km``: Kaplan–Meier curves and the log-rank test, as JSON (cli.md).

With ``--by`` there is one curve per group and the log-rank test compares them (stratified with
``--strata``; pairwise Holm-adjusted tests are added when there are more than two groups); without it
there is one group named ``all`` and ``logrank`` is null. The numbers are the Survival page's
(``reports.survival``), released by ``disclosure`` (``--min-cell``, default 11, 0 = off; ``release`` says
how): counts rounded, curves estimated from rounded counts on the time grid. Tests are computed on the
exact data.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from analyses.results import AnalysisWarning
from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from ayaall.units import DAYS_PER_YEAR
from disclosure.policy import policy_for
from reports.analyze.common import (
    check_endpoint,
    check_min_cell,
    cohort_from_args,
    immortal_time_notes,
    json_value,
    open_service,
    warning_notes,
    write_json,
)
from reports.notes import count_free
from reports.survival import survival_view

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
    """The ``analyze km`` JSON document as a dict: the Survival page's numbers (``reports.survival``)."""
    spec = check_endpoint(endpoint, origin)
    check_min_cell(min_cell)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        view = open_service(
            db,
            lambda service: survival_view(
                service,
                cohort,
                endpoint,
                origin,
                by,
                "years",
                min_cell,
                milestone_days=times,
                strata=strata,
                rmst_horizon=rmst_horizon,
            ),
        )
    notes = immortal_time_notes([by, strata], origin) + [count_free(n) for n in view.notes]
    notes += warning_notes(caught, min_cell)
    if by is None:
        notes.append("No --by column: one group, so no log-rank test.")
    km = view.km
    return {
        "endpoint": endpoint,
        "origin": origin,
        "by": by,
        "strata": strata,
        "event": spec.event,
        "n": view.n,
        "events": view.events,
        "conf_type": km.conf_type,
        "conf_level": km.conf_level,
        "min_cell": min_cell,
        "release": view.release,
        "groups": _groups(view),
        "logrank": view.logrank,
        "pairwise_logrank": None if view.pairwise is None else [_clean(r) for r in view.pairwise.to_dict("records")],
        "rmst_diff": [_clean(r) for r in km.rmst_diff.to_dict("records")],
        "combined_groups": view.combined,
        "notes": list(dict.fromkeys(notes)),
    }


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe values: NaN -> None, whole-number times as ints."""
    out = {}
    for key, value in record.items():
        value = json_value(value)
        if key == "time_days" and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[key] = value
    return out


def _curve_rows(view: Any, group: str) -> list[dict[str, Any]]:
    """One row per released time of the group's curve: estimate, interval, the released number at risk,
    and the released events and censorings at that time (None where masked)."""
    curve = view.km.curve[view.km.curve["group"] == group]
    counts = view.counts[view.counts["group"] == group].set_index("time_days")
    policy = policy_for(view.release["min_cell"])
    rows = []
    previous = {"events": 0.0, "censored": 0.0}
    for r in curve.to_dict("records"):
        c = counts.loc[r["time_days"]] if r["time_days"] in counts.index else None
        row = {k: r[k] for k in ("time_days", "survival", "ci_lower", "ci_upper")}
        if c is None:
            row |= {"at_risk": None, "events": None, "censored": None}
        else:
            row["at_risk"] = policy.shown(c["at_risk"])
            for col in ("events", "censored"):
                row[col] = policy.shown(float(c[col]) - previous[col])
                previous[col] = float(c[col])
        row["has_censoring"] = bool(r["censored"])
        rows.append(_clean(row))
    return rows


def _groups(view: Any) -> list[dict[str, Any]]:
    km = view.km
    rmst = km.rmst.set_index("group") if len(km.rmst) else None
    groups = []
    for row in km.summary.to_dict("records"):
        g = row["group"]
        ms = km.milestones[km.milestones["group"] == g]
        groups.append(
            {
                "group": g,
                "n": row["n"],
                "events": row["events"],
                "median_days": json_value(row["median_days"]),
                "median_ci_days": [json_value(row["median_ci_lower"]), json_value(row["median_ci_upper"])],
                "curve": _curve_rows(view, g),
                "milestones": [_clean({k: r[k] for k in _MILESTONE_FIELDS}) for r in ms.to_dict("records")],
                "rmst": None if rmst is None or g not in rmst.index else _clean(rmst.loc[g].to_dict()),
            }
        )
    return groups
