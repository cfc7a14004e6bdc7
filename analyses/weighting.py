"""Confounding adjustment by inverse probability of treatment weighting (IPTW).

Salvage regimens are chosen by indication, so crude survival by regimen mixes treatment effect and case
mix. The workflow here (Austin & Stuart 2015):

1. :func:`fit_propensity` — a logistic (two treatments) or multinomial logistic (three or more)
   propensity model, fitted by Newton–Raphson (IRLS). Two treatments match R
   ``glm(treated ~ ..., family = binomial)``; three or more match ``nnet::multinom`` (the first level is
   the reference). Perfect or quasi-perfect separation is an :class:`AnalysisError` naming the covariate
   level that predicts treatment.
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
from scipy import stats

from analyses.cox import CoxResult, fit_cox
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
]


@dataclass(frozen=True)
class PropensityResult:
    """A fitted propensity model.

    Attributes
    ----------
    coefficients : DataFrame
        level (the treatment each row's logit compares with the reference), term, coef, se, z, p.
    scores : DataFrame
        One column per treatment level: the fitted probability of receiving it (index as the rows used).
    levels : list of str
        Treatment levels; the first is the reference of the logits.
    treatment : Series
        The treatment actually received (index as ``scores``).
    n, n_dropped : int
        Rows used, rows dropped for a missing covariate or treatment.
    loglik : float
    iterations : int
    method : str
        ``"binomial"`` or ``"multinomial"``.
    """

    coefficients: pd.DataFrame
    scores: pd.DataFrame
    levels: list[str]
    treatment: pd.Series
    n: int
    n_dropped: int
    loglik: float
    iterations: int
    method: str


def _design(data: pd.DataFrame, covariates: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept plus R's treatment coding (first sorted level is the reference), names ``col=LEVEL``."""
    blocks, names = [np.ones((len(data), 1))], ["(Intercept)"]
    for col in covariates:
        values = data[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            blocks.append(values.to_numpy(dtype=float)[:, None])
            names.append(col)
            continue
        text = values.astype(str)
        levels = sorted(text.unique())
        if len(levels) < 2:
            raise AnalysisError(f"Covariate {col!r} has a single level ({levels[0]}) in this cohort; drop it.")
        blocks.append((text.to_numpy()[:, None] == np.array(levels[1:])[None, :]).astype(float))
        names += [f"{col}={lv}" for lv in levels[1:]]
    X = np.hstack(blocks)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise AnalysisError("The propensity model's covariates are collinear (one is a combination of others).")
    return X, names


def _separation(data: pd.DataFrame, treatment_col: str, covariates: Sequence[str]) -> str:
    """A covariate level in which some treatment never occurs (the usual cause of separation)."""
    for col in covariates:
        values = data[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        table = pd.crosstab(values.astype(str), data[treatment_col].astype(str))
        zero = table[(table == 0).any(axis=1)]
        if len(zero):
            level = zero.index[0]
            missing = [t for t in table.columns if zero.loc[level, t] == 0]
            return f" ({col}={level} has no patient treated with {', '.join(missing)})"
    return ""


def fit_propensity(
    df: pd.DataFrame,
    treatment_col: str,
    covariates: Sequence[str],
    *,
    levels: Sequence[str] | None = None,
    max_iter: int = 50,
) -> PropensityResult:
    """Fit a logistic (2 levels) or multinomial logistic (3+) model of treatment on covariates.

    Parameters
    ----------
    df : DataFrame
    treatment_col : str
    covariates : sequence of str
        Numeric columns enter linearly; text columns are dummy-coded against their first sorted level.
    levels : sequence of str, optional
        Treatments to compare (rows with other values are left out); the first is the reference.
        Default: all values, sorted.
    max_iter : int

    Returns
    -------
    PropensityResult

    Raises
    ------
    AnalysisError
        Fewer than two treatments, a treatment with no patients, collinear covariates, perfect
        separation or non-convergence.

    References
    ----------
    Rosenbaum & Rubin (1983); McCaffrey et al. (2013).
    """
    covariates = list(covariates)
    missing = [c for c in [treatment_col, *covariates] if c not in df.columns]
    if missing:
        raise AnalysisError(f"The data has no column named {missing[0]!r}.")
    data = df.loc[df[[treatment_col, *covariates]].notna().all(axis=1)]
    n_dropped = len(df) - len(data)
    treat = data[treatment_col].astype(str)
    levels = sorted(treat.unique()) if levels is None else [str(v) for v in levels]
    data, treat = data[treat.isin(levels)], treat[treat.isin(levels)]
    counts = treat.value_counts()
    empty = [lv for lv in levels if counts.get(lv, 0) == 0]
    if len(levels) < 2:
        raise AnalysisError(f"A propensity model needs at least two treatments; {treatment_col!r} has {levels}.")
    if empty:
        raise AnalysisError(f"No patient in this cohort received {', '.join(empty)} ({treatment_col}).")
    X, names = _design(data, covariates)
    Y = (treat.to_numpy()[:, None] == np.array(levels[1:])[None, :]).astype(float)
    beta, info, loglik, it, converged = _multinomial_newton(X, Y, max_iter)
    probs = _probabilities(X, beta)
    if not converged or probs.min() < 1e-8:
        raise AnalysisError(
            "The propensity model cannot be estimated: some covariate pattern predicts treatment perfectly"
            f"{_separation(data, treatment_col, covariates)}. Merge or drop that covariate level, or restrict "
            "the cohort."
        )
    vcov = np.linalg.inv(info)
    se = np.sqrt(np.diag(vcov)).reshape(Y.shape[1], X.shape[1])
    k = Y.shape[1]
    coef = pd.DataFrame(
        {
            "level": np.repeat(levels[1:], X.shape[1]),
            "term": names * k,
            "coef": beta.ravel(),
            "se": se.ravel(),
        }
    )
    coef["z"] = coef["coef"] / coef["se"]
    coef["p"] = 2 * stats.norm.sf(np.abs(coef["z"]))
    return PropensityResult(
        coefficients=coef,
        scores=pd.DataFrame(probs, columns=levels, index=data.index),
        levels=levels,
        treatment=treat,
        n=len(data),
        n_dropped=n_dropped,
        loglik=loglik,
        iterations=it,
        method="binomial" if k == 1 else "multinomial",
    )


def _probabilities(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    eta = np.hstack([np.zeros((len(X), 1)), X @ beta.T])
    eta -= eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def _multinomial_newton(X, Y, max_iter):
    """Newton–Raphson for the baseline-category logit; beta is (levels - 1) x covariates."""
    k, p = Y.shape[1], X.shape[1]
    beta = np.zeros((k, p))

    def pieces(b):
        pr = _probabilities(X, b)
        ll = float(np.sum(np.log(np.clip(pr[np.arange(len(X)), _codes(Y)], 1e-300, None))))
        score = ((Y - pr[:, 1:]).T @ X).ravel()
        info = np.zeros((k * p, k * p))
        for a in range(k):
            for c in range(k):
                wt = pr[:, 1 + a] * ((a == c) - pr[:, 1 + c])
                info[a * p : (a + 1) * p, c * p : (c + 1) * p] = X.T @ (X * wt[:, None])
        return ll, score, info

    ll, score, info = pieces(beta)
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(info, score).reshape(k, p)
        except np.linalg.LinAlgError:
            return beta, info, ll, it, False
        new = beta + step
        new_ll, new_score, new_info = pieces(new)
        halvings = 0
        while new_ll < ll - 1e-10 and halvings < 30:
            new, halvings = (new + beta) / 2, halvings + 1
            new_ll, new_score, new_info = pieces(new)
        done = abs(new_ll - ll) < 1e-12 * (abs(new_ll) + 1e-10)
        beta, ll, score, info = new, new_ll, new_score, new_info
        if done:
            return beta, info, ll, it, np.abs(beta).max() < 15
    return beta, info, ll, max_iter, False


def _codes(Y: np.ndarray) -> np.ndarray:
    return np.where(Y.any(axis=1), Y.argmax(axis=1) + 1, 0)


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
    from analyses.timing import _loglog_ci  # the log-log interval shared with the timing curves

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
            surv = np.cumprod(np.where(wd > 0, 1 - wd / wrisk, 1.0))
            var_log = np.cumsum(np.where(wd > 0, wd / (ess * (wrisk - wd)), 0.0))
        se_log = np.sqrt(var_log)
        lower, upper = _loglog_ci(surv, se_log, conf_level)
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
