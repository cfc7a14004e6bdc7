"""The propensity model of an IPTW analysis: logistic (two treatments) or multinomial logistic (three or more).

Two treatments match R's ``glm(treated ~ ..., family = binomial)``; three or more match
``nnet::multinom`` (the first level is the reference of the logits). The fit is Newton–Raphson (IRLS)
from zero with step halving.

**Scaling.** Numeric covariates are centred and scaled (mean 0, SD 1) inside the fit, and the
coefficients and their covariance are transformed back, so they are reported per unit of the covariate
and equal R's on the raw data. Without this a covariate such as the diagnosis year (about 2020) makes
the intercept of the order of -200 and the information matrix ill-conditioned, and Newton's method
stopped early and reported a separation that was not there.

**Separation.** The maximum-likelihood estimate does not exist when some direction of the coefficients
orders every patient's own treatment first (complete or quasi-complete separation, Albert & Anderson
1984). Whether that is so is decided by a linear program, not by the size of the estimates (Konis
2007): separation exists exactly when some b makes every ``x_i'(b_{t_i} - b_k)`` (patient i, any other
treatment k) >= 0 with a positive sum; the program minimises the L1 norm of the slopes of such a b, so
the direction it finds names as few covariates as it can. It is checked only when the fit looks
suspicious (no convergence, or a slope beyond 10 on the logit scale per standard deviation of its
covariate); a real but strong effect then fits. The error names the covariate level with no patient on
some treatment when there is one, else the terms of the separating direction.

**Collinearity** is named term by term (:func:`analyses.design.check_collinear`).

References
----------
Rosenbaum PR, Rubin DB (1983). The central role of the propensity score in observational studies for
causal effects. Biometrika 70:41–55.
Albert A, Anderson JA (1984). On the existence of maximum likelihood estimates in logistic regression
models. Biometrika 71:1–10.
Konis K (2007). Linear programming algorithms for detecting separated data in binary logistic
regression models. DPhil thesis, University of Oxford.
McCaffrey DF et al. (2013). A tutorial on propensity score estimation for multiple treatments using
generalized boosted models. Stat Med 32:3388–3414.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analyses.design import check_collinear
from analyses.results import AnalysisError

__all__ = ["PropensityResult", "fit_propensity"]

_SUSPICIOUS = 10.0  # |coefficient| per SD of the covariate beyond which separation is checked


@dataclass(frozen=True)
class PropensityResult:
    """A fitted propensity model.

    Attributes
    ----------
    coefficients : DataFrame
        level (the treatment each row's logit compares with the reference), term, coef, se, z, p; per
        unit of each covariate (the original scale).
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
    scaling : DataFrame
        term, center, scale: how each numeric covariate was standardized inside the fit.
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
    scaling: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["term", "center", "scale"]))


def _design(data: pd.DataFrame, covariates: Sequence[str]) -> tuple[np.ndarray, list[str], list[int]]:
    """Intercept plus R's treatment coding (first sorted level is the reference), names ``col=LEVEL``;
    also the columns of the numeric covariates."""
    blocks, names, numeric = [np.ones((len(data), 1))], ["(Intercept)"], []
    for col in covariates:
        values = data[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numeric.append(len(names))
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
    if X.shape[1] > 1:
        check_collinear(X[:, 1:], names[1:], constant_with="the intercept")
    return X, names, numeric


def _standardize(X: np.ndarray, numeric: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numeric columns to mean 0, SD 1; the centres and scales (0 and 1 for the other columns)."""
    center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    center[numeric] = X[:, numeric].mean(axis=0)
    scale[numeric] = X[:, numeric].std(axis=0)
    return (X - center) / scale, center, scale


def _to_original(beta: np.ndarray, vcov: np.ndarray, center: np.ndarray, scale: np.ndarray):
    """Coefficients (levels x terms) and their covariance on the covariates' own scale.

    ``x'b = sum_j b_j (x_j - c_j) / s_j``, so the slope of covariate j is ``b_j / s_j`` and the
    intercept ``b_0 - sum_j b_j c_j / s_j``: a linear map A per logit, covariance ``A V A'``.
    """
    A = np.diag(1.0 / scale)
    A[0, 1:] = -center[1:] / scale[1:]
    big = np.kron(np.eye(beta.shape[0]), A)
    return beta @ A.T, big @ vcov @ big.T


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
        Numeric columns enter linearly (standardized inside the fit, reported per unit); text columns
        are dummy-coded against their first sorted level.
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
        Fewer than two treatments, a treatment with no patients, a single-level, constant or collinear
        covariate (named), separation (naming the level or terms), or non-convergence.

    References
    ----------
    Rosenbaum & Rubin (1983); Albert & Anderson (1984); Konis (2007); McCaffrey et al. (2013).
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
    X, names, numeric = _design(data, covariates)
    Xs, center, scale = _standardize(X, numeric)
    Y = (treat.to_numpy()[:, None] == np.array(levels[1:])[None, :]).astype(float)
    beta, info, loglik, it, converged = _multinomial_newton(Xs, Y, max_iter)
    if not converged or np.abs(beta[:, 1:]).max(initial=0.0) > _SUSPICIOUS:
        separated = _separating_direction(Xs, Y)
        if separated is not None:
            raise AnalysisError(
                "The propensity model cannot be estimated: "
                f"{_separation_detail(data, treatment_col, covariates, names, separated)}. Merge or drop that "
                "covariate level, or restrict the cohort."
            )
        if not converged:
            raise AnalysisError(
                f"The propensity model did not converge in {max_iter} iterations; check the covariates."
            )
    probs = _probabilities(Xs, beta)
    coef, vcov = _to_original(beta, np.linalg.inv(info), center, scale)
    k = Y.shape[1]
    table = pd.DataFrame(
        {
            "level": np.repeat(levels[1:], X.shape[1]),
            "term": names * k,
            "coef": coef.ravel(),
            "se": np.sqrt(np.diag(vcov)),
        }
    )
    table["z"] = table["coef"] / table["se"]
    table["p"] = 2 * stats.norm.sf(np.abs(table["z"]))
    return PropensityResult(
        coefficients=table,
        scores=pd.DataFrame(probs, columns=levels, index=data.index),
        levels=levels,
        treatment=treat,
        n=len(data),
        n_dropped=n_dropped,
        loglik=loglik,
        iterations=it,
        method="binomial" if k == 1 else "multinomial",
        scaling=pd.DataFrame({"term": [names[j] for j in numeric], "center": center[numeric], "scale": scale[numeric]}),
    )


# ------------------------------------------------------------------------------ separation
def _separating_direction(X: np.ndarray, Y: np.ndarray) -> np.ndarray | None:
    """A sparse direction ((levels - 1) x terms) along which the likelihood increases without bound, or
    None when there is none.

    The rows of the program are, for every patient i and every other treatment k,
    ``x_i'(b_{t_i} - b_k) >= 0`` (b of the reference treatment is 0); separation exists exactly when
    some b meets them all with a positive sum (module docstring). Here the sum is required to be >= 1
    and the L1 norm of the non-intercept coefficients is minimised, so the direction found uses as few
    covariate terms as it can (the program is infeasible when there is no separation). On the
    standardized design.
    """
    p, k = X.shape[1], Y.shape[1]
    own = np.where(Y.any(axis=1), Y.argmax(axis=1) + 1, 0)  # 0 is the reference treatment
    rows = []
    for other in range(k + 1):
        mine = own != other
        block = np.zeros((int(mine.sum()), k * p))
        for t in range(1, k + 1):  # + x_i on the patient's own logit, - x_i on the other treatment's
            sel = own[mine] == t
            block[sel, (t - 1) * p : t * p] += X[mine][sel]
        if other > 0:
            block[:, (other - 1) * p : other * p] -= X[mine]
        rows.append(block)
    G = np.vstack(rows)
    slope = np.array([j % p != 0 for j in range(k * p)])  # not an intercept
    m = int(slope.sum())
    pick = np.eye(k * p)[slope]  # the slopes among the coefficients, one row each
    A_ub = np.vstack(
        [
            np.hstack([-G, np.zeros((len(G), m))]),  # G b >= 0
            np.hstack([-G.sum(axis=0, keepdims=True), np.zeros((1, m))]),  # 1'G b >= 1
            np.hstack([pick, -np.eye(m)]),  # b_j <= u_j
            np.hstack([-pick, -np.eye(m)]),  # -b_j <= u_j
        ]
    )
    b_ub = np.r_[np.zeros(len(G)), -1.0, np.zeros(2 * m)]
    cost = np.r_[np.zeros(k * p), np.ones(m)]
    bounds = [(None, None)] * (k * p) + [(0, None)] * m
    res = optimize.linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:  # infeasible: no direction separates
        return None
    return np.asarray(res.x[: k * p]).reshape(k, p)


def _separation_detail(
    data: pd.DataFrame, treatment_col: str, covariates: Sequence[str], names: list[str], direction: np.ndarray
) -> str:
    """Which covariate level predicts treatment perfectly (a treatment none of its patients received),
    else the terms of the separating direction."""
    for col in covariates:
        values = data[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        table = pd.crosstab(values.astype(str), data[treatment_col].astype(str))
        zero = table[(table == 0).any(axis=1)]
        if len(zero):
            level = zero.index[0]
            absent = [t for t in table.columns if zero.loc[level, t] == 0]
            return f"{col}={level} predicts treatment perfectly (no patient with it received {', '.join(absent)})"
    loads = np.abs(direction).max(axis=0)
    terms = [names[j] for j in range(1, len(names)) if loads[j] > 1e-6 * loads.max()]
    verb = "predicts" if len(terms) == 1 else "together predict"
    return f"{', '.join(terms)} {verb} treatment perfectly (complete or quasi-complete separation)"


# ------------------------------------------------------------------------------ Newton–Raphson
def _probabilities(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    eta = np.hstack([np.zeros((len(X), 1)), X @ beta.T])
    eta -= eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def _multinomial_newton(X, Y, max_iter):
    """Newton–Raphson for the baseline-category logit; beta is (levels - 1) x covariates."""
    k, p = Y.shape[1], X.shape[1]
    beta = np.zeros((k, p))
    own = np.where(Y.any(axis=1), Y.argmax(axis=1) + 1, 0)

    def pieces(b):
        pr = _probabilities(X, b)
        ll = float(np.sum(np.log(np.clip(pr[np.arange(len(X)), own], 1e-300, None))))
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
            return beta, info, ll, it, bool(np.isfinite(beta).all() and np.linalg.cond(info) < 1e14)
    return beta, info, ll, max_iter, False
