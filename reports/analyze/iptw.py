"""``ayaall analyze iptw``: propensity model, IPTW weights, balance, adjusted KM and weighted Cox (JSON).

``--levels`` lists the treatments compared, the first being the reference of the hazard ratios; with
``--estimand ATT`` the target population is ``--target``, else the *last* level given (not the last in
sorted order). The weights and the balance table use that one target, recorded as ``target`` (null for
ATE). Counts, effective sample sizes and the adjusted curves are released as the Adjusted comparison page
releases them (``disclosure.counts.WeightedCounts``, ``disclosure.weighted.release_weighted``).
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from analyses.results import AnalysisWarning
from ayaall.errors import UserError
from ayaall.records import RECORD_KEY
from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.cellkey import cell_keys, curve_keys, key_of
from disclosure.counts import WeightedCounts
from disclosure.policy import policy_for
from disclosure.weighted import release_weighted
from reports.analyze.common import (
    check_min_cell,
    cohort_from_args,
    immortal_time_notes,
    json_value,
    warning_notes,
    write_json,
)

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
    parser.add_argument(
        "--target", help="ATT: the treatment whose patients are the target (default: the last of --levels, as given)"
    )
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
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict[str, Any]:
    """The ``analyze iptw`` JSON document as a dict.

    ATT's target is ``target``, else the last of ``levels`` as given (``analyses.weighting.att_target``);
    the weights and the balance table use that one target, and the document records it as ``target``.
    Counts follow :func:`_counts`.
    """
    from analyses.weighting import (
        att_target,
        balance_table,
        effective_sample_size,
        fit_propensity,
        fit_weighted_cox,
        fit_weighted_km,
        iptw_weights,
    )
    from etl.read import load_analysis_frame

    check_min_cell(min_cell)
    estimand = estimand.upper()
    if estimand not in ("ATE", "ATT"):
        raise UserError(f"--estimand must be ATE or ATT, not {estimand!r}.")
    if target is not None and estimand != "ATT":
        raise UserError("--target names the ATT target population; it needs --estimand ATT.")
    if not covariates:
        raise UserError("--covariates must name at least one analysis_patients column.")
    frame = load_analysis_frame(db, cohort, endpoint, origin, [treatment, *covariates], keys=True)
    # the patients on the treatments compared: those left out for a missing covariate are counted among them
    treated = frame[treatment].notna()
    if levels:
        treated &= frame[treatment].astype(str).isin([str(v) for v in levels])
    frame = frame[treated]
    notes: list[str] = []
    notes += immortal_time_notes([treatment, *covariates], origin)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        ps = fit_propensity(frame, treatment, covariates, levels=levels)
        target = att_target(ps.levels, target) if estimand == "ATT" else None
        w = iptw_weights(ps, estimand=estimand, target=target, trim=trim, truncate=truncate)
        data = frame.loc[w.index].assign(iptw=w["weight"])
        balance = balance_table(data, treatment, covariates, "iptw", estimand=estimand, target=target)
        km = fit_weighted_km(data, "time_days", "event_code", treatment, "iptw")
        cox = fit_weighted_cox(data, "time_days", "event_code", treatment, "iptw", reference=ps.levels[0])
    notes += warning_notes(caught, min_cell)
    policy = policy_for(min_cell)
    complete = frame[list(covariates)].notna().all(axis=1).to_numpy()
    complete_key = key_of(frame, complete) if int(complete.sum()) == ps.n else None
    counts = WeightedCounts.of(frame, data, ps.n, treatment, ps.levels, policy, complete_key)
    coarse_data = policy.coarsen_frame(data, ("time_days",))
    coarse = fit_weighted_km(coarse_data, "time_days", "event_code", treatment, "iptw")
    event = coarse_data["event_code"].to_numpy() == 1
    keys = curve_keys(coarse_data, treatment, "time_days", {"events": event, "censored": ~event})
    released = release_weighted(coarse, km, counts, treatment, policy, [], keys)
    group_keys = cell_keys(data, treatment) if RECORD_KEY in data.columns else {}
    ess = {
        g: policy.count(effective_sample_size(w.loc[w["treatment"] == g, "weight"]), group_keys.get(str(g)))
        for g in ps.levels
    }
    groups = []
    for s in released.summary.to_dict("records"):
        g = s["group"]
        curve = released.curve[released.curve["group"] == g].drop(columns=["group", "at_risk", "events"])
        groups.append(
            {
                "group": g,
                "n": s["n"],
                "events": s["events"],
                "effective_n": ess[g],
                "median_days": json_value(s["median_days"]),
                "curve": [  # "has_censoring": a censoring mark there, as in analyze km
                    {("has_censoring" if k == "censored" else k): json_value(v) for k, v in r.items()}
                    for r in curve.to_dict("records")
                ],
            }
        )
    return {
        "endpoint": endpoint,
        "origin": origin,
        "treatment": treatment,
        "levels": ps.levels,
        "reference": ps.levels[0],
        "covariates": covariates,
        "estimand": estimand,
        "target": target,
        "stabilized": estimand == "ATE",
        "trim": trim,
        "truncate": truncate,
        "n": counts.total_n,
        "n_dropped_missing": counts.flow[1],
        "n_trimmed": counts.flow[2],
        "min_cell": min_cell,
        "release": policy.to_dict(),
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
                "effective_n": ess[g],
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
            "n": counts.total_n,
            "events": counts.total_events,
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
