"""Fine–Gray proportional subdistribution hazards regression, as R's ``cmprsk::crr`` fits it.

The subdistribution hazard of the event is modelled as λ₁(t | x) = λ₁₀(t) exp(x'β). Patients who had
the competing event stay in the risk set after their event, weighted by G(t−)/G(Tᵢ−), where G is the
Kaplan–Meier estimate of the censoring distribution (censorings are its events; at a tie a failure is
still at risk of being censored, as ``survfit`` counts it) evaluated just before each time, as crr's
``approx(..., xout = ftime * (1 - 100 * eps))`` does (at time 0 that is G(0) itself). β maximises the
weighted Breslow partial likelihood by crr's Newton–Raphson with step halving, start 0, and crr's
stopping rule; the variance is crr's sandwich H⁻¹ (Σᵢ (ηᵢ + ψᵢ)(ηᵢ + ψᵢ)') H⁻¹, where ηᵢ is patient i's
score residual and ψᵢ the term for estimating G (Fine & Gray 1999, section 3).

crr evaluates every risk-set sum by a loop over all patients (O(n²) per iteration). Here each sum is
a cumulative sum over the time-ordered data: the weight G(t−)/G(Tⱼ−) factorises, so
Σⱼ wⱼ(t) eⱼ = Σ_{Tⱼ ≥ t} eⱼ + G(t−) Σ_{Tⱼ < t, competing} eⱼ / G(Tⱼ−), a reverse and a forward cumulative
sum read at each event time. The fit costs O(n log n + n·p²) per iteration and the sandwich the same.

References
----------
.. [1] Fine JP, Gray RJ (1999). A proportional hazards model for the subdistribution of a competing
   risk. J Am Stat Assoc 94:496–509.
.. [2] Putter H, Fiocco M, Geskus RB (2007). Tutorial in biostatistics: competing risks and multi-state
   models. Stat Med 26:2389–2430.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analyses.cif import clean_status
from analyses.results import AnalysisError, AnalysisWarning

__all__ = ["FineGrayResult", "fit_fine_gray"]


_SINGULAR = "The Fine–Gray information matrix is singular; check the covariates for collinearity."


@dataclass(frozen=True)
class FineGrayResult:
    """A fitted Fine–Gray model.

    Attributes
    ----------
    terms : pandas.DataFrame
        ``term, coef, se, hr, hr_ci_lower, hr_ci_upper, z, p``; ``se`` is crr's robust sandwich
        standard error, ``hr = exp(coef)``, Wald interval and p-value. A text covariate's terms are
        named ``column=LEVEL`` (against its reference level); a numeric covariate keeps its name.
    vcov : pandas.DataFrame
        Robust covariance matrix of the coefficients (crr's ``var``).
    reference_levels : dict
        Reference level of each text covariate.
    n, events, competing_events, censored : int
        Patients used and their outcomes.
    converged : bool
    iterations : int
        Newton steps taken.
    loglik, loglik_null : float
        Log pseudo-partial likelihood at the estimate and at β = 0 (crr's ``loglik``, ``loglik.null``).
    conf_level : float
    """

    terms: pd.DataFrame
    vcov: pd.DataFrame
    reference_levels: dict[str, str]
    n: int
    events: int
    competing_events: int
    censored: int
    converged: bool
    iterations: int
    loglik: float
    loglik_null: float
    conf_level: float


# --------------------------------------------------------------------------------------------------
# Design matrix


def _design(
    data: pd.DataFrame, covariates: list[str], ref_levels: dict[str, str] | None
) -> tuple[np.ndarray, list[str], dict[str, str]]:
    """Numeric columns as they are; other columns dummy-coded against a reference level."""
    ref_levels = dict(ref_levels or {})
    unknown = set(ref_levels) - set(covariates)
    if unknown:
        raise AnalysisError(f"A reference level was given for {sorted(unknown)}, which are not covariates.")
    columns, names, refs = [], [], {}
    for col in covariates:
        values = data[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            if col in ref_levels:
                raise AnalysisError(f"Covariate {col!r} is numeric; it has no reference level.")
            columns.append(values.to_numpy(dtype=float))
            names.append(col)
            continue
        text = values.astype(str)
        levels = sorted(text.unique())
        ref = ref_levels.get(col, levels[0])
        if ref not in levels:
            raise AnalysisError(
                f"Reference level {ref!r} of {col!r} does not occur in the data (levels: {', '.join(levels)})."
            )
        if len(levels) < 2:
            raise AnalysisError(f"Covariate {col!r} has a single value ({ref!r}); it cannot be estimated.")
        refs[col] = ref
        for level in levels:
            if level != ref:
                columns.append((text == level).to_numpy(dtype=float))
                names.append(f"{col}={level}")
    x = np.column_stack(columns)
    _check_collinear(x, names)
    return x, names, refs


def _check_collinear(x: np.ndarray, names: list[str]) -> None:
    centred = x - x.mean(axis=0)
    scale = np.sqrt((centred**2).sum(axis=0))
    constant = [n for n, s in zip(names, scale, strict=True) if s == 0]
    if constant:
        raise AnalysisError(f"Covariate term(s) {', '.join(constant)} do not vary; they cannot be estimated.")
    diag = np.abs(np.diag(np.linalg.qr(centred / scale, mode="r")))
    dependent = [n for n, d in zip(names, diag, strict=True) if d < 1e-7]
    if dependent:
        raise AnalysisError(
            f"Covariate term(s) {', '.join(dependent)} are collinear with the terms before them "
            f"({', '.join(names)}); drop or merge covariates."
        )


# --------------------------------------------------------------------------------------------------
# Weighted risk sets


@dataclass(frozen=True)
class _Data:
    time: np.ndarray  # sorted
    code: np.ndarray  # 0 censored, 1 event, 2 competing
    x: np.ndarray  # centred covariates
    g_minus: np.ndarray  # G(T_i-) per patient, crr's convention
    ftime: np.ndarray  # distinct event times
    d: np.ndarray  # events at each
    first: np.ndarray  # index of the first patient with time >= ftime
    g_f: np.ndarray  # G(t-) at each event time


def _censoring_km_before(time: np.ndarray, code: np.ndarray) -> np.ndarray:
    """G(T_i−) for each (sorted) patient; at time 0, G(0) as crr's approx() evaluates it."""
    utime, first, inverse = np.unique(time, return_index=True, return_inverse=True)
    cens = np.bincount(inverse, weights=(code == 0).astype(float), minlength=utime.size)
    at_risk = time.size - first
    after = np.cumprod(1.0 - cens / at_risk)
    before = np.concatenate(([1.0], after[:-1]))
    g = before[inverse]
    return np.where(time == 0, after[inverse], g)


def _prepare(time: np.ndarray, code: np.ndarray, x: np.ndarray) -> _Data:
    order = np.argsort(time, kind="stable")
    time, code, x = time[order], code[order], x[order]
    g_minus = _censoring_km_before(time, code)
    ftime, d = np.unique(time[code == 1], return_counts=True)
    first = np.searchsorted(time, ftime, side="left")
    return _Data(time, code, x - x.mean(axis=0), g_minus, ftime, d.astype(float), first, g_minus[first])


def _risk_sum(data: _Data, values: np.ndarray) -> np.ndarray:
    """Σ over the weighted risk set at each event time of ``values`` (n rows) -> (K rows)."""
    at_or_after = np.cumsum(values[::-1], axis=0)[::-1][data.first]
    comp = (data.code == 2) / data.g_minus
    shape = (-1,) + (1,) * (values.ndim - 1)
    before = np.cumsum(values * comp.reshape(shape), axis=0)
    before = np.concatenate([np.zeros((1, *values.shape[1:])), before])[data.first]
    return at_or_after + data.g_f.reshape(shape) * before


def _loglik(data: _Data, beta: np.ndarray) -> float:
    """Log pseudo-partial likelihood; -inf or NaN when a trial step overflows (the step is then halved)."""
    xb = data.x @ beta
    with np.errstate(over="ignore", invalid="ignore"):
        s0 = _risk_sum(data, np.exp(xb))
        return float(xb[data.code == 1].sum() - (data.d * np.log(s0)).sum())


def _score_info(data: _Data, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    xb = data.x @ beta
    e = np.exp(xb)
    s0 = _risk_sum(data, e)
    s1 = _risk_sum(data, e[:, None] * data.x)
    xbar = s1 / s0[:, None]
    p = data.x.shape[1]
    info = np.empty((p, p))
    for a in range(p):  # one pair at a time keeps memory O(n), not O(n p²)
        for b in range(a, p):
            s2 = _risk_sum(data, e * data.x[:, a] * data.x[:, b])
            info[a, b] = info[b, a] = (data.d * (s2 / s0 - xbar[:, a] * xbar[:, b])).sum()
    score = data.x[data.code == 1].sum(axis=0) - (data.d[:, None] * xbar).sum(axis=0)
    loglik = float(xb[data.code == 1].sum() - (data.d * np.log(s0)).sum())
    return loglik, score, info


def _newton(data: _Data, max_iter: int, gtol: float) -> tuple[np.ndarray, bool, int]:
    """crr's iteration: Newton steps from 0, halved until the objective decreases enough."""
    beta = np.zeros(data.x.shape[1])
    for it in range(max_iter + 1):
        loglik, score, info = _score_info(data, beta)
        if np.max(np.abs(score) * np.maximum(np.abs(beta), 1.0)) < max(abs(loglik), 1.0) * gtol:
            return beta, True, it
        if it == max_iter:
            return beta, False, it
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError as exc:
            raise AnalysisError(_SINGULAR) from exc
        for _ in range(21):
            new = _loglik(data, beta + step)
            if np.isfinite(new) and -new <= -loglik - 1e-4 * float(step @ score):
                break
            step = step * 0.5
        else:
            return beta, False, it
        beta = beta + step
    return beta, False, max_iter  # pragma: no cover - loop always returns


def _sandwich_meat(data: _Data, beta: np.ndarray) -> np.ndarray:
    """Σᵢ (ηᵢ + ψᵢ)(ηᵢ + ψᵢ)', crr's ``crrvv`` ``v2``, by cumulative sums over time."""
    x, code, time = data.x, data.code, data.time
    e = np.exp(x @ beta)
    s0 = _risk_sum(data, e)
    xbar = _risk_sum(data, e[:, None] * x) / s0[:, None]
    dlam = data.d / s0
    # η: dNᵢ part minus the compensator over the weighted risk set.
    k_le = np.searchsorted(data.ftime, time, side="right")  # event times <= Tᵢ
    cum_a = np.concatenate(([0.0], np.cumsum(dlam)))
    cum_b = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(xbar * dlam[:, None], axis=0)])
    eta = -e[:, None] * (x * cum_a[k_le][:, None] - cum_b[k_le])
    is_event = code == 1
    eta[is_event] += x[is_event] - xbar[k_le[is_event] - 1]
    gd = data.g_f * dlam
    rev_a = np.concatenate((np.cumsum(gd[::-1])[::-1], [0.0]))
    rev_b = np.vstack([np.cumsum((xbar * gd[:, None])[::-1], axis=0)[::-1], np.zeros((1, x.shape[1]))])
    comp = code == 2
    eta[comp] -= (e[comp] / data.g_minus[comp])[:, None] * (x[comp] * rev_a[k_le[comp]][:, None] - rev_b[k_le[comp]])
    # ψ: the censoring martingale part, q(u)/Y(u) dMᶜ(u) at each censoring time u.
    utime, first = np.unique(time, return_index=True)
    ncens = np.bincount(np.searchsorted(utime, time[code == 0]), minlength=utime.size).astype(float)
    at_risk = time.size - first
    w = np.where(comp, e / data.g_minus, 0.0)
    c0 = np.concatenate(([0.0], np.cumsum(w)))[first]  # competing before u
    c1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(w[:, None] * x, axis=0)])[first]
    k_ge = np.searchsorted(data.ftime, utime, side="left")  # event times >= u
    q = c1 * rev_a[k_ge][:, None] - c0[:, None] * rev_b[k_ge]
    cum_q = np.cumsum(q * (ncens / at_risk**2)[:, None], axis=0)
    u_idx = np.searchsorted(utime, time)
    psi = -cum_q[u_idx]
    cens = code == 0
    psi[cens] += q[u_idx[cens]] / at_risk[u_idx[cens]][:, None]
    resid = eta + psi
    return resid.T @ resid


def fit_fine_gray(
    df: pd.DataFrame,
    duration_col: str,
    status_col: str,
    covariates: list[str],
    *,
    ref_levels: dict[str, str] | None = None,
    event: int = 1,
    competing: int = 2,
    conf_level: float = 0.95,
    max_iter: int = 10,
    gtol: float = 1e-6,
) -> FineGrayResult:
    """Fit a Fine–Gray subdistribution hazards model (``cmprsk::crr``).

    Parameters
    ----------
    df : pandas.DataFrame
    duration_col, status_col : str
        Follow-up time (days) and status (0 censored, ``event``, ``competing``).
    covariates : list of str
        Numeric columns enter as they are; any other column is dummy-coded against a reference level.
    ref_levels : dict, optional
        ``{column: level}``; default the first level in sorted order (R's factor default).
    event, competing : int
        Status codes of the event modelled and of the competing event.
    conf_level : float
        Level of the hazard-ratio intervals.
    max_iter, gtol : int, float
        crr's ``maxiter`` and ``gtol``: stop when max|score·max(|β|, 1)| < max(|loglik|, 1)·gtol.

    Returns
    -------
    FineGrayResult

    Raises
    ------
    AnalysisError
        No covariates, no events, a covariate that does not vary, collinear covariates, an unknown
        reference level, or a singular information matrix; plus the input errors of
        ``cumulative_incidence``.

    Warns
    -----
    AnalysisWarning
        The fit did not converge (estimates are the last iterate), e.g. under monotone likelihood.

    References
    ----------
    .. [1] Fine JP, Gray RJ (1999). J Am Stat Assoc 94:496–509.
    .. [2] Putter H, Fiocco M, Geskus RB (2007). Stat Med 26:2389–2430.
    """
    if not covariates:
        raise AnalysisError("The Fine–Gray model needs at least one covariate.")
    data, time, code = clean_status(df, duration_col, status_col, event, competing, droppable=tuple(covariates))
    if not (code == 1).any():
        raise AnalysisError(f"The Fine–Gray model needs at least one event (code {event}); there are none.")
    x, names, refs = _design(data, list(covariates), ref_levels)
    prepared = _prepare(time, code, x)
    beta, converged, iterations = _newton(prepared, max_iter, gtol)
    loglik, _, info = _score_info(prepared, beta)
    if not converged:
        warnings.warn(
            f"The Fine–Gray fit did not converge in {max_iter} iterations; estimates may be unreliable "
            "(often a covariate level with no events).",
            AnalysisWarning,
            stacklevel=2,
        )
    try:
        inv_info = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:
        raise AnalysisError(_SINGULAR) from exc
    vcov = inv_info @ _sandwich_meat(prepared, beta) @ inv_info
    se = np.sqrt(np.diag(vcov))
    z = beta / se
    zq = float(stats.norm.ppf(0.5 + conf_level / 2))
    terms = pd.DataFrame(
        {
            "term": names,
            "coef": beta,
            "se": se,
            "hr": np.exp(beta),
            "hr_ci_lower": np.exp(beta - zq * se),
            "hr_ci_upper": np.exp(beta + zq * se),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )
    return FineGrayResult(
        terms=terms,
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        reference_levels=refs,
        n=int(time.size),
        events=int((code == 1).sum()),
        competing_events=int((code == 2).sum()),
        censored=int((code == 0).sum()),
        converged=converged,
        iterations=iterations,
        loglik=loglik,
        loglik_null=_loglik(prepared, np.zeros(len(names))),
        conf_level=conf_level,
    )
