"""``ayaall analyze landmark``: landmark KM + log-rank and Mantel–Byar / time-varying Cox by exposure.

Prints JSON (field names as cli.md's ``analyze km``). Counts follow :mod:`disclosure.suppression`: the
numbers at risk after the landmarks are thinned like a curve's, exposed and not exposed add up to them,
a group's curve stops where fewer than ``min_cell`` are at risk and its median beyond that is null.
Notes quote no counts; ``n_exposed_at_start`` (masked like any count) says how many patients were
exposed on or before time zero.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import pandas as pd

from analyses.results import AnalysisError, AnalysisWarning
from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.suppression import is_small, landmark_counts, mask_count
from reports.analyze.common import (
    check_min_cell,
    cohort_from_args,
    group_curve,
    json_value,
    shown_within,
    warning_notes,
    write_json,
)
from reports.notes import count_free

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``landmark`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "landmark",
        parents=[common],
        help="landmark analysis of a post-baseline exposure",
        description="Survival by exposure (transplant or CAR-T) status at landmark days, "
        "plus the Mantel-Byar test and a time-varying Cox model. Prints JSON.",
    )
    parser.add_argument("--exposure", required=True, choices=["hct", "car_t"])
    parser.add_argument("--landmarks", required=True, help="comma-separated days, e.g. 100,180,365")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    try:
        marks = [float(v) for v in args.landmarks.split(",") if v.strip()]
    except ValueError as exc:
        raise UserError(f"--landmarks must be comma-separated numbers of days, not {args.landmarks!r}.") from exc
    result = run(args.db, args.endpoint, args.origin, cohort, args.exposure, marks, min_cell=args.min_cell)
    return write_json(result)


def run(
    db: Any,
    endpoint: str,
    origin: str,
    cohort: Any,
    exposure: str,
    landmarks: list[float],
    *,
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict[str, Any]:
    """The ``analyze landmark`` JSON document as a dict."""
    from analyses.counting import start_stop_frame
    from analyses.cox_counting import fit_cox_counting
    from analyses.landmark import fit_landmark, mantel_byar_test
    from etl.read import exposure_frame

    check_min_cell(min_cell)
    frame = exposure_frame(db, cohort, endpoint, origin, exposure)
    notes: list[str] = []
    # exposed on or before time zero (and before the end of follow-up): start_stop_frame's "from the start"
    at_start = int(((frame["exposure_days"] <= 0) & (frame["exposure_days"] < frame["time_days"])).sum())
    if at_start:
        notes.append(
            f"Patients whose first {exposure} was on or before time zero count as exposed from the start "
            "(n_exposed_at_start)."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        lm = fit_landmark(frame, "time_days", "event_code", "exposure_days", landmarks)
        cp = start_stop_frame(frame, "time_days", "event_code", "exposure_days")
        mb = tv = None
        try:
            mb = mantel_byar_test(cp)
            tv = fit_cox_counting(cp, "start", "stop", "event", ["exposed"], cluster_col="row_id")
        except AnalysisError as exc:
            notes.append(f"Time-dependent analysis not reported: {count_free(str(exc)) if min_cell else exc}")
    notes += warning_notes(caught, min_cell)
    n = len(frame)
    return {
        "endpoint": endpoint,
        "origin": origin,
        "exposure": exposure,
        "n": mask_count(n, min_cell),
        "n_exposed_at_start": None if is_small(n - at_start, min_cell) else mask_count(at_start, min_cell),
        "conf_type": "log-log",
        "min_cell": min_cell,
        "landmarks": _landmarks(lm, n, min_cell),
        "mantel_byar": None
        if mb is None
        else {"statistic": mb.statistic, "df": mb.df, "p": mb.p, "variance": "breslow"},
        "time_varying_cox": None
        if tv is None
        else [
            {
                "term": r["term"],
                "coef": r["coef"],
                "se": r["se"],
                "robust_se": r["robust_se"],
                "hr": r["hr"],
                "hr_ci": [r["hr_ci_lower"], r["hr_ci_upper"]],
                "p": r["p"],
            }
            for r in tv.terms.to_dict("records")
        ],
        "notes": notes,
    }


def _landmarks(lm: Any, n_total: int, min_cell: int) -> list[dict[str, Any]]:
    """Each landmark's row, its counts suppressed by ``disclosure.suppression.landmark_counts`` (as the
    dashboard's Timing page shows them)."""
    marks, group_counts = landmark_counts(lm, n_total, min_cell)
    table = lm.landmarks.reset_index(drop=True)
    out = []
    for row, shown in zip(table.to_dict("records"), marks.to_dict("records"), strict=True):
        mark = row["landmark_days"]
        summary = lm.summary[lm.summary["landmark_days"] == mark].set_index("group")
        counts = group_counts[group_counts["landmark_days"] == mark].set_index("group")
        out.append(
            {
                "landmark_days": mark,
                "n_at_risk": json_value(shown["at_risk"]),
                "n_exposed": shown["exposed"],
                "n_unexposed": shown["unexposed"],
                "groups": _groups(lm, mark, summary, counts, min_cell),
                "logrank": None
                if row["note"]
                else {"statistic": row["statistic"], "df": int(row["df"]), "p": row["p"]},
                "note": row["note"] or None,
            }
        )
    return out


def _groups(lm: Any, mark: float, summary: Any, counts: pd.DataFrame, min_cell: int) -> list[dict]:
    if summary.empty:
        return []
    groups = []
    for group, s in summary.iterrows():
        n_shown, events_shown = counts.loc[group, "n"], counts.loc[group, "events"]
        curve = lm.curve[(lm.curve["landmark_days"] == mark) & (lm.curve["group"] == group)]
        curve, _ = group_curve(
            curve.drop(columns=["landmark_days", "group"]),
            min_cell,
            int(s["n"]),
            n_shown,
            {"events": events_shown},
        )
        groups.append(
            {
                "group": group,
                "n": n_shown,
                "events": events_shown,
                "median_days": shown_within(s["median_days"], curve),
                "median_ci_days": [
                    shown_within(s["median_ci_lower"], curve),
                    shown_within(s["median_ci_upper"], curve),
                ],
                "curve": [{k: json_value(v) for k, v in r.items()} for r in curve.to_dict("records")],
            }
        )
    return groups
