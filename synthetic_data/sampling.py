"""Vectorized random draws the simulation is built from (all take a ``numpy.random.Generator``)."""

from __future__ import annotations

import numpy as np

from synthetic_data.params import Hazard, MultinomialLogit, PiecewiseExponential

__all__ = ["categorical", "choose_logit", "linear_predictor", "lookup", "sample_pw_exponential", "uniform_days"]


def categorical(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    """Draw ``n`` indices into ``list(probs)`` with the given (normalised) probabilities."""
    p = np.array(list(probs.values()), dtype=float)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def lookup(mapping: dict[str, float], values: np.ndarray, default: float = 0.0) -> np.ndarray:
    """Map each entry of ``values`` through ``mapping`` (``default`` for keys it lacks)."""
    out = np.full(values.shape[0], default, dtype=float)
    for key, value in mapping.items():
        out[values == key] = value
    return out


def uniform_days(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """Integer day counts uniform on ``[low, high]``."""
    return rng.integers(int(low), int(high) + 1, size=n)


def linear_predictor(hazard: Hazard, covariates: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``sum(coef * covariate)`` over the hazard's terms; a term without a covariate array counts 0."""
    lp = np.zeros(n)
    for term in hazard.terms:
        x = covariates.get(term.name)
        if x is not None:
            lp += term.coef * x
    return lp


def sample_pw_exponential(rng: np.random.Generator, baseline: PiecewiseExponential, lp: np.ndarray) -> np.ndarray:
    """Event times (days, continuous) from ``h(t) = h0(t) exp(lp)`` with a piecewise-constant ``h0``.

    Inverts the cumulative hazard: ``T = H0^{-1}(E / exp(lp))`` with ``E ~ Exp(1)``.

    Parameters
    ----------
    rng : numpy.random.Generator
    baseline : PiecewiseExponential
        Breaks (days, first 0) and per-day rates; the last rate applies for ever.
    lp : numpy.ndarray
        Linear predictor per subject.

    Returns
    -------
    numpy.ndarray
        Event times in days (``inf`` when the last rate is 0 and the target is never reached).
    """
    breaks = np.asarray(baseline.breaks, dtype=float)
    rates = np.asarray(baseline.rates, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(np.diff(breaks) * rates[:-1])])
    target = rng.standard_exponential(lp.shape[0]) / np.exp(lp)
    k = np.searchsorted(cum, target, side="right") - 1
    with np.errstate(divide="ignore"):
        return breaks[k] + (target - cum[k]) / rates[k]


def choose_logit(
    rng: np.random.Generator,
    model: MultinomialLogit,
    options: tuple[str, ...],
    covariates: dict[str, np.ndarray],
    eligible: dict[str, np.ndarray],
    n: int,
) -> np.ndarray:
    """Draw an option index (into ``options``) per subject from a multinomial logit with eligibility.

    The reference option has linear predictor 0; an option whose ``eligible`` mask is False for a
    subject gets probability 0 (the reference must be eligible for everyone it is offered to).
    """
    scores = np.empty((n, len(options)))
    for j, name in enumerate(options):
        lp = np.zeros(n)
        for term, coef in model.coefs.get(name, {}).items():
            lp += coef * (1.0 if term == "intercept" else covariates[term])
        w = np.exp(lp)
        mask = eligible.get(name)
        scores[:, j] = w if mask is None else np.where(mask, w, 0.0)
    cum = np.cumsum(scores, axis=1)
    u = rng.random(n) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1).clip(0, len(options) - 1)
