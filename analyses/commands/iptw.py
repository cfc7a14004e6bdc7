"""``ayaall analyze iptw``: propensity model, IPTW weights, balance, adjusted KM and weighted Cox (JSON)."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from analyses.commands._shared import check_min_cell, cohort_from_args, json_value, write_json
from analyses.results import AnalysisWarning
from analyses.suppression import mask_count, suppress_curve
from ayaall.errors import UserError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``iptw`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "iptw",
        parents=[common],
        help="IPTW-adjusted survival by treatment",
        description="Propensity model, inverse probability of treatment weights, "
        "covariate balance, adjusted KM curves and a weighted Cox model. Prints JSON.",
    )
    parser.add_argument("--treatment", required=True, help="analysis_patients column, e.g. salvage_regimen")
    parser.add_argument("--levels", help="comma-separated treatments to compare (first = reference)")
    parser.add_argument("--covariates", required=True, help="comma-separated analysis_patients columns")
    parser.add_argument("--estimand", default="ATE", choices=["ATE", "ATT"])
    parser.add_argument("--target", help="ATT: the treatment whose patients are the target (default: last level)")
    parser.add_argument("--trim", type=float, help="drop patients with a propensity below this (e.g. 0.01)")
    parser.add_argument("--truncate", type=float, help="winsorize weights at this quantile and 1 minus it")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    levels = [v for v in args.levels.split(",") if v] if args.levels else None
    covariates = [v for v in args.covariates.split(",") if v]
    result = run(
        args.db,
        args.endpoint,
        args.origin,
        cohort,
        args.treatment,
        covariates,
        levels=levels,
        estimand=args.estimand,
        target=args.target,
        trim=args.trim,
        truncate=args.truncate,
        min_cell=args.min_cell,
    )
    return write_json(result)


def run(
    db: Any,
    endpoint: str,
    origin: str,
    cohort: Any,
    treatment: str,
    covariates: list[str],
    *,
    levels: list[str] | None = None,
    estimand: str = "ATE",
    target: str | None = None,
    trim: float | None = None,
    truncate: float | None = None,
    min_cell: int = 11,
) -> dict[str, Any]:
    """The ``analyze iptw`` JSON document as a dict."""
    from analyses.cohort import load_analysis_frame
    from analyses.timing import naive_exposure_warning
    from analyses.weighting import (
        balance_table,
        effective_sample_size,
        fit_propensity,
        fit_weighted_cox,
        fit_weighted_km,
        iptw_weights,
    )

    check_min_cell(min_cell)
    if not covariates:
        raise UserError("--covariates must name at least one analysis_patients column.")
    frame = load_analysis_frame(db, cohort, endpoint, origin, [treatment, *covariates])
    notes: list[str] = []
    if (text := naive_exposure_warning(treatment, origin)) is not None:
        notes.append(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        ps = fit_propensity(frame, treatment, covariates, levels=levels)
        w = iptw_weights(ps, estimand=estimand, target=target, trim=trim, truncate=truncate)
        data = frame.loc[w.index].assign(iptw=w["weight"])
        balance = balance_table(data, treatment, covariates, "iptw", estimand=estimand, target=target)
        km = fit_weighted_km(data, "time_days", "event_code", treatment, "iptw")
        cox = fit_weighted_cox(data, "time_days", "event_code", treatment, "iptw", reference=ps.levels[0])
    notes += [str(m.message) for m in caught if issubclass(m.category, AnalysisWarning)]
    groups = []
    for s in km.summary.to_dict("records"):
        curve = km.curve[km.curve["group"] == s["group"]].drop(columns="group")
        shown = suppress_curve(curve, min_cell)
        # weighted counts track the unweighted ones closely: hide them where those are hidden
        for col, base in (
            ("weighted_at_risk", "at_risk"),
            ("effective_at_risk", "at_risk"),
            ("weighted_events", "events"),
        ):
            shown[col] = shown[col].astype(object).where(shown[base].notna(), None)
        curve = shown
        groups.append(
            {
                "group": s["group"],
                "n": mask_count(s["n"], min_cell),
                "events": mask_count(s["events"], min_cell),
                "effective_n": s["effective_n"],
                "median_days": json_value(s["median_days"]),
                "curve": [{k: json_value(v) for k, v in r.items()} for r in curve.to_dict("records")],
            }
        )
    return {
        "endpoint": endpoint,
        "origin": origin,
        "treatment": treatment,
        "levels": ps.levels,
        "reference": ps.levels[0],
        "covariates": covariates,
        "estimand": estimand.upper(),
        "stabilized": estimand.upper() == "ATE",
        "trim": trim,
        "truncate": truncate,
        "n": mask_count(len(data), min_cell),
        "n_dropped_missing": ps.n_dropped,
        "n_trimmed": ps.n - len(w),
        "min_cell": min_cell,
        "conf_type": km.conf_type,
        "variance": "Xie & Liu (2005)",
        "propensity": {
            "method": ps.method,
            "loglik": ps.loglik,
            "coefficients": [{k: json_value(v) for k, v in r.items()} for r in ps.coefficients.to_dict("records")],
        },
        "weights": [
            {
                "group": g,
                "effective_n": effective_sample_size(w.loc[w["treatment"] == g, "weight"]),
                "min": float(w.loc[w["treatment"] == g, "weight"].min()),
                "max": float(w.loc[w["treatment"] == g, "weight"].max()),
            }
            for g in ps.levels
        ],
        "balance": [
            {k: json_value(v) for k, v in r.items() if not k.startswith(("mean_", "wmean_"))}
            for r in balance.to_dict("records")
        ],
        "groups": groups,
        "cox": {
            "n": mask_count(cox.n, min_cell),
            "events": mask_count(cox.events, min_cell),
            "robust": True,
            "terms": [
                {
                    "term": r["term"],
                    "coef": r["coef"],
                    "se": r["se"],
                    "robust_se": r["robust_se"],
                    "hr": r["hr"],
                    "hr_ci": [r["hr_ci_lower"], r["hr_ci_upper"]],
                    "p": r["p"],
                }
                for r in cox.terms.to_dict("records")
            ],
        },
        "notes": notes,
    }
