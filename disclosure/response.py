"""Small-cell suppression of response rates (``analyses.response.response_rates``): patients, responders
and the patients without an assessment, as the Response page, its export and ``ayaall analyze response``
show them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disclosure.suppression import is_small, mask_count, suppress_totals

__all__ = ["response_totals", "suppress_response_rates"]


def suppress_response_rates(table: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, dict[str, bool]]:
    """Small-cell suppression of a :func:`response_rates` table (rules of :mod:`disclosure.suppression`).

    ``n`` and ``responders`` follow rules 1–3 (the non-responders ``n - responders`` are a count too);
    a masked ``responders`` masks ``rate`` and its interval (they would reveal it given ``n``). Returns
    the copy and ``{"n": hide_total, "responders": hide_total}``.
    """
    out = table.copy().astype({"n": object, "responders": object})
    if min_cell <= 0:
        return out, {"n": False, "responders": False}
    n_masked, hide_n = suppress_totals(table["n"], min_cell)
    complement = [is_small(n - x, min_cell) for n, x in zip(table["n"], table["responders"], strict=True)]
    x_masked, hide_x = suppress_totals(table["responders"], min_cell, also_mask=complement)
    out["n"] = pd.Series(n_masked, dtype=object, index=out.index)
    out["responders"] = pd.Series(x_masked, dtype=object, index=out.index)
    hidden = out["responders"].isna() | out["n"].isna()
    out.loc[hidden, ["rate", "ci_lower", "ci_upper"]] = np.nan
    return out, {"n": hide_n, "responders": hide_x}


def response_totals(
    n: int, responders: int, not_assessed: int, hide: dict[str, bool], min_cell: int
) -> dict[str, int | None]:
    """The displayed totals of a response table: patients who started the line, responders, not assessed.

    ``hide`` is :func:`suppress_response_rates`' second value (a total that would reveal a masked group).
    The non-responders (``n - responders``) and the patients with an assessment (``n - not_assessed``) are
    counts too (rule 2): when one is small, the total beside ``n`` is masked. The Response page, its export
    and ``ayaall analyze response`` show these.
    """
    if min_cell <= 0:
        return {"n": n, "responders": responders, "not_assessed": not_assessed}
    return {
        "n": None if hide["n"] else mask_count(n, min_cell),
        "responders": None
        if hide["responders"] or is_small(n - responders, min_cell)
        else mask_count(responders, min_cell),
        "not_assessed": None if is_small(n - not_assessed, min_cell) else mask_count(not_assessed, min_cell),
    }
