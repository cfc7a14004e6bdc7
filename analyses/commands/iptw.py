"""``ayaall analyze iptw``: propensity model, IPTW weights, balance, adjusted KM and weighted Cox (JSON).

``--levels`` lists the treatments compared, the first being the reference of the hazard ratios; with
``--estimand ATT`` the target population is ``--target``, else the *last* level given (not the last in
sorted order). The weights and the balance table use that one target, recorded as ``target`` (null for
ATE). Counts follow ``analyses.suppression`` (see ``_counts``); an effective sample size is masked with
its treatment's patients (for the ATT target it equals them).
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import pandas as pd

from analyses.commands._shared import (
    check_min_cell,
    cohort_from_args,
    group_curve,
    json_value,
    shown_within,
    warning_notes,
    write_json,
)
from analyses.results import AnalysisWarning
from analyses.suppression import is_small, mask_count, suppress_totals
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
    min_cell: int = 11,
) -> dict[str, Any]:
    """The ``analyze iptw`` JSON document as a dict.

    ATT's target is ``target``, else the last of ``levels`` as given (``analyses.weighting.att_target``);
    the weights and the balance table use that one target, and the document records it as ``target``.
    Counts follow :func:`_counts`.
    """
    from analyses.cohort import load_analysis_frame
    from analyses.timing import naive_exposure_warning
    from analyses.weighting import (
        att_target,
        balance_table,
        effective_sample_size,
        fit_propensity,
        fit_weighted_cox,
        fit_weighted_km,
        iptw_weights,
    )

    check_min_cell(min_cell)
    estimand = estimand.upper()
    if estimand not in ("ATE", "ATT"):
        raise UserError(f"--estimand must be ATE or ATT, not {estimand!r}.")
    if target is not None and estimand != "ATT":
        raise UserError("--target names the ATT target population; it needs --estimand ATT.")
    if not covariates:
        raise UserError("--covariates must name at least one analysis_patients column.")
    frame = load_analysis_frame(db, cohort, endpoint, origin, [treatment, *covariates])
    # the patients on the treatments compared: those left out for a missing covariate are counted among them
    treated = frame[treatment].notna()
    if levels:
        treated &= frame[treatment].astype(str).isin([str(v) for v in levels])
    frame = frame[treated]
    notes: list[str] = []
    if (text := naive_exposure_warning(treatment, origin)) is not None:
        notes.append(text)
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
    counts = _counts(frame, data, ps.n, treatment, ps.levels, min_cell)
    ess = {g: effective_sample_size(w.loc[w["treatment"] == g, "weight"]) for g in ps.levels}
    groups = []
    for s in km.summary.to_dict("records"):
        g = s["group"]
        curve, _ = group_curve(
            km.curve[km.curve["group"] == g].drop(columns="group"),
            min_cell,
            s["n"],
            counts["n"][g],
            {"events": counts["events"][g]},
            follow=_WEIGHTED_COUNTS,
        )
        groups.append(
            {
                "group": g,
                "n": counts["n"][g],
                "events": counts["events"][g],
                # Kish's effective n equals n when the weights are equal (the ATT target): masked with n
                "effective_n": None if counts["n"][g] is None else s["effective_n"],
                "median_days": shown_within(s["median_days"], curve),
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
        "estimand": estimand,
        "target": target,
        "stabilized": estimand == "ATE",
        "trim": trim,
        "truncate": truncate,
        "n": counts["total_n"],
        "n_dropped_missing": counts["n_missing"],
        "n_trimmed": counts["n_trimmed"],
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
                "effective_n": None if counts["n"][g] is None else ess[g],
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
            "n": counts["total_n"],
            "events": counts["total_events"],
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


# weighted curve columns masked where the unweighted count beside them is (for the ATT target they are equal)
_WEIGHTED_COUNTS = (("weighted_at_risk", "at_risk"), ("effective_at_risk", "at_risk"), ("weighted_events", "events"))


def _counts(
    frame: pd.DataFrame, data: pd.DataFrame, n_complete: int, treatment: str, levels: list[str], min_cell: int
) -> dict[str, Any]:
    """Displayed counts of the weighted analysis (None when masked), by the rules of ``analyses.suppression``.

    The patients on the treatments compared (``frame``; their number per treatment is public, e.g. from
    ``analyze km --by``) split into those analysed (``data``), those left out for a missing covariate
    (``frame`` minus the ``n_complete`` complete ones) and those trimmed: rule 3 on the three. Per
    treatment, patients and events follow rules 1-3 and are masked too when what the analysis left out of
    that treatment (patients, events) is a small count; a treatment's events are masked with its
    patients. A total is masked when the per-treatment masking cannot protect it, or when the patients
    without an event, or the events left out, are a small count. The dashboard's Adjusted comparison
    page applies the same rules (``dashboard.suppress_treatment.WeightedCounts``, ``suppress_flow``).

    Returns
    -------
    dict
        ``n`` and ``events`` (treatment -> count or None), ``total_n``, ``total_events``, ``n_missing``,
        ``n_trimmed``.
    """

    def per_level(df: pd.DataFrame) -> tuple[list[int], list[int]]:
        labels, event = df[treatment].astype(str), df["event_code"] == 1
        return [int((labels == g).sum()) for g in levels], [int((event & (labels == g)).sum()) for g in levels]

    n_all, ev_all = per_level(frame)
    n, ev = per_level(data)
    flow, flow_exposed = suppress_totals([len(data), len(frame) - n_complete, n_complete - len(data)], min_cell)
    if flow_exposed:
        flow = [None, None, None]
    n_shown, hide_n = suppress_totals(
        n, min_cell, also_mask=[is_small(a - b, min_cell) for a, b in zip(n_all, n, strict=True)]
    )
    small = [
        is_small(k - e, min_cell) or is_small(ea - e, min_cell) or shown is None
        for k, e, ea, shown in zip(n, ev, ev_all, n_shown, strict=True)
    ]
    ev_shown, hide_events = suppress_totals(ev, min_cell, also_mask=small)
    total_n = None if hide_n or flow[0] is None else len(data)
    hide_events = hide_events or total_n is None
    hide_events = hide_events or is_small(len(data) - sum(ev), min_cell) or is_small(sum(ev_all) - sum(ev), min_cell)
    return {
        "n": dict(zip(levels, n_shown, strict=True)),
        "events": dict(zip(levels, ev_shown, strict=True)),
        "total_n": total_n,
        "total_events": None if hide_events else mask_count(sum(ev), min_cell),
        "n_missing": flow[1],
        "n_trimmed": flow[2],
    }
