"""``ayaall analyze landmark``: landmark KM + log-rank and Mantel–Byar / time-varying Cox by exposure.

Prints JSON (field names as cli.md's ``analyze km``). The numbers are the Treatment timing page's
(``reports.timing``), released by ``disclosure`` (landmark days on the time grid). Notes quote no counts;
``n_exposed_at_start`` (released like any count) says how many patients were exposed on the day of time
zero, ``n_prior_exposure`` how many had the exposure before it (a baseline fact, not the exposure).
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from analyses.results import AnalysisWarning
from ayaall.errors import UserError
from ayaall.exposures import EXPOSURES
from ayaall.settings import DEFAULT_MIN_CELL
from reports.analyze.common import (
    check_min_cell,
    cohort_from_args,
    json_value,
    open_service,
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
    parser.add_argument("--exposure", required=True, choices=list(EXPOSURES))
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
    """The ``analyze landmark`` JSON document as a dict: the Treatment timing page's numbers
    (``reports.timing``)."""
    from reports.timing import timing_view

    check_min_cell(min_cell)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        view = open_service(
            db, lambda service: timing_view(service, cohort, exposure, endpoint, origin, landmarks, [], min_cell)
        )
    notes = [count_free(n) for n in view.notes] + warning_notes(caught, min_cell)
    tv = view.hazard_ratios[view.hazard_ratios["model"] == "Time-varying"]
    return {
        "endpoint": endpoint,
        "origin": origin,
        "exposure": exposure,
        "n": view.n,
        "n_exposed_at_start": view.n_exposed_at_start,
        "n_prior_exposure": view.n_prior_exposure,
        "conf_type": "log-log",
        "min_cell": min_cell,
        "release": view.release,
        "landmarks": _landmarks(view),
        "mantel_byar": None
        if view.mantel_byar is None
        else {k: view.mantel_byar[k] for k in ("statistic", "df", "p")} | {"variance": "breslow"},
        "time_varying_cox": [
            {
                "term": "exposed",  # the time-varying exposure, as before the page's label was added
                "label": r["term"],
                "hr": r["hr"],
                "hr_ci": [r["hr_ci_lower"], r["hr_ci_upper"]],
                "p": r["p"],
            }
            for r in tv.to_dict("records")
        ]
        or None,
        "notes": list(dict.fromkeys(notes)),
    }


def _landmarks(view: Any) -> list[dict[str, Any]]:
    """Each landmark: its released counts, the log-rank test and each group's released curve."""
    out = []
    for row in view.landmark_tests.to_dict("records"):
        mark = row["landmark_days"]
        groups = []
        estimates = view.landmark_estimates[view.landmark_estimates["landmark_days"] == mark]
        for g in estimates.to_dict("records"):
            curve = view.landmark_curve[
                (view.landmark_curve["landmark_days"] == mark) & (view.landmark_curve["group"] == g["group"])
            ]
            groups.append(
                {
                    "group": g["group"],
                    "n": g["n"],
                    "events": g["events"],
                    "median_days": json_value(g["median_days"]),
                    "curve": [
                        {("has_censoring" if k == "censored" else k): json_value(v) for k, v in r.items()}
                        for r in curve.drop(columns=["landmark_days", "group"]).to_dict("records")
                    ],
                }
            )
        out.append(
            {
                "landmark_days": mark,
                "n_at_risk": row["at_risk"],
                "n_exposed": row["exposed"],
                "n_unexposed": row["not_exposed"],
                "groups": groups,
                "logrank": None
                if row["note"]
                else {"statistic": row["statistic"], "df": int(row["df"]), "p": row["p"]},
                "note": row["note"] or None,
            }
        )
    return out
