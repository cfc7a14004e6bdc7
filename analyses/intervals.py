"""Pointwise confidence intervals for a probability on the log(−log) scale, shared by every curve.

R's ``survfit(..., conf.type = "log-log")`` and cmprsk's ``cuminc`` intervals are both a Wald interval for
``log(−log p)``: with ``se`` the standard error of ``log p``, the limits are ``p ** exp(± z se / log p)``.
Kaplan–Meier, Simon–Makuch, landmark and weighted curves give ``se`` from Greenwood's (or Xie and Liu's)
formula for ``log S``; cumulative incidence from the Aalen–Johansen variance of ``F`` (``se = sd / F``).

References
----------
Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley, s. 1.4.
Therneau TM (2024). survival: survfit.object, conf.type.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["loglog_ci"]


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
