"""Pointwise confidence intervals for a probability, shared by every curve; R's ``conf.type`` choices.

R's ``survfit(..., conf.type = "log-log")`` and cmprsk's ``cuminc`` intervals are both a Wald interval for
``log(−log p)``: with ``se`` the standard error of ``log p``, the limits are ``p ** exp(± z se / log p)``
(:func:`loglog_ci`). Kaplan–Meier, Simon–Makuch, landmark and weighted curves give ``se`` from
Greenwood's (or Xie and Liu's) formula for ``log S``; cumulative incidence from the Aalen–Johansen
variance of ``F`` (``se = sd / F``).

For a survival probability :func:`survival_ci` offers the three types of ``survival:::survfit_confint``
(survival 3.5):

* ``"log-log"`` (the project's default, as in the KMunicate figures): :func:`loglog_ci`; missing where S
  is 0 or 1.
* ``"log"`` (R's default): ``exp(log S ± z se)``, the upper limit capped at 1; missing where S is 0.
* ``"plain"``: ``S ± z se S``, limited to [0, 1].

References
----------
Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley, s. 1.4.
Collett D (2015). Modelling Survival Data in Medical Research, 3rd ed., section 2.2.3.
Therneau TM (2024). survival: survfit.object, conf.type; ``survfit_confint``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analyses.results import AnalysisError

__all__ = ["CONF_TYPES", "check_conf_type", "loglog_ci", "survival_ci"]

#: The interval types of :func:`survival_ci`, the default first.
CONF_TYPES = ("log-log", "log", "plain")


def loglog_ci(p: np.ndarray, se_log: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ``conf_level`` limits of ``p`` on the log(−log) scale; NaN where ``p`` is 0 or 1.

    Parameters
    ----------
    p : array
        Probabilities (survival, or cumulative incidence).
    se_log : array
        Standard errors of ``log p`` (may be infinite or NaN where ``p`` is 0).
    conf_level : float
        E.g. 0.95.
    """
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where((p <= 0) | (p >= 1), np.nan, p)
        loglog = np.log(-np.log(q))
        shift = z * se_log / np.log(q)
        return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))


def check_conf_type(conf_type: str) -> str:
    """``conf_type`` itself when it is one of :data:`CONF_TYPES`, else an :class:`AnalysisError`."""
    if conf_type not in CONF_TYPES:
        raise AnalysisError(f"The interval type must be one of {', '.join(CONF_TYPES)}, not {conf_type!r}.")
    return conf_type


def survival_ci(
    surv: np.ndarray, se_log: np.ndarray, conf_level: float, conf_type: str = "log-log"
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper pointwise limits for S from the standard error of log S (R ``conf.type``).

    Parameters
    ----------
    surv : ndarray
        Survival probabilities.
    se_log : ndarray
        Standard errors of ``log S``.
    conf_level : float
    conf_type : {"log-log", "log", "plain"}

    Returns
    -------
    tuple of ndarray
        NaN where the interval is undefined (see the module docstring).

    References
    ----------
    Therneau (2024), ``survival:::survfit_confint``.
    """
    check_conf_type(conf_type)
    surv, se_log = np.asarray(surv, dtype=float), np.asarray(se_log, dtype=float)
    if conf_type == "log-log":
        return loglog_ci(surv, se_log, conf_level)
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se_log * surv
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        p = np.where(surv == 0, np.nan, surv)
        return np.exp(np.log(p) - z * se_log), np.minimum(np.exp(np.log(p) + z * se_log), 1.0)
