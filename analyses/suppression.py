"""Small-cell suppression of result tables for display and export.

Registry agreements forbid publishing counts of fewer than ``min_cell`` patients (default 11; 0 turns
suppression off) and anything from which such a count can be worked out. These functions take the
tables of :mod:`analyses.km` and :mod:`analyses.cox` and return suppressed *copies*: a masked count is
``None`` (JSON null), the estimates are left alone unless they stand on too few patients. The fitted
results themselves are never changed, so every statistic is computed on all the data.

Rules
-----
1. **Primary.** A count ``c`` with ``0 < c < min_cell`` (patients, at risk, events, censored) is masked.
   Zero is shown: "no events" discloses nobody.
2. **Complements.** Within a group, ``n - events`` (patients without the event) is a count too: when it
   is small the group's ``events`` is masked, so it cannot be subtracted from ``n``.
3. **Totals.** When a total is shown (all groups' n, all groups' events), masking one group's count is
   not enough: total minus the others would reveal it. Further groups are masked, smallest first,
   until the masked counts add up to at least ``min_cell`` and number at least two; if that is
   impossible the total is masked too.
4. **Curves.** A curve stops at the last time with at least ``min_cell`` patients at risk (a group of
   fewer than ``min_cell`` patients has no curve). Per-row events and censorings follow rule 1. The
   at-risk number of a row is shown only when it differs from the previous *shown* at-risk number by 0
   or by at least ``min_cell``; otherwise the drop (events + censorings in between) would be a small
   count, so the row's at-risk is masked and the next row is compared with the last shown one. When a
   group's ``n`` is masked (rule 3), at-risk numbers within ``min_cell`` of it are masked as well, and
   so are all its per-row events and censorings (they would add up to it); when a group's events are
   masked, all its per-row and per-interval event counts are masked (they would add up to them).
5. **Milestones.** As curves: survival after the curve's last shown time is masked, at-risk numbers
   are thinned as in rule 4, and interval events follow rule 1.
6. **Medians, RMST.** A median or a confidence limit beyond the curve's last shown time is masked (it
   rests on fewer than ``min_cell`` patients); a group whose curve is empty loses its median and RMST.
7. **Cox.** ``n`` and ``events`` follow rules 1–2; per-level counts of a dummy term follow rule 1.
   Coefficients are estimates, not counts, and are kept.

Limitations (documented, not hidden): the survival probabilities of a shown curve step by
``d / n_at_risk`` with at least ``min_cell`` at risk, the usual standard for publishing Kaplan–Meier
curves; a determined reader who also knows the censoring pattern could still infer event counts from
step sizes. Test statistics (log-rank, Wald) are reported as computed.

References
----------
Centers for Medicare & Medicaid Services (2020). CMS cell size suppression policy (cells 1–10).
Hundepool A, et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (secondary suppression).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analyses.cox import CoxResult
from analyses.km import KMResult

__all__ = [
    "DEFAULT_MIN_CELL",
    "is_small",
    "mask_count",
    "suppress_cox",
    "suppress_curve",
    "suppress_km",
    "suppress_totals",
]

DEFAULT_MIN_CELL = 11


def is_small(count: float | None, min_cell: int) -> bool:
    """True when ``count`` is a disclosive small count: ``0 < count < min_cell``."""
    return count is not None and not pd.isna(count) and 0 < count < min_cell


def mask_count(count: float | None, min_cell: int) -> int | None:
    """The count as an int, or None when it is small (rule 1)."""
    if count is None or pd.isna(count) or is_small(count, min_cell):
        return None
    return int(count)


def suppress_totals(
    counts: Iterable[float], min_cell: int, also_mask: Iterable[bool] | None = None
) -> tuple[list[int | None], bool]:
    """Rule 3: mask small counts and enough others that the total cannot reveal them.

    Parameters
    ----------
    counts : iterable of numbers
        One count per group.
    min_cell : int
    also_mask : iterable of bool, optional
        Counts to mask for another reason (rule 2).

    Returns
    -------
    (masked counts, whether the total must be masked too)
    """
    values = [int(c) for c in counts]
    masked = [is_small(c, min_cell) for c in values]
    if also_mask is not None:
        masked = [m or bool(a) for m, a in zip(masked, also_mask, strict=True)]
    if min_cell <= 0 or not any(masked):
        return list(values), False

    def exposed() -> bool:
        hidden = [v for v, m in zip(values, masked, strict=True) if m]
        return len(hidden) < 2 or sum(hidden) < min_cell

    order = sorted((i for i in range(len(values)) if not masked[i]), key=lambda i: values[i])
    while exposed() and order:
        masked[order.pop(0)] = True
    return [None if m else v for v, m in zip(values, masked, strict=True)], exposed()


def _object(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    frame = frame.copy()
    for col in columns:
        frame[col] = frame[col].astype(object)
    return frame


def _thin_at_risk(values: Iterable[float], min_cell: int, hidden_n: float | None) -> list[int | None]:
    """Rules 4-5: show an at-risk number only when its drop from the last shown one is 0 or large.

    ``hidden_n`` is a masked group size: numbers within ``min_cell`` of it (including equal) are masked.
    """
    out: list[int | None] = []
    last, last_hidden = (hidden_n, True) if hidden_n is not None else (None, False)
    for value in values:
        if is_small(value, min_cell):
            out.append(None)
            continue
        drop = None if last is None else last - value
        ok = last is None or drop >= min_cell or (drop == 0 and not last_hidden)
        out.append(int(value) if ok else None)
        if ok:
            last, last_hidden = value, False
    return out


def suppress_curve(curve: pd.DataFrame, min_cell: int, hidden_n: float | None = None) -> pd.DataFrame:
    """Rule 4 on one group's curve (columns at_risk, events, censored, plus estimates).

    ``hidden_n`` is the group's size when it is masked by rule 3.
    """
    curve = _object(curve, ["at_risk", "events", "censored"]).reset_index(drop=True)
    if min_cell <= 0:
        return curve
    curve = curve[curve["at_risk"].astype(float) >= min_cell].reset_index(drop=True)
    curve["at_risk"] = pd.Series(_thin_at_risk(curve["at_risk"], min_cell, hidden_n), dtype=object)
    for col in ("events", "censored"):
        curve[col] = pd.Series([mask_count(v, min_cell) for v in curve[col]], dtype=object)
    return curve


def _group_counts(summary: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, bool, bool]:
    summary = _object(summary, ["n", "events"])
    n_masked, hide_n = suppress_totals(summary["n"], min_cell)
    complement = [is_small(n - e, min_cell) for n, e in zip(summary["n"], summary["events"], strict=True)]
    ev_masked, hide_events = suppress_totals(summary["events"], min_cell, also_mask=complement)
    summary["n"] = pd.Series(n_masked, dtype=object, index=summary.index)
    summary["events"] = pd.Series(ev_masked, dtype=object, index=summary.index)
    return summary, hide_n, hide_events


def suppress_km(result: KMResult, min_cell: int = DEFAULT_MIN_CELL) -> tuple[KMResult, dict[str, bool]]:
    """A suppressed copy of a Kaplan–Meier result (rules 1–6).

    Parameters
    ----------
    result : KMResult
    min_cell : int
        Threshold; 0 turns suppression off.

    Returns
    -------
    (KMResult, totals)
        The copy, whose count columns hold ints or None, and ``{"n": hide, "events": hide}`` saying
        whether the overall totals must be masked too.
    """
    if min_cell <= 0:
        return result, {"n": False, "events": False}
    summary, hide_n, hide_events = _group_counts(result.summary, min_cell)
    curves, milestones, last_times = [], [], {}
    for group, n_shown, n_true in zip(summary["group"], summary["n"], result.summary["n"], strict=True):
        hidden_n = n_true if n_shown is None else None
        curve = suppress_curve(result.curve[result.curve["group"] == group], min_cell, hidden_n)
        last_times[group] = curve["time_days"].max() if len(curve) else -np.inf
        ms = _suppress_milestones(result.milestones[result.milestones["group"] == group], min_cell,
                                  last_times[group])
        _thin_jointly(curve, ms, result.curve[result.curve["group"] == group], min_cell, hidden_n)
        if hidden_n is not None:  # per-row counts would add up to the hidden group size
            curve[["events", "censored"]] = None
        if summary.loc[summary["group"] == group, "events"].iloc[0] is None:  # ... or to hidden events
            curve["events"] = None
            ms["events"] = None
        curves.append(curve)
        milestones.append(ms)
    summary = summary.copy()
    for col in ("median_days", "median_ci_lower", "median_ci_upper"):
        summary[col] = [None if pd.isna(v) or v > last_times[g] else v
                        for g, v in zip(summary["group"], summary[col], strict=True)]
    rmst = result.rmst.copy()
    empty = [g for g, t in last_times.items() if t == -np.inf]
    rmst.loc[rmst["group"].isin(empty), ["rmst", "se", "ci_lower", "ci_upper"]] = np.nan
    diff = result.rmst_diff.copy()
    bad = diff["group"].isin(empty) | diff["reference"].isin(empty)
    diff.loc[bad, ["diff", "se", "ci_lower", "ci_upper", "p"]] = np.nan
    copy = dataclasses.replace(
        result,
        curve=pd.concat(curves, ignore_index=True) if curves else result.curve.iloc[:0],
        summary=summary,
        milestones=pd.concat(milestones, ignore_index=True) if milestones else result.milestones,
        rmst=rmst,
        rmst_diff=diff,
    )
    return copy, {"n": hide_n, "events": hide_events}


def _thin_jointly(curve, ms, full_curve, min_cell, hidden_n) -> None:
    """Rules 4-5 over the curve rows and milestones together, so no cross-table difference is small."""
    kept = len(curve)
    times = list(full_curve["time_days"].iloc[:kept]) + list(ms["time_days"])
    values = list(full_curve["at_risk"].iloc[:kept]) + list(ms["at_risk_raw"])
    order = sorted(range(len(times)), key=lambda i: (times[i], i >= kept))
    thinned = _thin_at_risk([values[i] for i in order], min_cell, hidden_n)
    shown: list[int | None] = [None] * len(times)
    for i, v in zip(order, thinned, strict=True):
        shown[i] = v
    curve["at_risk"] = pd.Series(shown[:kept], dtype=object)
    ms["at_risk"] = pd.Series(shown[kept:], dtype=object)
    del ms["at_risk_raw"]


def _suppress_milestones(ms: pd.DataFrame, min_cell: int, last_time: float) -> pd.DataFrame:
    ms = _object(ms, ["at_risk", "events"]).reset_index(drop=True)
    ms["at_risk_raw"] = ms["at_risk"]
    beyond = ms["time_days"] > last_time
    ms.loc[beyond, ["survival", "std_err", "ci_lower", "ci_upper"]] = np.nan
    ms["events"] = pd.Series([mask_count(v, min_cell) for v in ms["events"]], dtype=object)
    return ms


def suppress_cox(result: CoxResult, min_cell: int = DEFAULT_MIN_CELL) -> dict[str, int | None]:
    """Rules 1–2 for a Cox fit: the displayable ``n`` and ``events`` (None when masked)."""
    n, events = result.n, result.events
    if min_cell <= 0:
        return {"n": n, "events": events}
    hide_events = is_small(events, min_cell) or is_small(n - events, min_cell)
    return {"n": mask_count(n, min_cell), "events": None if hide_events else events}
