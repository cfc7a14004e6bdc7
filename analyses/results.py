"""Errors, warnings and input checks shared by the survival analyses in ``analyses/``.

``AnalysisError`` is a :class:`ayaall.errors.UserError`: the command line prints its one sentence
without a traceback. ``AnalysisWarning`` flags a fit that ran but deserves caution (too few events per
covariate, for example).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ayaall.errors import UserError

__all__ = ["AnalysisError", "AnalysisWarning", "group_codes", "group_labels", "survival_arrays"]


class AnalysisError(UserError):
    """The data cannot support the requested analysis; the message says why in one sentence."""


class AnalysisWarning(UserWarning):
    """The analysis ran, but its result should be read with caution."""


def survival_arrays(df: pd.DataFrame, duration_col: str, event_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Check and return ``(time, event)`` as float and bool arrays.

    The event column may hold 0/1, booleans, or event codes (0 censored, 1 event, 2 competing, ...):
    only the value 1 (or True) counts as the event; every other code is treated as censored, which is
    what an all-cause analysis of a competing-risks endpoint needs to state explicitly.

    Raises
    ------
    AnalysisError
        When a column is missing, the frame is empty, or a time is negative, missing or infinite, or an
        event code is missing.
    """
    for col in (duration_col, event_col):
        if col not in df.columns:
            raise AnalysisError(f"The data has no column named {col!r}.")
    if len(df) == 0:
        raise AnalysisError("The analysis has no rows to work with (the cohort is empty).")
    time = pd.to_numeric(df[duration_col], errors="coerce").to_numpy(dtype=float)
    if np.isnan(time).any():
        raise AnalysisError(f"Column {duration_col!r} has {int(np.isnan(time).sum())} missing or non-numeric times.")
    if np.isinf(time).any():
        raise AnalysisError(f"Column {duration_col!r} has infinite times.")
    if (time < 0).any():
        raise AnalysisError(
            f"Column {duration_col!r} has {int((time < 0).sum())} negative times (smallest {time.min():g})."
        )
    raw = df[event_col]
    if raw.isna().any():
        raise AnalysisError(f"Column {event_col!r} has {int(raw.isna().sum())} missing event codes.")
    event = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    if np.isnan(event).any():
        raise AnalysisError(f"Column {event_col!r} has non-numeric event codes.")
    return time, event == 1


def group_labels(df: pd.DataFrame, group_col: str) -> np.ndarray:
    """Group values as strings (missing values are an error)."""
    if group_col not in df.columns:
        raise AnalysisError(f"The data has no column named {group_col!r}.")
    col = df[group_col]
    if col.isna().any():
        raise AnalysisError(f"Column {group_col!r} has {int(col.isna().sum())} missing values.")
    return col.astype(str).to_numpy()


def group_codes(df: pd.DataFrame, group_col: str) -> tuple[list[str], np.ndarray] | None:
    """The groups as R sorts factor levels, named as text, and each row's index into them; None when a
    shortcut does not apply (callers then use ``group_labels``).

    The names are ``[str(v) for v in sorted(pd.unique(column))]`` and a row's group is the one whose
    name is ``group_labels``' text of the row, as the callers computed them before, but from one hash
    pass over the rows (no per-row text, no second pass). None when some group's name is not its rows'
    text or two groups share a name, cases the callers' own rules decide. Missing values are an error,
    as in ``group_labels``.
    """
    if group_col not in df.columns:
        raise AnalysisError(f"The data has no column named {group_col!r}.")
    col = df[group_col]
    codes, _ = pd.factorize(col)  # order of first appearance, as pd.unique; missing values -1
    missing = int((codes < 0).sum())
    if missing:
        raise AnalysisError(f"Column {group_col!r} has {missing} missing values.")
    # each group's first row: where the running maximum of the codes steps up
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    rows = col.iloc[first]
    values, text = pd.unique(rows), rows.astype(str).to_numpy()
    order = sorted(range(len(first)), key=lambda i: values[i])
    names = [str(values[i]) for i in order]
    if len(set(names)) < len(names) or names != [text[i] for i in order]:
        return None
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return names, rank[codes]
