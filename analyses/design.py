"""Checks of a model's design matrix shared by the regression models (Cox, the propensity model).

References
----------
Belsley DA, Kuh E, Welsch RE (1980). Regression Diagnostics. Wiley, ch. 3 (collinearity).
"""

from __future__ import annotations

import numpy as np

from analyses.results import AnalysisError

__all__ = ["check_collinear"]


def check_collinear(X: np.ndarray, names: list[str], *, constant_with: str = "the baseline hazard") -> None:
    """Name the first covariate column that is a linear combination of earlier ones (or constant).

    Works on the correlation matrix of the columns (the model's intercept, or a Cox model's baseline
    hazard, absorbs their means): a column whose share of variance left unexplained by the earlier
    (kept) columns is below 1e-10 is collinear with them, and the message names those columns.

    Parameters
    ----------
    X : ndarray
        Covariate columns, without an intercept column.
    names : list of str
        Term names of the columns.
    constant_with : str
        What a constant column is collinear with, for the message.

    Raises
    ------
    AnalysisError
        Naming the constant or collinear term.
    """
    Xc = X - X.mean(0)
    gram = Xc.T @ Xc
    scale = np.sqrt(np.diag(gram))
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant column is named below
        corr = gram / np.outer(scale, scale)
    kept: list[int] = []
    for j in range(X.shape[1]):
        if scale[j] <= 1e-10 * max(1.0, np.abs(X[:, j]).max()) * np.sqrt(len(X)):
            raise AnalysisError(
                f"Covariate term {names[j]!r} is constant in this cohort (collinear with {constant_with})."
            )
        if kept:
            ck = corr[np.ix_(kept, kept)]
            cj = corr[kept, j]
            coef = np.linalg.lstsq(ck, cj, rcond=None)[0]
            if 1.0 - cj @ coef < 1e-10:
                others = ", ".join(repr(names[k]) for k, c in zip(kept, coef, strict=True) if abs(c) > 1e-6)
                raise AnalysisError(f"Covariates are collinear: {names[j]!r} is a linear combination of {others}.")
        kept.append(j)
