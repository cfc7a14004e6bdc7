"""Rounding of exported estimates.

Every export (figure, CSV, XLSX) shows estimates rounded to ``decimals`` places (default 4), as the
methods text and the manifest state. A Kaplan–Meier step is ``1 - d/n`` and at full precision a reader
can solve it for ``d`` and ``n``; rounding makes that harder for large ``n`` but not impossible for
small ones, which is why curves also stop where fewer than ``min_cell`` remain at risk
(``disclosure.curves``). p-values keep four significant digits (a small p would round to 0).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["round_columns", "round_p"]


def round_columns(frame: pd.DataFrame, columns: Iterable[str], decimals: int) -> pd.DataFrame:
    """A copy with ``columns`` (those present) rounded to ``decimals`` places; missing values stay missing."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).round(decimals)
    return out


def round_p(frame: pd.DataFrame, columns: Iterable[str] = ("p", "p_adjusted")) -> pd.DataFrame:
    """A copy with p-value columns at four significant digits."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            values = pd.to_numeric(out[col], errors="coerce").astype(float)
            out[col] = [v if np.isnan(v) or v == 0 else float(f"{v:.4g}") for v in values]
    return out
