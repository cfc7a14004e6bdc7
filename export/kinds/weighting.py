"""``--figure balance``, ``adjusted-km`` and ``weighted-cox``: the Adjusted comparison page's three figures,
from its view (``reports.weighting.weighting_view``) and its figure functions
(``figures.views``).

The three kinds share the view and its options (the treatment, the treatments compared, the propensity
model's covariates, the estimand, trimming and truncation, the endpoint); their tables and methods text
differ.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.units import DAYS_PER_YEAR, to_unit
from export.kinds.base import FigureKind, TableSpec, check_options, require_endpoint
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from figures.common import FigureStyle
from figures.views import adjusted_km_figure, balance_page_figure, weighted_cox_figure
from reports.service import RegistryService
from reports.weighting import COX_MODELS, DEFAULT_LEVELS, ESTIMANDS, WeightingView, weighting_view

__all__ = ["ADJUSTED_KM", "BALANCE", "WEIGHTED_COX"]

_CURVE = ("survival", "ci_lower", "ci_upper")
_HR = ("hr", "hr_ci_lower", "hr_ci_upper")
_OPTIONS = frozenset(
    {"endpoint", "origin", "treatment", "levels", "covariates", "estimand", "target", "trim", "truncate"}
)
_BALANCE_THRESHOLD = 0.1  # the love plot's reference line (balance_figure's default)


# ------------------------------------------------------------------------------ shared
def _checker(name: str):
    def check(request: ExportRequest) -> None:
        check_options(name, request, _OPTIONS)
        require_endpoint(name, request)
        if not request.treatment:
            raise UserError(f"--figure {name} needs --treatment (an analysis_patients column, e.g. salvage_regimen).")
        if not request.covariates:
            raise UserError(f"--figure {name} needs --covariates (the propensity model's covariates).")
        if not request.levels and request.treatment not in DEFAULT_LEVELS:
            raise UserError(f"--figure {name} needs --levels (the treatments compared, the first the reference).")
        if request.estimand not in ESTIMANDS:
            raise UserError(f"--estimand {request.estimand!r} is not an estimand; choose ATE or ATT.")
        if request.target is not None and request.estimand != "ATT":
            raise UserError("--target applies to --estimand ATT only.")
        for flag, value in (("--trim", request.trim), ("--truncate", request.truncate)):
            if value is not None and not 0 < value < 0.5:
                raise UserError(f"{flag} is a fraction between 0 and 0.5, not {value:g}.")

    return check


def _resolve(request: ExportRequest) -> ExportRequest:
    """The treatments compared (the page's default comparison when not given) and the ATT target (the
    last of them when not given), recorded in the manifest."""
    levels = request.levels or DEFAULT_LEVELS[str(request.treatment)]
    target = (request.target or levels[-1]) if request.estimand == "ATT" else None
    return dataclasses.replace(request, levels=tuple(levels), target=target)


def _compute(service: RegistryService, request: ExportRequest) -> WeightingView:
    cohort = CohortSpec.from_dict(request.cohort)
    return weighting_view(
        service,
        cohort,
        str(request.treatment),
        list(request.levels),
        list(request.covariates),
        request.estimand,
        request.target,
        request.trim,
        request.truncate,
        str(request.endpoint),
        str(request.origin),
        request.min_cell,
    )


def _round(view: WeightingView, decimals: int) -> WeightingView:
    km = dataclasses.replace(
        view.km,
        curve=round_columns(view.km.curve, _CURVE, decimals),
        milestones=round_columns(view.km.milestones, _CURVE, decimals),
    )
    return dataclasses.replace(
        view,
        km=km,
        balance=round_columns(view.balance, ["smd_unweighted", "smd_weighted"], decimals),
        hazard_ratios=round_p(round_columns(view.hazard_ratios, _HR, decimals)),
        weights=round_columns(view.weights, ["weight_min", "weight_max"], decimals),
        propensity_coefficients=round_p(round_columns(view.propensity_coefficients, ["coef", "se"], decimals)),
    )


def _analysed(view: WeightingView) -> int | None:
    return view.n


def _flow(view: WeightingView) -> pd.DataFrame:
    """Patients on the treatments compared: analysed, left out for a missing covariate, trimmed."""
    return pd.DataFrame(
        {
            "analysed": pd.Series([view.n], dtype=object),
            "missing_covariate": pd.Series([view.n_missing], dtype=object),
            "trimmed": pd.Series([view.n_trimmed], dtype=object),
        }
    )


def _propensity_sentences(view: WeightingView) -> list[str]:
    model = "A multinomial logistic" if len(view.levels) > 2 else "A logistic"
    levels = ", ".join(view.levels)
    if view.estimand == "ATE":
        weights = (
            "stabilized inverse probability of treatment weights for the average treatment effect in the "
            "cohort (ATE; 1 / p(treatment received), times the treatment's marginal share)"
        )
    else:
        weights = (
            f"weights for the average treatment effect in the patients treated with {view.target} (ATT; "
            f"p({view.target}) / p(treatment received), 1 for them)"
        )
    extra = []
    if view.trim:
        extra.append(f"patients whose smallest propensity over the treatments was below {view.trim:g} were excluded")
    if view.truncate:
        extra.append(f"weights were truncated at their {view.truncate:g} and {1 - view.truncate:g} quantiles")
    return [
        f"{model} propensity model of {view.treatment} ({levels}; reference {view.levels[0]}) on "
        f"{', '.join(view.covariates)} gave {weights}"
        + (f"; {'; '.join(extra)}" if extra else "")
        + ". Patients missing a covariate were left out.",
    ]


def _competing_sentence(view: WeightingView) -> list[str]:
    spec = endpoint_spec(view.endpoint, view.origin)
    return [f"The competing event ({spec.competing}) was counted as censoring."] if spec.competing_risks else []


def _kind(name: str, label: str, tables: tuple[TableSpec, ...], **kwargs: Any) -> FigureKind:
    return FigureKind(
        name=name,
        label=label,
        options=_OPTIONS,
        tables=tables,
        compute=_compute,
        round=_round,
        analysed=_analysed,
        check=_checker(name),
        resolve=_resolve,
        **kwargs,
    )


_PROPENSITY_METHOD = {
    "propensity_model": "logistic (2 treatments) or multinomial logistic (3 or more)",
    "weights": "IPTW; ATE stabilized, ATT",
}
_FLOW = TableSpec(
    "patient_flow",
    "patients analysed, left out for a missing covariate, trimmed",
    ("analysed", "missing_covariate", "trimmed"),
)


# ------------------------------------------------------------------------------ balance (love plot)
def _balance_figure(view: WeightingView, request: ExportRequest, style: FigureStyle) -> Any:
    return balance_page_figure(view, style)


def _balance_frames(view: WeightingView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    shown = view.balance_table
    balance = pd.DataFrame(
        {
            "covariate": shown["Covariate"],
            "level": shown["Level"],
            "smd_unweighted": view.balance["smd_unweighted"].to_numpy(),
            "smd_weighted": view.balance["smd_weighted"].to_numpy(),
            "largest_for": shown["Largest for"],
        }
    )
    c = view.propensity_coefficients
    propensity = pd.DataFrame(
        {
            "treatment": c["level"],
            "reference": view.levels[0],
            "term": c["term"],
            "log_odds": c["coef"],
            "se": c["se"],
            "p": c["p"],
        }
    )
    return {"balance": balance, "propensity_model": propensity, "weights": _weights(view), "patient_flow": _flow(view)}


def _weights(view: WeightingView) -> pd.DataFrame:
    summary = view.km.summary
    w = view.weights
    return pd.DataFrame(
        {
            "group": w["group"],
            "n": summary["n"].to_numpy(),
            "effective_n": w["effective_n"],
            "weight_min": w["weight_min"],
            "weight_max": w["weight_max"],
        }
    )


def _balance_methods(view: WeightingView, request: ExportRequest) -> list[str]:
    pairs = " (with three or more treatments, the largest over pairs of treatments)" if len(view.levels) > 2 else ""
    denominator = "pooled" if view.estimand == "ATE" else f"{view.target} patients'"
    return [
        *_propensity_sentences(view),
        "Covariate balance was assessed with standardized mean differences (SMD) before and after weighting"
        f"{pairs}: weighted means over the unweighted {denominator} standard deviation, one row per level of a "
        f"categorical covariate (R cobalt's conventions); an absolute SMD below {_BALANCE_THRESHOLD:g} was taken "
        "as balanced. Kish's effective sample size is reported per treatment.",
    ]


BALANCE = _kind(
    "balance",
    "Covariate balance (love plot) before and after weighting",
    (
        TableSpec("balance", "SMD per covariate (and level) before and after weighting, the pair it is largest for"),
        TableSpec("propensity_model", "the propensity model's coefficients (log-odds against the reference), SE, p"),
        TableSpec("weights", "per treatment: patients, Kish's effective sample size, weight range", ("n",)),
        _FLOW,
    ),
    figure=_balance_figure,
    frames=_balance_frames,
    methods=_balance_methods,
    method={
        **_PROPENSITY_METHOD,
        "balance": "SMD (cobalt conventions; largest over pairs)",
        "threshold": _BALANCE_THRESHOLD,
    },
)


# ------------------------------------------------------------------------------ adjusted Kaplan–Meier
def _km_figure(view: WeightingView, request: ExportRequest, style: FigureStyle) -> Any:
    return adjusted_km_figure(view, request.unit, style)


def _km_frames(view: WeightingView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    unit, decimals = request.unit, request.decimals
    curve = view.km.curve
    curve_table = pd.DataFrame(
        {
            "group": curve["group"],
            "time_days": curve["time_days"].astype(float),
            f"time_{unit}": to_unit(curve["time_days"].astype(float), unit).round(decimals),
            "survival": curve["survival"],
            "ci_lower": curve["ci_lower"],
            "ci_upper": curve["ci_upper"],
            "has_censoring": curve["censored"].fillna(False).astype(bool),
        }
    )
    s = view.km.summary
    median = pd.to_numeric(s["median_days"], errors="coerce").astype(float)
    summary = pd.DataFrame(
        {
            "group": s["group"],
            "n": s["n"],
            "events": s["events"],
            "adjusted_median_days": median,
            f"adjusted_median_{unit}": to_unit(median, unit).round(decimals),
        }
    )
    ms = view.km.milestones
    milestones = pd.DataFrame(
        {
            "group": ms["group"],
            "years": (ms["time_days"].astype(float) / DAYS_PER_YEAR).round(2),
            "survival": ms["survival"],
            "ci_lower": ms["ci_lower"],
            "ci_upper": ms["ci_upper"],
        }
    )
    return {
        "curve": curve_table,
        "summary": summary,
        "milestones": milestones,
        "weights": _weights(view),
        "patient_flow": _flow(view),
    }


def _km_methods(view: WeightingView, request: ExportRequest) -> list[str]:
    return [
        *_propensity_sentences(view),
        "Adjusted survival curves were estimated with the weighted Kaplan–Meier estimator (Xie and Liu, Stat Med "
        "2005), with its variance from the weighted Greenwood sum with each risk set's effective size and "
        "pointwise 95% confidence intervals on the log(−log) scale; adjusted medians and survival at 1, 2 and 3 "
        "years are reported. Patient and event counts, and the numbers at risk where the curves stop, are "
        "unweighted.",
        *_competing_sentence(view),
    ]


ADJUSTED_KM = _kind(
    "adjusted-km",
    "IPTW-adjusted Kaplan–Meier curves",
    (
        TableSpec("curve", "weighted Kaplan–Meier survival with 95% CI per treatment, censoring flag"),
        TableSpec("summary", "per treatment: patients, events (unweighted), adjusted median", ("n", "events")),
        TableSpec("milestones", "adjusted survival (95% CI) at 1, 2 and 3 years per treatment"),
        TableSpec("weights", "per treatment: patients, Kish's effective sample size, weight range", ("n",)),
        _FLOW,
    ),
    figure=_km_figure,
    frames=_km_frames,
    methods=_km_methods,
    method={
        **_PROPENSITY_METHOD,
        "estimator": "weighted Kaplan–Meier (Xie & Liu 2005 variance)",
        "conf_level": 0.95,
        "conf_type": "log-log",
        "milestone_years": [1, 2, 3],
    },
)


# ------------------------------------------------------------------------------ weighted Cox
def _cox_figure(view: WeightingView, request: ExportRequest, style: FigureStyle) -> Any:
    return weighted_cox_figure(view, style)


def _cox_frames(view: WeightingView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    hrs = view.hazard_ratios[["model", "term", *_HR, "p"]]
    rows = []
    for model, table in view.cox_table.groupby("Model", sort=False):
        first = table.iloc[0]
        weighted = model == COX_MODELS[1]
        rows.append(
            {
                "model": model,
                "n": first["Patients"],
                "events": first["Events"],
                "ties": "efron",
                "weights": "IPTW" if weighted else "none",
                "standard_errors": "robust (sandwich)" if weighted else "model-based",
                "reference": view.levels[0],
            }
        )
    columns = ["model", "n", "events", "ties", "weights", "standard_errors", "reference"]
    return {"hazard_ratios": hrs, "models": pd.DataFrame(rows, columns=columns), "patient_flow": _flow(view)}


def _cox_methods(view: WeightingView, request: ExportRequest) -> list[str]:
    return [
        *_propensity_sentences(view),
        f"Hazard ratios against {view.levels[0]} were estimated with a Cox model of treatment weighted by the "
        "IPTW weights, with robust (sandwich) standard errors, the usual conservative choice for estimated "
        "weights (as R survival's coxph(..., weights = w, robust = TRUE); Efron's method for ties), beside the "
        "unweighted Cox model.",
        *_competing_sentence(view),
    ]


WEIGHTED_COX = _kind(
    "weighted-cox",
    "IPTW-weighted Cox hazard ratios",
    (
        TableSpec("hazard_ratios", "unweighted and IPTW hazard ratios against the reference treatment, 95% CI, p"),
        TableSpec("models", "each model's patients, events, ties, weights, standard errors", ("n", "events")),
        _FLOW,
    ),
    figure=_cox_figure,
    frames=_cox_frames,
    methods=_cox_methods,
    method={
        **_PROPENSITY_METHOD,
        "model": "Cox, IPTW-weighted (robust SE) beside unweighted",
        "ties": "efron",
        "conf_level": 0.95,
    },
)
