"""Response rates released: patients and responders through ``ReleasePolicy.count``, each rate and its
Wilson interval computed from the released counts (so a rate carries nothing the counts do not). A rate is
shown for a group released as at least ``ReleasePolicy.curve_min_n`` patients (3k), as a curve is drawn:
counts rounded by up to k/2 make the rate of a smaller group meaningless (17 of 17 can be 12 of 22). The
Response page, its export and ``ayaall analyze response`` show these."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analyses.response import wilson_ci
from disclosure.cellkey import key_of
from disclosure.policy import ReleasePolicy

__all__ = ["release_response_rates", "response_keys", "response_totals"]


def response_keys(frame: pd.DataFrame, outcome: str, by: str | None) -> dict[str, tuple[int | None, int | None]]:
    """Each group's (patients, responders) cell keys, the groups named as ``analyses.response.response_rates``
    names them ("all" without a grouping, "(missing)" for a missing value)."""
    labels = frame[by].astype(object).where(frame[by].notna(), "(missing)").astype(str) if by else None
    names = labels if labels is not None else pd.Series("all", index=frame.index)
    responded = frame[outcome].astype(bool).to_numpy()
    return {
        str(g): (key_of(frame, (names == g).to_numpy()), key_of(frame, (names == g).to_numpy() & responded))
        for g in pd.unique(names)
    }


def release_response_rates(
    table: pd.DataFrame, policy: ReleasePolicy, keys: dict[str, tuple[int | None, int | None]] | None = None
) -> pd.DataFrame:
    """A :func:`analyses.response.response_rates` table released: group, n, responders (None where masked),
    rate, ci_lower, ci_upper of the released counts (NaN where either is masked, or the group is released as
    fewer than ``policy.curve_min_n`` patients). ``keys`` (:func:`response_keys`) perturb the counts."""
    if not policy.active:
        return table.astype({"n": object, "responders": object})
    out = table.copy()
    chosen = [keys.get(str(g), (None, None)) if keys else (None, None) for g in table["group"]]
    out["n"] = policy.count_column(table["n"], out.index, [k[0] for k in chosen])
    out["responders"] = policy.count_column(table["responders"], out.index, [k[1] for k in chosen])
    rates, lower, upper = [], [], []
    for n, x in zip(out["n"], out["responders"], strict=True):
        if n is None or x is None or n <= 0 or n < policy.curve_min_n:
            rates.append(np.nan)
            lower.append(np.nan)
            upper.append(np.nan)
            continue
        x = min(x, n)
        lo, hi = wilson_ci(x, n)
        rates.append(x / n)
        lower.append(lo)
        upper.append(hi)
    return out.assign(rate=rates, ci_lower=lower, ci_upper=upper)


def response_totals(
    n: int, responders: int, not_assessed: int, policy: ReleasePolicy, keys: tuple[Any, Any, Any] = (None, None, None)
) -> dict[str, int | None]:
    """The released totals of a response table: patients who started the line, responders, not assessed
    (with the cell keys of those three sets, when given)."""
    return {
        "n": policy.count(n, keys[0]),
        "responders": policy.count(responders, keys[1]),
        "not_assessed": policy.count(not_assessed, keys[2]),
    }
