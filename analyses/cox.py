"""Cox proportional hazards regression matching R's ``coxph`` (survival 3.5), in vectorized numpy.

The partial likelihood is maximised by Newton–Raphson from beta = 0 with step halving, as ``coxph``
does, on data sorted by stratum and descending time so that every risk-set sum is a cumulative sum;
tied events are grouped with ``np.add.reduceat``. Efron's approximation (default) and Breslow's are
available. Case weights follow R's weighted Efron (each tied event counts with the mean weight of the
tied set). The information matrix is assembled without any per-time p x p arrays, so one iteration costs
O(n p^2): a million rows with seven covariates fit in about a second.

Robust ("sandwich") standard errors are R's: dfbeta residuals (score residuals times the inverse
information, times the case weight), summed within ``cluster_col`` when given, and ``D'D``.

Concordance is R's ``fit$concordance`` (:mod:`analyses.concordance`: Harrell's C on the linear
predictor, within strata, ties in the predictor, within rounding, counted one half).

The variance is model-based (the inverse information) unless ``robust`` asks for the sandwich; by
default, as ``coxph`` decides, it is robust when there is a cluster or when a case weight is not a whole
number (weights that are not frequency counts, such as inverse-probability weights, make the inverse
information wrong). ``CoxResult.variance`` says which was used. The global tests are
``summary(coxph)``'s: likelihood ratio, Wald (on the variance used) and score (log-rank), all on the p
degrees of freedom of the model, and with a robust variance also R's robust score test.

Times equal within rounding are merged first (:func:`analyses.times.timefix`, coxph's ``timefix``).

The proportional-hazards test reproduces survival 3.x ``cox.zph(fit, transform = "km", terms = FALSE)``:
the score test, at the fitted beta, for adding ``x * g(t)`` where ``g(t) = 1 - S(t-)`` of the pooled,
unweighted Kaplan–Meier, centred at its mean over events; per coefficient (that block plus the full
beta block of the information) and globally. (The 2.x algorithm, scaled Schoenfeld residuals regressed
on g(t), gives slightly different numbers; we match 3.x.)

Text covariates are dummy-coded against a reference level (given, else the first in sorted order,
R's default); terms are named ``"col=LEVEL"``. Rows with a missing covariate are dropped, as R does,
and counted in ``CoxResult.n_dropped``.

References
----------
Cox DR (1972). Regression models and life-tables. JRSS B 34:187–220.
Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA 72:557–565.
Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model. JASA 84:1074–1078.
Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based on weighted
residuals. Biometrika 81:515–526.
Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA (1982). Evaluating the yield of medical tests.
JAMA 247:2543–2546.
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analyses.concordance import concordance as harrell_concordance
from analyses.cox_engine import EPS, SortedData, global_tests, newton, score_residuals, zph_statistics
from analyses.design import check_collinear
from analyses.results import AnalysisError, AnalysisWarning, survival_arrays
from analyses.times import timefix

__all__ = ["CoxResult", "check_collinear", "check_finite", "design_matrix", "fit_cox", "terms_table"]

_EMPTY_TESTS = {"test": pd.Series([], dtype=object), "statistic": [], "df": np.array([], dtype=int), "p": []}


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model as tidy tables.

    Attributes
    ----------
    terms : DataFrame
        term, covariate, level (None for numeric), coef, se, robust_se (NaN unless robust), hr,
        hr_ci_lower, hr_ci_upper, z, p. With robust errors z, p and the CI use ``robust_se`` (as R).
    ph_test : DataFrame
        term, statistic, df, p; one row per term then ``GLOBAL`` (cox.zph, km transform, 3.x). No rows
        when the fit skipped it (``fit_cox(with_ph_test=False)``).
    reference_levels : dict
        Reference level of each text covariate.
    n, events, n_dropped : int
        Rows used, events among them, rows dropped for a missing covariate.
    loglik, loglik_null : float
        Partial log-likelihood at the estimate and at beta = 0.
    concordance : float
        Harrell's C (NaN when the fit skipped it: ``fit_cox(with_concordance=False)``).
    vcov : DataFrame
        Model-based covariance of the coefficients (indexed by term).
    robust_vcov : DataFrame or None
    ties : str
    strata : tuple of str
    cluster_col : str or None
    iterations : int
    variance : str
        ``"robust"`` or ``"model-based"``: the variance behind ``terms``' z, p and intervals and the Wald
        test.
    tests : DataFrame
        The global tests of ``summary(coxph)``: test (``likelihood ratio``, ``Wald``, ``score``, and
        ``robust score`` with a robust variance), statistic, df, p.
    """

    terms: pd.DataFrame
    ph_test: pd.DataFrame
    reference_levels: dict[str, str]
    n: int
    events: int
    n_dropped: int
    loglik: float
    loglik_null: float
    concordance: float
    vcov: pd.DataFrame
    robust_vcov: pd.DataFrame | None
    ties: str
    strata: tuple[str, ...] = field(default_factory=tuple)
    cluster_col: str | None = None
    iterations: int = 0
    variance: str = "model-based"
    tests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(_EMPTY_TESTS))


# ---------------------------------------------------------------------------------------- design
def design_matrix(df, covariates, ref_levels):
    """The model matrix of ``covariates`` in ``df``, as R's ``model.matrix`` with treatment contrasts.

    Numeric columns enter as they are; a text (or boolean) column is dummy-coded against its reference
    level: ``ref_levels[col]``, else the first level in sorted order (R's default). Shared by
    :func:`fit_cox` and ``analyses.cox_counting.fit_cox_counting``.

    Returns
    -------
    (X, names, cov_of, level_of, refs)
        The matrix (rows x terms), each term's name (``col=LEVEL`` or the numeric column's name), the
        covariate and level (None for a numeric column) of each term, and the reference levels used.
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    cov_of: list[str] = []
    level_of: list[str | None] = []
    refs: dict[str, str] = {}
    unknown = sorted(set(ref_levels) - set(covariates))
    if unknown:
        raise AnalysisError(f"A reference level is given for {unknown[0]!r}, which is not a covariate.")
    for col in covariates:
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            if col in ref_levels:
                raise AnalysisError(f"Covariate {col!r} is numeric, so it has no reference level to set.")
            blocks.append(values.to_numpy(dtype=float)[:, None])
            names.append(col)
            cov_of.append(col)
            level_of.append(None)
            continue
        # levels as text; rows coded once (factorize) rather than compared as strings per level
        codes, uniques = pd.factorize(values)
        unique_text = [str(u) for u in uniques]
        levels = sorted(set(unique_text))
        if len(levels) < 2:
            raise AnalysisError(
                f"Covariate {col!r} has a single level ({levels[0] if levels else 'none'}) in this cohort, "
                "so its effect cannot be estimated."
            )
        ref = str(ref_levels.get(col, levels[0]))
        if ref not in levels:
            raise AnalysisError(f"Reference level {ref!r} of {col!r} is not among its levels {levels}.")
        refs[col] = ref
        others = [lv for lv in levels if lv != ref]
        row_level = np.array([levels.index(u) for u in unique_text], dtype=np.int64)[codes]
        other_levels = np.array([levels.index(lv) for lv in others], dtype=np.int64)
        blocks.append((row_level[:, None] == other_levels[None, :]).astype(float))
        names += [f"{col}={lv}" for lv in others]
        cov_of += [col] * len(others)
        level_of += others
    return np.hstack(blocks), names, cov_of, level_of, refs


def check_finite(beta, info, score, names) -> np.ndarray:
    """The inverse information, after R's test for a coefficient drifting to infinity."""
    try:
        vcov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        vcov = np.full_like(info, np.nan)
    bad = ~np.isfinite(beta) | ~np.isfinite(np.diag(vcov)) | (np.diag(vcov) <= 0)
    if not bad.any():  # R's coxph.fit test: the Newton step still left is large against the coefficient
        infs = np.abs(score @ vcov)
        bad = (infs > EPS) & (infs > np.sqrt(EPS) * np.abs(beta))
    if bad.any():
        raise AnalysisError(
            f"The Cox model did not converge: the coefficient of {names[int(np.argmax(bad))]!r} is heading "
            "to infinity (a level with no events or perfect separation)."
        )
    return vcov


def terms_table(names, cov_of, level_of, beta, vcov, robust_vcov, conf_level) -> pd.DataFrame:
    """One row per coefficient: coef, se, robust_se, hr with its interval, Wald z and p (the interval,
    z and p on the robust SE when there is one), as R's ``summary(coxph)`` reports them."""
    se = np.sqrt(np.diag(vcov))
    used_se = np.sqrt(np.diag(robust_vcov)) if robust_vcov is not None else se
    z = beta / used_se
    zq = stats.norm.ppf(1 - (1 - conf_level) / 2)
    return pd.DataFrame(
        {
            "term": names,
            "covariate": cov_of,
            "level": level_of,
            "coef": beta,
            "se": se,
            "robust_se": used_se if robust_vcov is not None else np.nan,
            "hr": np.exp(beta),
            "hr_ci_lower": np.exp(beta - zq * used_se),
            "hr_ci_upper": np.exp(beta + zq * used_se),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )


def fit_cox(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    *,
    ref_levels: Mapping[str, str] | None = None,
    strata: str | Sequence[str] | None = None,
    robust: bool | None = None,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    conf_level: float = 0.95,
    with_concordance: bool = True,
    with_ph_test: bool = True,
) -> CoxResult:
    """Fit a Cox proportional hazards model (R ``coxph``).

    Parameters
    ----------
    df : DataFrame
    duration_col, event_col : str
        Time and event (1 = event, any other code censored).
    covariates : sequence of str
        Numeric columns enter as they are; text (or boolean/categorical) columns are dummy-coded.
    ref_levels : mapping, optional
        Reference level per text covariate (default: first in sorted order).
    strata : str or sequence of str, optional
        Stratify the baseline hazard (``strata(...)``).
    robust : bool, optional
        Sandwich standard errors (``robust = TRUE``). Default (None) as ``coxph`` decides: robust when
        there is a ``cluster_col`` or a case weight that is not a whole number, else model-based.
        ``cluster_col`` implies robust. ``CoxResult.variance`` records the choice.
    cluster_col : str, optional
        Cluster identifier for the robust variance (``cluster = ...``).
    weights_col : str, optional
        Positive case weights (``weights = ...``), e.g. inverse-probability weights. Non-integer
        weights make the variance robust unless ``robust=False``.
    ties : {"efron", "breslow"}
    conf_level : float
        Confidence level of the hazard-ratio intervals.
    with_concordance, with_ph_test : bool
        Compute Harrell's concordance and the proportional-hazards test (default). A caller that shows
        neither can skip them (about a quarter of a large fit's time): the result then has
        ``concordance`` NaN and an empty ``ph_test`` (same columns); everything else is unchanged.

    Returns
    -------
    CoxResult

    Raises
    ------
    AnalysisError
        Empty data, no events, a text covariate with a single level, collinear covariates (named),
        non-convergence, bad weights.

    Warns
    -----
    AnalysisWarning
        Fewer than 10 events per estimated coefficient.

    References
    ----------
    Cox (1972); Efron (1977); Lin & Wei (1989); Grambsch & Therneau (1994); Harrell et al. (1982).
    """
    if ties not in ("efron", "breslow"):
        raise AnalysisError(f"Ties method must be 'efron' or 'breslow', not {ties!r}.")
    covariates = list(covariates)
    if not covariates:
        raise AnalysisError("A Cox model needs at least one covariate.")
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    needed = covariates + strata_cols + [c for c in (cluster_col, weights_col) if c]
    missing_cols = [c for c in needed if c not in df.columns]
    if missing_cols:
        raise AnalysisError(f"The data has no column named {missing_cols[0]!r}.")
    complete = df[needed].notna().all(axis=1) if needed else pd.Series(True, index=df.index)
    data = df.loc[complete]
    time, event = survival_arrays(data, duration_col, event_col)
    time = timefix(time)  # times equal within rounding are one time (coxph's timefix)
    if not event.any():
        raise AnalysisError("There are no events in this cohort, so a Cox model cannot be fitted.")
    X, names, cov_of, level_of, refs = design_matrix(data, covariates, dict(ref_levels or {}))
    check_collinear(X, names)
    if weights_col:
        weights = pd.to_numeric(data[weights_col], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(weights).all() or (weights <= 0).any():
            raise AnalysisError(f"Weights in {weights_col!r} must be finite and positive (as coxph requires).")
    else:
        weights = np.ones(len(time))
    if strata_cols:
        strata_codes = data[strata_cols].astype(str).agg("\x1f".join, axis=1).factorize(sort=True)[0]
    else:
        strata_codes = np.zeros(len(time), dtype=np.int64)
    if event.sum() / len(names) < 10:
        warnings.warn(
            # no counts in the text (nor their ratio): it reaches notes that small-cell suppression guards
            f"Fewer than 10 events per coefficient ({len(names)} coefficients); estimates may be unstable.",
            AnalysisWarning,
            stacklevel=2,
        )
    if robust is None:  # coxph: robust with a cluster or with weights that are not frequencies
        robust = bool(weights_col) and not np.array_equal(weights, np.floor(weights))
    robust = robust or cluster_col is not None
    center = X.mean(0)
    S = SortedData(time, event.astype(np.int8), X - center, weights, strata_codes, ties == "efron")
    beta, loglik, loglik0, score, info, pieces, iterations, start = newton(S)
    vcov = check_finite(beta, info, score, names)
    robust_vcov = robust_score = None
    if robust:
        clusters = None if cluster_col is None else data[cluster_col].to_numpy()
        dfbeta = _per_cluster(S, score_residuals(S, pieces) @ vcov, clusters)
        robust_vcov = dfbeta.T @ dfbeta
        robust_score = _per_cluster(S, score_residuals(S, start.pieces), clusters)
    terms = terms_table(names, cov_of, level_of, beta, vcov, robust_vcov, conf_level)
    tests = global_tests(beta, loglik, loglik0, start, vcov if robust_vcov is None else robust_vcov, robust_score)
    if with_ph_test:
        zph = zph_statistics(S, pieces, time, event)
        dfs = [1] * len(names) + [len(names)]
        ph_test = pd.DataFrame({"term": [*names, "GLOBAL"], "statistic": zph, "df": dfs, "p": stats.chi2.sf(zph, dfs)})
    else:
        ph_test = pd.DataFrame(
            {"term": pd.Series([], dtype=object), "statistic": [], "df": np.array([], dtype=int), "p": []}
        )
    concordance = np.nan
    if with_concordance:
        lp = np.empty(len(time))
        lp[S.order] = S.X @ beta
        concordance = harrell_concordance(time, event, lp, weights, strata_codes)
    return CoxResult(
        terms=terms,
        ph_test=ph_test,
        reference_levels=refs,
        n=len(time),
        events=int(event.sum()),
        n_dropped=int(len(df) - len(data)),
        loglik=loglik,
        loglik_null=loglik0,
        concordance=concordance,
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        robust_vcov=None if robust_vcov is None else pd.DataFrame(robust_vcov, index=names, columns=names),
        ties=ties,
        strata=tuple(strata_cols),
        cluster_col=cluster_col,
        iterations=iterations,
        variance="robust" if robust else "model-based",
        tests=tests,
    )


def _per_cluster(S: SortedData, resid: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Rows' residuals (sorted order) times their case weight, in data order, summed within clusters."""
    out = np.empty_like(resid)
    out[S.order] = resid * S.w[:, None]
    if clusters is None:
        return out
    return pd.DataFrame(out).groupby(clusters).sum().to_numpy()
