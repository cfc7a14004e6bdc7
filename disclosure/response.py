"""Response rates released: patients and responders through ``ReleasePolicy.count``, each rate and its
Wilson interval computed from the released counts (so a rate carries nothing the counts do not). A rate is
shown for a group released as at least ``ReleasePolicy.curve_min_n`` patients (3k), as a curve is drawn:
counts rounded by up to k/2 make the rate of a smaller group meaningless (17 of 17 can be 12 of 22). The
Response page, its export and ``ayaall analyze response`` show these."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses.response import wilson_ci
from disclosure.policy import ReleasePolicy

__all__ = ["release_response_rates", "response_totals"]


def release_response_rates(table: pd.DataFrame, policy: ReleasePolicy) -> pd.DataFrame:
    """A :func:`analyses.response.response_rates` table released: group, n, responders (None where masked),
    rate, ci_lower, ci_upper of the released counts (NaN where either is masked, or the group is released as
    fewer than ``policy.curve_min_n`` patients)."""
    if not policy.active:
        return table.astype({"n": object, "responders": object})
    out = table.copy()
    out["n"] = policy.count_column(table["n"], out.index)
    out["responders"] = policy.count_column(table["responders"], out.index)
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


def response_totals(n: int, responders: int, not_assessed: int, policy: ReleasePolicy) -> dict[str, int | None]:
    """The released totals of a response table: patients who started the line, responders, not assessed."""
    return {"n": policy.count(n), "responders": policy.count(responders), "not_assessed": policy.count(not_assessed)}
