"""Confounding adjustment by inverse probability of treatment weighting (IPTW).

Salvage regimens are chosen by indication, so crude survival by regimen mixes treatment effect and case
mix. The workflow here (Austin & Stuart 2015):

1. :func:`fit_propensity` (:mod:`analyses.propensity`, re-exported here) — a logistic (two
   treatments) or multinomial logistic (three or more) propensity model, fitted by Newton–Raphson
   (IRLS) on centred and scaled numeric covariates, coefficients reported per unit. Two treatments
   match R ``glm(treated ~ ..., family = binomial)``; three or more match ``nnet::multinom`` (the first
   level is the reference). Separation, decided by a linear program, is an :class:`AnalysisError`
   naming the covariate level that predicts treatment; collinear covariates are named.
2. :func:`iptw_weights` — ATE weights ``1 / p_i(T_i)`` (stabilized: times the marginal share of
   ``T_i``, Robins, Hernán & Brumback 2000) or ATT weights ``p_i(t*) / p_i(T_i)`` (1 for the target
   treatment ``t*``); optional trimming (drop patients whose smallest generalized propensity score is
   below ``trim``, Crump et al. 2009, Yoshida et al. 2019) and truncation (winsorize weights at the
   ``truncate`` and ``1 - truncate`` quantiles, Cole & Hernán 2008); Kish's effective sample size.
3. :func:`balance_table` — standardized mean differences before and after weighting, cobalt's
   conventions: weighted means; the denominator is the *unweighted* pooled SD
   ``sqrt((s_a^2 + s_b^2) / 2)`` of the two groups compared (ATE) or the target group's SD (ATT), so the
   weights change only the numerator; a categorical covariate gets one row per level, treated as a
   binary indicator with SD ``sqrt(p (1 - p))`` (cobalt ``binary = "std"``). With three or more groups
   the reported SMD is the largest over pairs (cobalt's ``bal.tab`` "max" summary).
4. :func:`fit_weighted_km` — adjusted Kaplan–Meier curves (Xie & Liu 2005); point estimates equal
   ``survfit(..., weights = w)``. R's standard error treats weights as frequencies (too narrow); we use
   Xie & Liu's variance, the weighted Greenwood sum with each risk set's Kish effective size,
   ``Var(log S) = sum d_w / (M (Y_w - d_w))``, ``M = (sum w)^2 / sum w^2`` over the risk set, which
   reduces to Greenwood with unit weights; log-log interval as :mod:`analyses.km`.
5. :func:`fit_weighted_cox` — ``fit_cox(weights_col=..., robust=True)``, matching
   ``coxph(..., weights = w, robust = TRUE)``; the robust SE is the standard (conservative) choice for
   estimated weights.

References
----------
Rosenbaum PR, Rubin DB (1983). The central role of the propensity score in observational studies for
causal effects. Biometrika 70:41–55.
Austin PC, Stuart EA (2015). Moving towards best practice when using inverse probability of treatment
weighting (IPTW) using the propensity score to estimate causal treatment effects in observational
studies. Stat Med 34:3661–3679.
Xie J, Liu C (2005). Adjusted Kaplan–Meier estimator and log-rank test with inverse probability of
treatment weighting for survival data. Stat Med 24:3089–3110.
Robins JM, Hernán MA, Brumback B (2000). Marginal structural models and causal inference in
epidemiology. Epidemiology 11:550–560.
Cole SR, Hernán MA (2008). Constructing inverse probability weights for marginal structural models.
Am J Epidemiol 168:656–664.
Crump RK, Hotz VJ, Imbens GW, Mitnik OA (2009). Dealing with limited overlap in estimation of average
treatment effects. Biometrika 96:187–199.
McCaffrey DF et al. (2013). A tutorial on propensity score estimation for multiple treatments using
generalized boosted models. Stat Med 32:3388–3414.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from analyses.cox import CoxResult, fit_cox
from analyses.intervals import loglog_ci
from analyses.propensity import PropensityResult, fit_propensity
from analyses.results import AnalysisError, AnalysisWarning, survival_arrays
from analyses.times import timefix

__all__ = [
    "PropensityResult",
    "WeightedKMResult",
    "att_target",
    "balance_table",
    "effective_sample_size",
    "fit_propensity",
    "fit_weighted_cox",
    "fit_weighted_km",
    "iptw_weights",
    "weighted_product_limit",
]


# ------------------------------------------------------------------------------ weights
def att_target(levels: Sequence[str], target: str | None = None) -> str:
    """The ATT target treatment: ``target`` when given, else the *last* of ``levels`` as given.

    ``levels`` is the order the analyst chose (``--levels``, the dashboard's selection; the first is the
    reference of the hazard ratios), not a sorted order. :func:`iptw_weights` and the callers of
    :func:`balance_table` resolve the target here so that weights and balance use the same one.

    Raises
    ------
    AnalysisError
        ``target`` is not one of ``levels``.
    """
    levels = [str(v) for v in levels]
    chosen = levels[-1] if target is None else str(target)
    if chosen not in levels:
        raise AnalysisError(f"The ATT target {chosen!r} is not one of the treatments {levels}.")
    return chosen


def effective_sample_size(weights: Sequence[float]) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum()) if len(w) and (w**2).sum() > 0 else 0.0


def iptw_weights(
    propensity: PropensityResult,
    *,
    estimand: str = "ATE",
    target: str | None = None,
    stabilized: bool = True,
    trim: float | None = None,
    truncate: float | None = None,
) -> pd.DataFrame:
    """Inverse probability of treatment weights from a fitted propensity model.

    Parameters
    ----------
    propensity : PropensityResult
    estimand : {"ATE", "ATT"}
    target : str, optional
        ATT: the treatment whose patients are the target population (default: the last of
        ``propensity.levels``, in the order given; see :func:`att_target`).
    stabilized : bool
        ATE only: multiply by the marginal share of the treatment received (weights average about 1).
    trim : float, optional
        Drop patients whose smallest propensity over the treatments is below ``trim`` (e.g. 0.01);
        with two treatments this keeps ``trim <= p <= 1 - trim``.
    truncate : float, optional
        Winsorize the weights at their ``truncate`` and ``1 - truncate`` quantiles.

    Returns
    -------
    DataFrame
        Indexed as the model's rows (trimmed rows removed): treatment, propensity (of the treatment
        received), weight.

    Raises
    ------
    AnalysisError
        Unknown estimand or target, a bad trim/truncation fraction, or trimming that removes every
        patient of a treatment.

    References
    ----------
    Austin & Stuart (2015); Robins, Hernán & Brumback (2000); Cole & Hernán (2008); Crump et al. (2009).
    """
    estimand = estimand.upper()
    if estimand not in ("ATE", "ATT"):
        raise AnalysisError(f"The estimand must be ATE or ATT, not {estimand!r}.")
    for name, frac in (("trim", trim), ("truncate", truncate)):
        if frac is not None and not 0 <= frac < 0.5:
            raise AnalysisError(f"{name} must be a fraction between 0 and 0.5, not {frac}.")
    scores, treat = propensity.scores, propensity.treatment
    if trim:
        keep = scores.min(axis=1) >= trim
        scores, treat = scores[keep], treat[keep]
        lost = [lv for lv in propensity.levels if not (treat == lv).any()]
        if lost:
            raise AnalysisError(f"Trimming at {trim} removes every patient treated with {', '.join(lost)}.")
    own = scores.to_numpy()[np.arange(len(scores)), [propensity.levels.index(t) for t in treat]]
    if estimand == "ATE":
        w = 1.0 / own
        if stabilized:
            w = w * treat.map(treat.value_counts(normalize=True)).to_numpy()
    else:
        target = att_target(propensity.levels, target)
        w = np.where(treat.to_numpy() == target, 1.0, scores[target].to_numpy() / own)
    if truncate:
        lo, hi = np.quantile(w, [truncate, 1 - truncate])
        w = np.clip(w, lo, hi)
    if w.max() / np.median(w) > 20:
        warnings.warn(
            f"The largest weight is {w.max() / np.median(w):.0f} times the median: a few patients "
            "dominate the weighted analysis (consider --trim or truncation).",
            AnalysisWarning,
            stacklevel=2,
        )
    return pd.DataFrame({"treatment": treat, "propensity": own, "weight": w}, index=scores.index)


# ------------------------------------------------------------------------------ balance
def _indicator_columns(df: pd.DataFrame, covariates: Sequence[str]) -> list[tuple[str, str | None, np.ndarray]]:
    cols: list[tuple[str, str | None, np.ndarray]] = []
    for col in covariates:
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            cols.append((col, None, values.to_numpy(dtype=float)))
        else:
            text = values.astype(str).to_numpy()
            cols += [(col, lv, (text == lv).astype(float)) for lv in sorted(set(text))]
    return cols


def _wmean(x, w):
    return float(np.sum(w * x) / np.sum(w))


def balance_table(
    df: pd.DataFrame,
    treatment_col: str,
    covariates: Sequence[str],
    weights_col: str | None = None,
    *,
    estimand: str = "ATE",
    target: str | None = None,
) -> pd.DataFrame:
    """Covariate balance: means by treatment and standardized mean differences, unweighted and weighted.

    Parameters
    ----------
    df : DataFrame
    treatment_col : str
    covariates : sequence of str
    weights_col : str, optional
    estimand : {"ATE", "ATT"}
        ATE standardizes by the pooled SD of the two groups compared, ATT by the target group's SD.
    target : str, optional
        ATT: the target treatment, required. The data holds no order of the treatments, so it cannot
        know the "last level" default of :func:`iptw_weights`; pass the target the weights used
        (:func:`att_target`).

    Returns
    -------
    DataFrame
        covariate, level (None for numeric), type (continuous/binary), ``mean_<treatment>`` and
        ``wmean_<treatment>`` per treatment (proportions for levels), smd_unweighted, smd_weighted
        (NaN without weights), pair (the pair of treatments with the largest weighted SMD when 3+).
        SMDs are signed for two treatments (second minus first) and the absolute maximum over pairs
        otherwise.

    References
    ----------
    Austin & Stuart (2015); cobalt ``bal.tab`` conventions (see the module docstring).
    """
    missing = [c for c in [treatment_col, *covariates] if c not in df.columns]
    if missing:
        raise AnalysisError(f"The data has no column named {missing[0]!r}.")
    data = df.loc[df[[treatment_col, *covariates]].notna().all(axis=1)]
    treat = data[treatment_col].astype(str).to_numpy()
    groups = sorted(set(treat))
    if len(groups) < 2:
        raise AnalysisError(f"Balance needs at least two treatment groups; {treatment_col!r} has {groups}.")
    w = np.ones(len(data)) if weights_col is None else data[weights_col].to_numpy(dtype=float)
    if estimand.upper() == "ATT":
        if target is None:
            raise AnalysisError("ATT balance needs the target treatment (the one the ATT weights used).")
        target = str(target)
        if target not in groups:
            raise AnalysisError(f"The ATT target {target!r} is not one of the treatments {groups}.")
    rows = []
    for col, level, x in _indicator_columns(data, covariates):
        row: dict = {"covariate": col, "level": level, "type": "continuous" if level is None else "binary"}
        sd = {}
        for g in groups:
            m = treat == g
            row[f"mean_{g}"] = float(x[m].mean())
            row[f"wmean_{g}"] = _wmean(x[m], w[m])
            sd[g] = float(np.sqrt(x[m].mean() * (1 - x[m].mean()))) if level is not None else float(x[m].std(ddof=1))
        pairs = []
        for a, b in combinations(groups, 2):
            denom = _denom(sd, a, b, estimand, target)
            ok = denom > 0  # a covariate constant in both groups has no imbalance to report
            pairs.append(
                (
                    f"{b} vs {a}",
                    (row[f"mean_{b}"] - row[f"mean_{a}"]) / denom if ok else 0.0,
                    (row[f"wmean_{b}"] - row[f"wmean_{a}"]) / denom if ok else 0.0,
                )
            )
        if len(groups) == 2:
            pair, raw, wtd = pairs[0]
        else:
            pair, _, wtd = max(pairs, key=lambda q: abs(q[2]))
            raw, wtd = max(abs(q[1]) for q in pairs), abs(wtd)
        row.update(smd_unweighted=raw, smd_weighted=wtd if weights_col else np.nan, pair=pair)
        rows.append(row)
    return pd.DataFrame(rows)


def _denom(sd, a, b, estimand, target) -> float:
    return sd[target] if estimand.upper() == "ATT" else float(np.sqrt((sd[a] ** 2 + sd[b] ** 2) / 2))


# ------------------------------------------------------------------------------ weighted survival
@dataclass(frozen=True)
class WeightedKMResult:
    """IPTW-adjusted Kaplan–Meier curves.

    Attributes
    ----------
    curve : DataFrame
        group, time_days, at_risk, events, censored (unweighted counts, for display and suppression),
        weighted_at_risk, weighted_events, effective_at_risk (Kish), survival, std_err (Xie & Liu),
        ci_lower, ci_upper (log-log).
    summary : DataFrame
        group, n, events, effective_n, median_days.
    conf_level : float
    conf_type : str
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    conf_level: float
    conf_type: str = "log-log"


def weighted_product_limit(
    weighted_at_risk: np.ndarray, weighted_events: np.ndarray, effective_at_risk: np.ndarray, conf_level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The weighted product-limit estimate with Xie and Liu's variance, from weighted sums per time.

    ``effective_at_risk`` is Kish's effective number at risk (sum w)^2 / sum w^2. The inputs may be rounded
    sums (the released adjusted curves of ``disclosure.curves``). Returns survival, the standard error of
    log S and the log-log limits.

    References
    ----------
    Xie J, Liu C (2005). Adjusted Kaplan–Meier estimator and log-rank test with inverse probability of
    treatment weighting for survival data. Stat Med 24:3089–3110.
    """
    wrisk = np.asarray(weighted_at_risk, dtype=float)
    wd = np.asarray(weighted_events, dtype=float)
    ess = np.asarray(effective_at_risk, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(wd > 0, 1 - wd / wrisk, 1.0))
        var_log = np.cumsum(np.where(wd > 0, wd / (ess * (wrisk - wd)), 0.0))
        se_log = np.sqrt(var_log)
    lower, upper = loglog_ci(surv, se_log, conf_level)
    return surv, se_log, lower, upper


def fit_weighted_km(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    weights_col: str,
    *,
    conf_level: float = 0.95,
) -> WeightedKMResult:
    """Adjusted (weighted) Kaplan–Meier curves by group; survival equals ``survfit(..., weights = w)``.

    References
    ----------
    Xie & Liu (2005); see the module docstring for the variance.
    """

    time, event = survival_arrays(df, duration_col, event_col)
    time = timefix(time)  # times equal within rounding are one time, as survfit's timefix
    for col in (group_col, weights_col):
        if col not in df.columns:
            raise AnalysisError(f"The data has no column named {col!r}.")
    w = pd.to_numeric(df[weights_col], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise AnalysisError(f"Weights in {weights_col!r} must be finite and non-negative.")
    labels = df[group_col].astype(str).to_numpy()
    curves, summaries = [], []
    for g in sorted(set(labels)):
        m = labels == g
        t, e, wg = time[m], event[m], w[m]
        times, inv = np.unique(t, return_inverse=True)
        n_at = np.bincount(inv, minlength=len(times))
        ev = np.bincount(inv, weights=e.astype(float), minlength=len(times))
        wn = np.bincount(inv, weights=wg, minlength=len(times))
        wn2 = np.bincount(inv, weights=wg**2, minlength=len(times))
        wd = np.bincount(inv, weights=wg * e, minlength=len(times))
        risk = np.cumsum(n_at[::-1])[::-1]
        wrisk = np.cumsum(wn[::-1])[::-1]
        wrisk2 = np.cumsum(wn2[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ess = wrisk**2 / wrisk2
        surv, se_log, lower, upper = weighted_product_limit(wrisk, wd, ess, conf_level)
        curves.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time_days": times,
                    "at_risk": risk,
                    "events": ev.astype(int),
                    "censored": (n_at - ev).astype(int),
                    "weighted_at_risk": wrisk,
                    "weighted_events": wd,
                    "effective_at_risk": ess,
                    "survival": surv,
                    "std_err": np.where(surv > 0, surv * np.where(np.isfinite(se_log), se_log, 0.0), np.nan),
                    "ci_lower": lower,
                    "ci_upper": upper,
                }
            )
        )
        below = times[surv <= 0.5 + 1e-12]
        summaries.append(
            {
                "group": g,
                "n": int(m.sum()),
                "events": int(e.sum()),
                "effective_n": effective_sample_size(wg),
                "median_days": below[0] if len(below) else np.nan,
            }
        )
    return WeightedKMResult(pd.concat(curves, ignore_index=True), pd.DataFrame(summaries), conf_level)


def fit_weighted_cox(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    treatment_col: str,
    weights_col: str,
    *,
    reference: str | None = None,
    covariates: Sequence[str] = (),
    cluster_col: str | None = None,
    with_concordance: bool = True,
    with_ph_test: bool = True,
) -> CoxResult:
    """Marginal (weighted) Cox model of treatment with robust SE: ``coxph(Surv(t, e) ~ treatment,
    weights = w, robust = TRUE)``. ``covariates`` adds doubly-robust adjustment terms;
    ``with_concordance`` and ``with_ph_test`` as in :func:`analyses.cox.fit_cox`.

    References
    ----------
    Austin & Stuart (2015); Lin & Wei (1989).
    """
    refs = {treatment_col: reference} if reference else {}
    return fit_cox(
        df,
        duration_col,
        event_col,
        [treatment_col, *covariates],
        ref_levels=refs,
        weights_col=weights_col,
        robust=True,
        cluster_col=cluster_col,
        with_concordance=with_concordance,
        with_ph_test=with_ph_test,
    )
