"""``ayaall analyze landmark``: landmark KM + log-rank and Mantel–Byar / time-varying Cox by exposure.

Prints JSON (field names as cli.md's ``analyze km``). Counts follow :mod:`analyses.suppression`.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from analyses.commands._shared import check_min_cell, cohort_from_args, json_value, write_json
from analyses.results import AnalysisError, AnalysisWarning
from analyses.suppression import mask_count, suppress_curve, suppress_totals
from ayaall.errors import UserError

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
    db: Any, endpoint: str, origin: str, cohort: Any, exposure: str, landmarks: list[float], *, min_cell: int = 11
) -> dict[str, Any]:
    """The ``analyze landmark`` JSON document as a dict."""
    from analyses.timing import exposure_frame, fit_cox_counting, fit_landmark, mantel_byar_test, start_stop_frame

    check_min_cell(min_cell)
    frame = exposure_frame(db, cohort, endpoint, origin, exposure)
    notes: list[str] = []
    before = int((frame["exposure_days"] < 0).sum())
    if before:
        notes.append(
            f"{before} patients had their first {exposure} before time zero; they count as exposed from the start."
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
            notes.append(f"Time-dependent analysis not reported: {exc}")
    notes += [str(w.message) for w in caught if issubclass(w.category, AnalysisWarning)]
    out_landmarks = []
    for row in lm.landmarks.to_dict("records"):
        mark = row["landmark_days"]
        groups = []
        summary = lm.summary[lm.summary["landmark_days"] == mark]
        n_masked, _ = suppress_totals(summary["n"], min_cell) if min_cell else (list(summary["n"]), False)
        for s, n_shown in zip(summary.to_dict("records"), n_masked, strict=True):
            curve = lm.curve[(lm.curve["landmark_days"] == mark) & (lm.curve["group"] == s["group"])]
            hidden_n = None if n_shown is not None else s["n"]
            curve = suppress_curve(curve.drop(columns="landmark_days"), min_cell, hidden_n)
            groups.append(
                {
                    "group": s["group"],
                    "n": n_shown,
                    "events": mask_count(s["events"], min_cell),
                    "median_days": json_value(s["median_days"]),
                    "median_ci_days": [json_value(s["median_ci_lower"]), json_value(s["median_ci_upper"])],
                    "curve": [
                        {k: json_value(v) for k, v in r.items() if k != "group"} for r in curve.to_dict("records")
                    ],
                }
            )
        out_landmarks.append(
            {
                "landmark_days": mark,
                "n_at_risk": mask_count(row["n_at_risk"], min_cell),
                "n_exposed": mask_count(row["n_exposed"], min_cell),
                "n_unexposed": mask_count(row["n_unexposed"], min_cell),
                "groups": groups,
                "logrank": None
                if row["note"]
                else {"statistic": row["statistic"], "df": int(row["df"]), "p": row["p"]},
                "note": row["note"] or None,
            }
        )
    return {
        "endpoint": endpoint,
        "origin": origin,
        "exposure": exposure,
        "n": mask_count(len(frame), min_cell),
        "conf_type": "log-log",
        "min_cell": min_cell,
        "landmarks": out_landmarks,
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
