"""Adjusted-comparison view: propensity weighting (IPTW) of treatments, covariate balance, adjusted
Kaplan–Meier curves and weighted hazard ratios, suppressed and display-ready.

``weighting_view`` is what the Adjusted comparison page shows and what the publication export writes. It
calls ``analyses.weighting`` (validated against R) the way ``ayaall analyze iptw`` does, applies
small-cell suppression, and returns a frozen ``WeightingView`` holding no patient-level row and no count
from 1 to ``min_cell - 1``. Results are cached in the service's LRU cache under a key naming every input.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analyses.cox import fit_cox
from analyses.km import KMResult
from analyses.results import AnalysisError
from analyses.weighting import (
    balance_table,
    effective_sample_size,
    fit_propensity,
    fit_weighted_cox,
    fit_weighted_km,
    iptw_weights,
)
from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.exposures import post_baseline
from ayaall.records import RECORD_KEY
from ayaall.units import DAYS_PER_YEAR
from disclosure.cellkey import cell_keys, curve_keys, key_of
from disclosure.counts import WeightedCounts, count_columns
from disclosure.policy import ReleasePolicy, policy_for
from disclosure.weighted import release_weighted
from reports.formatting import format_days, format_p, hr_label, milestone_columns
from reports.notes import caught_notes
from reports.service import RegistryService, cohort_key

__all__ = [
    "COX_MODELS",
    "DEFAULT_LEVELS",
    "ESTIMANDS",
    "MILESTONE_YEARS",
    "TREATMENTS",
    "WeightingView",
    "weighting_view",
]

#: treatment columns the page compares -> label
TREATMENTS = {"salvage_regimen": "Salvage regimen (line 2)", "frontline_regimen": "Frontline regimen"}
#: the comparison offered first for each treatment column, and its time zero
DEFAULT_LEVELS = {
    "salvage_regimen": ("BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"),
    "frontline_regimen": ("PED_INSPIRED", "HYPER_CVAD"),
}
ESTIMANDS = ("ATE", "ATT")
MILESTONE_YEARS: tuple[float, ...] = (1, 2, 3)
#: the Cox models of treatment: unweighted (model-based SE) and IPTW-weighted (robust SE)
COX_MODELS: tuple[str, str] = ("Unweighted", "IPTW (robust SE)")
_UNWEIGHTED, _WEIGHTED = COX_MODELS


@dataclass(frozen=True)
class WeightingView:
    """A suppressed IPTW analysis, ready to show or export.

    Attributes
    ----------
    treatment, endpoint, origin, estimand : str
    levels : tuple of str
        Treatments compared; the first is the reference of the hazard ratios.
    target : str or None
        ATT: the treatment whose patients are the target population.
    covariates : tuple of str
    trim, truncate : float or None
    n, n_missing, n_trimmed : int or None
        Patients analysed, left out for a missing covariate, trimmed (None when masked).
    km : KMResult
        Adjusted (weighted) Kaplan–Meier curves, suppressed, no counts on the curve rows: input of
        ``figures.km.km_figure`` (without a risk table). Its summary's n and events are unweighted counts.
    summary : DataFrame
        Per treatment: patients, events, effective sample size, weight range, adjusted median and
        milestone survival (display).
    weights : DataFrame
        Per treatment, as numbers: group, effective_n (Kish; NaN when its patients are masked),
        weight_min, weight_max.
    balance : DataFrame
        covariate (a label, ``column: level`` for a level), smd_unweighted, smd_weighted: input of
        ``figures.balance.balance_figure``.
    balance_table : DataFrame
        Covariate, level, SMD before and after weighting, the pair of treatments it is the largest for.
    hazard_ratios : DataFrame
        term, hr, hr_ci_lower, hr_ci_upper, p, model: input of ``figures.forest.forest_figure``.
    cox_table : DataFrame
    propensity : DataFrame
        The propensity model's coefficients (log-odds against the reference treatment; display).
    propensity_coefficients : DataFrame
        The same as numbers: level, term, coef, se, p.
    notes : list of str
    """

    treatment: str
    levels: tuple[str, ...]
    target: str | None
    covariates: tuple[str, ...]
    estimand: str
    trim: float | None
    truncate: float | None
    endpoint: str
    origin: str
    n: int | None
    n_missing: int | None
    n_trimmed: int | None
    km: KMResult
    summary: pd.DataFrame
    weights: pd.DataFrame
    balance: pd.DataFrame
    balance_table: pd.DataFrame
    hazard_ratios: pd.DataFrame
    cox_table: pd.DataFrame
    propensity: pd.DataFrame
    propensity_coefficients: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def weighting_view(
    service: RegistryService,
    cohort: CohortSpec,
    treatment: str,
    levels: Sequence[str],
    covariates: Sequence[str],
    estimand: str,
    target: str | None,
    trim: float | None,
    truncate: float | None,
    endpoint: str,
    origin: str,
    min_cell: int,
) -> WeightingView:
    """IPTW comparison of ``levels`` of ``treatment`` on ``endpoint`` from ``origin``, suppressed.

    Parameters
    ----------
    service : RegistryService
    cohort : CohortSpec
    treatment : str
        An ``analysis_patients`` column, e.g. ``"salvage_regimen"``.
    levels : sequence of str
        At least two treatments to compare, the first being the reference, e.g.
        ``["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"]``.
    covariates : sequence of str
        ``analysis_patients`` columns of the propensity model, e.g. ``["age_at_dx", "cns_status"]``.
    estimand : {"ATE", "ATT"}
        ATE weights are stabilized.
    target : str or None
        ATT only: the target treatment (default: the last of ``levels``).
    trim, truncate : float or None
        Drop patients with a propensity below ``trim``; winsorize weights at the ``truncate`` quantiles.
    endpoint, origin : str
        An (endpoint, time zero) pair of endpoints.md, e.g. ``"OS"``, ``"LINE2"``.
    min_cell : int
        Small-cell suppression threshold (0 turns it off).

    Raises
    ------
    UserError
        Bad options, an empty cohort, or a propensity model or weighted fit the data cannot support
        (separation, a treatment with no patient); the message says why in one sentence.
    """
    levels, covariates = tuple(str(v) for v in levels), tuple(covariates)
    estimand = estimand.upper()
    if estimand == "ATT" and not target and levels:
        target = levels[-1]
    if estimand != "ATT":
        target = None
    key = (
        "weighting",
        cohort_key(cohort),
        treatment,
        levels,
        covariates,
        estimand,
        target,
        trim,
        truncate,
        endpoint,
        origin,
        min_cell,
    )
    return service.cached(
        key,
        lambda: _weighting_view(
            service, cohort, treatment, levels, covariates, estimand, target, trim, truncate, endpoint, origin, min_cell
        ),
    )


def _check(treatment: str, levels: tuple[str, ...], covariates: tuple[str, ...], estimand: str, target: Any) -> None:
    if estimand not in ESTIMANDS:
        raise UserError(f"The estimand must be ATE or ATT, not {estimand!r}.")
    if len(set(levels)) < 2:
        raise UserError("Choose at least two treatments to compare.")
    if not covariates:
        raise UserError("Choose at least one covariate for the propensity model.")
    if treatment in covariates:
        raise UserError(f"{treatment} is the treatment; it cannot also be a covariate.")
    if target is not None and target not in levels:
        raise UserError(f"The ATT target {target!r} is not one of the treatments compared.")


def _weighting_view(
    service: RegistryService,
    cohort: CohortSpec,
    treatment: str,
    levels: tuple[str, ...],
    covariates: tuple[str, ...],
    estimand: str,
    target: str | None,
    trim: float | None,
    truncate: float | None,
    endpoint: str,
    origin: str,
    min_cell: int,
) -> WeightingView:
    _check(treatment, levels, covariates, estimand, target)
    try:
        spec = endpoint_spec(endpoint, origin)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from exc
    frame = service.frame(cohort, endpoint, origin, [treatment, *covariates])
    frame = frame[frame[treatment].astype(str).isin(levels)] if not frame.empty else frame
    if frame.empty:
        raise AnalysisError(
            f"No patient of this cohort with a {spec.label} row received {', '.join(levels)} ({treatment})."
        )
    notes = _timing_notes(treatment, covariates, origin)
    if spec.competing_risks:
        notes.append(f"{endpoint} has a competing event ({spec.competing}), counted here as censoring.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ps = fit_propensity(frame, treatment, list(covariates), levels=list(levels))
        w = iptw_weights(ps, estimand=estimand, target=target, trim=trim, truncate=truncate)
        data = frame.loc[w.index].assign(iptw=w["weight"])
        # the target is passed explicitly: balance_table's default (last sorted level) may differ
        balance = balance_table(data, treatment, list(covariates), "iptw", estimand=estimand, target=target)
        km = fit_weighted_km(data, "time_days", "event_code", treatment, "iptw")
        # without the concordance and PH test, which the page does not show
        weighted = fit_weighted_cox(
            data,
            "time_days",
            "event_code",
            treatment,
            "iptw",
            reference=ps.levels[0],
            with_concordance=False,
            with_ph_test=False,
        )
        crude = fit_cox(  # the page shows its hazard ratios only
            data,
            "time_days",
            "event_code",
            [treatment],
            ref_levels={treatment: ps.levels[0]},
            with_concordance=False,
            with_ph_test=False,
        )
    notes += caught_notes(caught)
    policy = policy_for(min_cell)
    complete = frame[list(covariates)].notna().all(axis=1).to_numpy()
    complete_key = key_of(frame, complete) if int(complete.sum()) == ps.n else None
    counts = WeightedCounts.of(frame, data, ps.n, treatment, ps.levels, policy, complete_key)
    n_used, n_missing, n_trimmed = counts.flow
    coarse_data = policy.coarsen_frame(data, ("time_days",))
    coarse_km = fit_weighted_km(coarse_data, "time_days", "event_code", treatment, "iptw")
    event = coarse_data["event_code"].to_numpy() == 1
    keys = curve_keys(coarse_data, treatment, "time_days", {"events": event, "censored": ~event})
    milestones = [y * DAYS_PER_YEAR for y in MILESTONE_YEARS]
    shown_km = release_weighted(coarse_km, km, counts, treatment, policy, milestones, keys)
    group_keys = cell_keys(data, treatment) if RECORD_KEY in data.columns else None
    weight_summary = _weight_summary(shown_km, w, policy, group_keys)
    notes.insert(0, _method_note(estimand, target, trim, truncate, ps))
    if policy.active:
        notes.append(policy.sentence())
    hazard_ratios, cox_table = _hazard_ratios(crude, weighted, counts)
    return WeightingView(
        treatment=treatment,
        levels=tuple(ps.levels),
        target=target,
        covariates=covariates,
        estimand=estimand,
        trim=trim,
        truncate=truncate,
        endpoint=endpoint,
        origin=origin,
        n=n_used,
        n_missing=n_missing,
        n_trimmed=n_trimmed,
        km=shown_km,
        summary=_summary(shown_km, weight_summary, treatment),
        weights=weight_summary,
        balance=_balance_for_figure(balance),
        balance_table=_balance_display(balance),
        hazard_ratios=hazard_ratios,
        cox_table=cox_table,
        propensity=_propensity_display(ps),
        propensity_coefficients=ps.coefficients[["level", "term", "coef", "se", "p"]].reset_index(drop=True),
        notes=notes,
    )


def _timing_notes(treatment: str, covariates: tuple[str, ...], origin: str) -> list[str]:
    """Immortal-time warnings: a treatment, or a covariate, only known after time zero."""
    later = post_baseline(origin)
    notes = []
    if treatment in later:
        notes.append(
            f"{TREATMENTS.get(treatment, treatment)} is only known after time zero ({origin}): patients had to "
            "live until it was given, which biases the comparison (immortal time). Compare treatments from the "
            "day they start (LINE2 for the salvage regimen, DX for the frontline regimen)."
        )
    after = [c for c in covariates if c in later]
    if after:
        notes.append(
            f"{', '.join(after)} {'is' if len(after) == 1 else 'are'} only known after time zero ({origin}); "
            "adjusting for a consequence of treatment can bias the comparison."
        )
    return notes


def _method_note(estimand: str, target: str | None, trim: Any, truncate: Any, ps: Any) -> str:
    weights = "stabilized ATE weights" if estimand == "ATE" else f"ATT weights (target: patients treated with {target})"
    extra = []
    if trim:
        extra.append(f"patients with a propensity below {trim:g} trimmed")
    if truncate:
        extra.append(f"weights truncated at the {truncate:g} and {1 - truncate:g} quantiles")
    model = "logistic" if ps.method == "binomial" else "multinomial logistic"
    return (
        f"{model.capitalize()} propensity model; {weights}"
        + (f"; {'; '.join(extra)}" if extra else "")
        + f". Reference treatment for the hazard ratios: {ps.levels[0]}. Adjusted curves: weighted Kaplan–Meier "
        "with Xie & Liu (2005) variance, log-log intervals."
    )


def _weight_summary(
    shown: KMResult, weights: pd.DataFrame, policy: ReleasePolicy, keys: pd.Series | None = None
) -> pd.DataFrame:
    """Per treatment: Kish's effective sample size, released as a count with the cell key of the
    treatment's patients (it equals n when the weights are equal, the ATT target, and then is released
    as n is), and the weights' range."""
    rows = []
    for _, s in shown.summary.iterrows():
        w = weights.loc[weights["treatment"] == s["group"], "weight"]
        key = keys.get(str(s["group"])) if keys is not None else None
        ess = policy.count(effective_sample_size(w), key)
        rows.append(
            {
                "group": s["group"],
                "effective_n": np.nan if ess is None else float(ess),
                "weight_min": float(w.min()),
                "weight_max": float(w.max()),
            }
        )
    return pd.DataFrame(rows, columns=["group", "effective_n", "weight_min", "weight_max"])


def _summary(shown: KMResult, weights: pd.DataFrame, treatment: str) -> pd.DataFrame:
    rows = []
    for (_, s), (_, w) in zip(shown.summary.iterrows(), weights.iterrows(), strict=True):
        row: dict[str, Any] = {
            TREATMENTS.get(treatment, treatment): s["group"],
            "Patients": s["n"],
            "Events": s["events"],
            "Effective sample size": None if np.isnan(w["effective_n"]) else int(w["effective_n"]),
            "Weights (min–max)": f"{w['weight_min']:.2f}–{w['weight_max']:.2f}",
            "Adjusted median (days)": format_days(s["median_days"]),
        }
        row.update(milestone_columns(shown.milestones[shown.milestones["group"] == s["group"]], "adjusted"))
        rows.append(row)
    return count_columns(pd.DataFrame(rows), ["Patients", "Events"])


def _balance_label(covariate: str, level: Any) -> str:
    return covariate if level is None or (isinstance(level, float) and np.isnan(level)) else f"{covariate}: {level}"


def _balance_for_figure(balance: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "covariate": [_balance_label(c, lv) for c, lv in zip(balance["covariate"], balance["level"], strict=True)],
            "smd_unweighted": balance["smd_unweighted"].astype(float),
            "smd_weighted": balance["smd_weighted"].astype(float),
        }
    )


def _balance_display(balance: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Covariate": balance["covariate"],
            "Level": [
                "" if lv is None or (isinstance(lv, float) and np.isnan(lv)) else str(lv) for lv in balance["level"]
            ],
            "SMD unweighted": [f"{v:.3f}" for v in balance["smd_unweighted"]],
            "SMD weighted": [f"{v:.3f}" for v in balance["smd_weighted"]],
            "Largest for": balance["pair"],
        }
    )


def _hazard_ratios(crude: Any, weighted: Any, counts: WeightedCounts) -> tuple[pd.DataFrame, pd.DataFrame]:
    total_n, total_events = counts.total_n, counts.total_events
    rows, table = [], []
    for model, result in ((_UNWEIGHTED, crude), (_WEIGHTED, weighted)):
        for _, t in result.terms.iterrows():
            rows.append({k: t[k] for k in ("term", "hr", "hr_ci_lower", "hr_ci_upper", "p")} | {"model": model})
            table.append(
                {
                    "Model": model,
                    "Term": t["term"],
                    "HR (95% CI)": hr_label(t["hr"], t["hr_ci_lower"], t["hr_ci_upper"]),
                    "p": format_p(t["p"]),
                    "Patients": total_n,
                    "Events": total_events,
                }
            )
    columns = ["term", "hr", "hr_ci_lower", "hr_ci_upper", "p", "model"]
    return pd.DataFrame(rows, columns=columns), count_columns(pd.DataFrame(table), ["Patients", "Events"])


def _propensity_display(ps: Any) -> pd.DataFrame:
    c = ps.coefficients
    return pd.DataFrame(
        {
            "Treatment (vs " + ps.levels[0] + ")": c["level"],
            "Term": c["term"],
            "Log-odds": [f"{v:.3f}" for v in c["coef"]],
            "SE": [f"{v:.3f}" for v in c["se"]],
            "p": [format_p(v) for v in c["p"]],
        }
    )
