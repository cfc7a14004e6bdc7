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
   at-risk number of a row is shown only when it differs from the previous *shown* at-risk number
   (curve rows and milestones taken together, in time order) by 0 or by at least ``min_cell``;
   otherwise the drop would be a small count. Between two shown at-risk numbers the row counts add up
   to their difference, so rule 3 applies to each such run of rows (the rows cut off by the
   truncation count as one masked cell of the last run); a run that cannot be protected is masked
   whole. When a group's ``n`` is masked (rule 3), at-risk numbers within ``min_cell`` of it are
   masked, and so are all its per-row counts (they would add up to it); when a group's events are
   masked, all its per-row and per-interval event counts are masked (they would add up to them).
5. **Milestones** (the at-risk table). Survival after the curve's last shown time is masked; interval
   events follow rule 1; at-risk numbers are thinned with the curve (rule 4). Then the table is
   treated as a linear system: split follow-up at the milestone times into parts, with unknown event
   and censoring counts per part; every shown number (n, events, at risk at t_k, events in
   (t_(k-1), t_k]) is one linear equation. While some small sum of events, censorings or both over
   consecutive parts is determined by the equations, the shown interval-events or at-risk number whose
   masking removes most such sums is masked. This aggregates the table until differences of at-risk
   numbers and interval events reveal no small count.
   **The KMunicate risk table** under a figure (:func:`km_risk_table`: at risk at each tick, censored
   and events since the previous tick, up to the curve's last shown time) is protected the same way,
   with the interval censorings as equations too. The figure shows no per-row count of the curve, so
   its at-risk numbers are thinned on their own; but it shows where the curve steps (events) and where
   censor marks are, so a part of follow-up up to the last tick without either counts as a known 0.
   Interval censorings are masked whole when the group's n is masked (they would add up to it), and
   interval events when its n or events are. Publishing this table beside ``suppress_km``'s per-row
   curve counts of the same cohort is not covered: publish one or the other.
6. **Medians, RMST.** A median or a confidence limit beyond the curve's last shown time is masked (it
   rests on fewer than ``min_cell`` patients); a group whose curve is empty loses its median and RMST.
7. **Models** (Cox, time-varying Cox). ``n``, the patients left out and ``events`` follow rules 1–3
   (:func:`model_counts`). Coefficients are estimates, not counts, and are kept.

Limitations (stated, not hidden): a Kaplan–Meier curve's survival probabilities are published at full
precision; each step is ``1 - d / n_at_risk`` with at least ``min_cell`` at risk, the usual standard
for publishing Kaplan–Meier curves, but a reader can solve a step for ``d`` and ``n_at_risk`` (small
integers). Masking counts cannot undo what the curve itself shows; round or smooth the curve for
releases that need more. Test statistics (log-rank, Wald) are reported as computed.

References
----------
Centers for Medicare & Medicaid Services (2020). CMS cell size suppression policy (cells 1–10).
Hundepool A, et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (secondary suppression).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analyses.km import KMResult

__all__ = [
    "DEFAULT_MIN_CELL",
    "WeightedCounts",
    "count_columns",
    "is_small",
    "km_risk_table",
    "landmark_counts",
    "mask_count",
    "model_counts",
    "protect_runs",
    "suppress_curve",
    "suppress_curve_and_points",
    "suppress_group_counts",
    "suppress_km",
    "suppress_totals",
    "thin_at_risk",
]

from ayaall.settings import DEFAULT_MIN_CELL

_ROW_COUNTS = ("events", "competing_events", "censored")


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


def count_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with each count column as Python ints, a masked count as None (not NaN, not a float)."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = pd.Series(
                [None if v is None or pd.isna(v) else int(v) for v in out[col]], index=out.index, dtype=object
            )
    return out


def _object(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    frame = frame.copy()
    for col in columns:
        frame[col] = frame[col].astype(object)
    return frame


def thin_at_risk(values: Iterable[float], min_cell: int, hidden_n: float | None) -> list[int | None]:
    """Rules 4-5: show an at-risk number only when its drop from the last shown one is 0 or large.

    ``hidden_n`` is a masked group size: numbers within ``min_cell`` of it (including equal) are masked.
    A plain loop over Python numbers: each decision depends on the last shown number.
    """
    out: list[int | None] = []
    last, last_hidden = (hidden_n, True) if hidden_n is not None else (None, False)
    for value in values.tolist() if isinstance(values, np.ndarray | pd.Series) else values:
        if 0 < value < min_cell:  # rule 1
            out.append(None)
            continue
        if last is None:
            ok = True
        else:
            drop = last - value
            ok = drop >= min_cell or (drop == 0 and not last_hidden)
        out.append(int(value) if ok else None)
        if ok:
            last, last_hidden = value, False
    return out


def suppress_curve(curve: pd.DataFrame, min_cell: int, hidden_n: float | None = None) -> pd.DataFrame:
    """Rule 4 on one group's curve (columns time_days, at_risk and count columns, plus estimates).

    The count columns are ``events``, ``censored`` and, when present, ``competing_events``.
    ``hidden_n`` is the group's size when it is masked by rule 3.
    """
    return suppress_curve_and_points(curve, min_cell, hidden_n, [])[0]


def _counts_column(values: np.ndarray, hidden: np.ndarray) -> pd.Series:
    """Counts as Python ints in an object column, None where hidden (or missing)."""
    out = np.where(np.isnan(values), 0, values).astype(np.int64).astype(object)
    out[hidden | np.isnan(values)] = None
    return pd.Series(out, dtype=object)


def suppress_curve_and_points(
    curve: pd.DataFrame, min_cell: int, hidden_n: float | None, points: list[tuple[float, float]]
) -> tuple[pd.DataFrame, list[float | None]]:
    """Rule 4, thinning the at-risk numbers of the curve and of ``points`` (time, at_risk) together.

    ``points`` are shown beside the curve (milestones, say); returns the curve as ``suppress_curve``
    does and the points' at-risk numbers: whole numbers, None where masked (as given when
    ``min_cell`` is 0).
    """
    count_cols = [c for c in ("at_risk", *_ROW_COUNTS) if c in curve]
    if min_cell <= 0:
        return _object(curve, count_cols).reset_index(drop=True), [v for _, v in points]
    at_risk = curve["at_risk"].to_numpy(dtype=float)
    keep = at_risk >= min_cell
    remainder = int(at_risk[~keep][0]) if (~keep).any() else 0
    curve = curve[keep].reset_index(drop=True)
    cols = [c for c in _ROW_COUNTS if c in curve]
    true_counts = curve[cols].to_numpy(dtype=float).reshape(len(curve), len(cols))
    # curve rows and points in time order; a point goes after a curve row at the same time
    times = np.r_[curve["time_days"].to_numpy(dtype=float), [float(t) for t, _ in points]]
    values = np.r_[at_risk[keep], [float(v) for _, v in points]]
    order = np.lexsort((np.arange(len(times)) >= len(curve), times))
    shown = np.empty(len(times), dtype=object)
    shown[order] = thin_at_risk(values[order], min_cell, hidden_n)
    hidden = np.isnan(true_counts) | ((true_counts > 0) & (true_counts < min_cell))  # rule 1
    hidden = protect_runs(pd.notna(shown[: len(curve)]), true_counts, hidden, remainder, min_cell)
    curve = curve.assign(at_risk=pd.Series(shown[: len(curve)], dtype=object))
    for j, col in enumerate(cols):
        curve[col] = _counts_column(true_counts[:, j], hidden[:, j])
    return curve, list(shown[len(curve) :])


def protect_runs(
    shown: np.ndarray, true_counts: np.ndarray, hidden: np.ndarray, remainder: int, min_cell: int
) -> np.ndarray:
    """Between two shown at-risk numbers the row counts add up to their difference: rule 3 per run.

    ``shown`` flags the rows whose at-risk number is shown, ``hidden`` (rows x count columns) the
    counts masked so far; returns ``hidden`` with the further masks. A run is the block of rows from
    one shown at-risk number to the next; its cells are taken row by row. The last run also holds the
    rows after the truncation (their total is the first hidden at-risk number), which count as one
    masked cell. Rows before the first shown at-risk number (when the group size is hidden) add up to
    an unknown total and need nothing. Runs whose masked cells already number two or more and add up
    to at least ``min_cell`` are left alone; in the others, further cells are masked smallest first
    (ties in cell order) until they do, or the whole run is masked.
    """
    n_rows, n_cols = true_counts.shape
    starts = np.flatnonzero(shown)
    if len(starts) == 0 or n_cols == 0:
        return hidden
    bounds = np.append(starts, n_rows) * n_cols  # runs as (non-empty) ranges of cells, row by row
    values = true_counts.ravel()
    mask = hidden.ravel().copy()
    hidden_sum = np.add.reduceat(np.where(mask, values, 0.0), bounds[:-1])
    hidden_count = np.add.reduceat(mask.astype(np.int64), bounds[:-1])
    if remainder > 0:
        hidden_sum[-1] += remainder
        hidden_count[-1] += 1
    exposed = (hidden_count > 0) & ((hidden_count < 2) | (hidden_sum < min_cell))
    # the free cells of the exposed runs, each run's smallest first (ties in cell order), all runs at once
    run = np.repeat(np.arange(len(starts)), np.diff(bounds))
    cells = np.arange(bounds[0], bounds[-1])
    free = exposed[run] & ~mask[cells]
    cells, run = cells[free], run[free]
    order = np.lexsort((values[cells], run))  # stable: by run, then value, then cell
    cells, run = cells[order], run[order]
    if len(cells) == 0:
        return mask.reshape(n_rows, n_cols)
    first = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])  # each run's first free cell
    size = np.diff(np.r_[first, len(run)])
    taken = np.arange(1, len(run) + 1) - np.repeat(first, size)  # 1, 2, ... within the run
    # counts are whole numbers: the running sums are exact, whatever the order of the additions
    running = np.cumsum(values[cells])
    running -= np.repeat(running[first] - values[cells[first]], size)
    enough = (hidden_count[run] + taken >= 2) & (hidden_sum[run] + running >= min_cell)
    # mask each run's cells up to its first that is enough, or all of them when none is
    stop = np.minimum.reduceat(np.where(enough, taken, len(run) + 1), first)
    mask[cells[taken <= np.repeat(stop, size)]] = True
    return mask.reshape(n_rows, n_cols)


def suppress_group_counts(summary: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, bool, bool]:
    """Rules 1–3 on a per-group summary (columns group, n, events; others are kept).

    Returns
    -------
    (summary, hide_n, hide_events)
        A copy whose ``n`` and ``events`` hold ints or None, and whether the totals over all groups must
        be masked too. With ``min_cell`` 0 nothing is masked.
    """
    summary = _object(summary, ["n", "events"])
    if min_cell <= 0:
        return summary, False, False
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
    summary, hide_n, hide_events = suppress_group_counts(result.summary, min_cell)
    curves, milestones, last_times = [], [], {}
    for i, group in enumerate(summary["group"]):
        hidden_n = None if summary["n"].iloc[i] is not None else int(result.summary["n"].iloc[i])
        full = result.curve[result.curve["group"] == group].reset_index(drop=True)
        ms = _object(result.milestones[result.milestones["group"] == group], ["at_risk", "events"])
        ms = ms.reset_index(drop=True)
        points = list(zip(ms["time_days"], ms["at_risk"], strict=True))
        curve, ms_at_risk = suppress_curve_and_points(full, min_cell, hidden_n, points)
        last_times[group] = curve["time_days"].max() if len(curve) else -np.inf
        ms.loc[ms["time_days"] > last_times[group], ["survival", "std_err", "ci_lower", "ci_upper"]] = np.nan
        ms["at_risk"] = pd.Series(ms_at_risk, dtype=object)
        ms["events"] = pd.Series([mask_count(v, min_cell) for v in ms["events"]], dtype=object)
        if hidden_n is not None:  # per-row counts would add up to the hidden group size
            curve[["events", "censored"]] = None
        if summary["events"].iloc[i] is None:  # ... or to the hidden events
            curve["events"] = None
            ms["events"] = None
        _protect_milestones(
            full.iloc[1:], curve, ms, min_cell, summary["n"].iloc[i] is not None, summary["events"].iloc[i] is not None
        )
        curves.append(curve)
        milestones.append(ms)
    summary = summary.copy()
    for col in ("median_days", "median_ci_lower", "median_ci_upper"):
        summary[col] = [
            None if pd.isna(v) or v > last_times[g] else v for g, v in zip(summary["group"], summary[col], strict=True)
        ]
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


def km_risk_table(result: KMResult, times: Sequence[float], min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The KMunicate table under a Kaplan–Meier figure, suppressed (rules 1–5, the "risk table" rule).

    Per group, at each of ``times`` up to the group's last shown curve time (rule 4): the number at
    risk, and the patients censored and with the event since the previous time (the first interval
    starts before time 0). Computed from ``result``'s curve, so ``times`` need not be the fit's
    milestones (one fit serves the figure's ticks and the milestone table).

    Parameters
    ----------
    result : KMResult
        The unsuppressed fit.
    times : sequence of float
        The table's times in days (the figure's x ticks), increasing.
    min_cell : int
        Threshold; 0 turns suppression off.

    Returns
    -------
    DataFrame
        group, time_days, at_risk, censored, events; the counts are ints or None (masked).
    """
    t_all = np.asarray(times, dtype=float)
    summary, _, _ = suppress_group_counts(result.summary, min_cell)
    tables = []
    for (group, n_true), n_shown, events_shown in zip(
        result.summary[["group", "n"]].itertuples(index=False), summary["n"], summary["events"], strict=True
    ):
        rows = result.curve[result.curve["group"] == group]
        row_t = rows["time_days"].to_numpy(dtype=float)
        row_at_risk = rows["at_risk"].to_numpy(dtype=float)
        kept = row_at_risk >= min_cell
        t = t_all[t_all <= (row_t[kept].max() if kept.any() else -np.inf)]
        first = np.searchsorted(row_t, t, side="left")
        at_risk = np.where(first < len(rows), row_at_risk[np.minimum(first, len(rows) - 1)], 0.0)
        upto = np.searchsorted(row_t, t, side="right")  # rows at or before each time
        counts = {
            col: np.diff(np.r_[0.0, np.cumsum(rows[col].to_numpy(dtype=float))][upto], prepend=0.0)
            for col in ("censored", "events")
        }
        values = {"at_risk": at_risk, **counts}
        hide = {col: np.zeros(len(t), dtype=bool) for col in values}
        if min_cell > 0:
            hidden_n = None if n_shown is not None else n_true
            hide["at_risk"] = np.array([v is None for v in thin_at_risk(at_risk, min_cell, hidden_n)], dtype=bool)
            small = {col: (v > 0) & (v < min_cell) for col, v in counts.items()}  # rule 1
            # interval counts add up to the group's size (both) and events: masked whole when those are
            hide["censored"] = small["censored"] | (hidden_n is not None)
            hide["events"] = small["events"] | (hidden_n is not None) | (events_shown is None)
            items = [
                (kind, k) for k in range(len(t)) for kind in ("at_risk", "events", "censored") if not hide[kind][k]
            ]
            known = (n_shown is not None, events_shown is not None)
            for kind, k in _protect_table(rows.iloc[1:], t, items, *known, min_cell, drawn=True):
                hide[kind][k] = True
        table = pd.DataFrame({"group": group, "time_days": t})
        for col in ("at_risk", "censored", "events"):
            table[col] = _counts_column(values[col], hide[col])
        tables.append(table)
    columns = ["group", "time_days", "at_risk", "censored", "events"]
    return pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)


def _protect_milestones(full, curve, ms, min_cell, n_known, events_known) -> None:
    """Rule 5's secondary step on the milestone table (and the curve rows that start at its times)."""
    t = ms["time_days"].to_numpy(dtype=float)
    first_row = np.searchsorted(curve["time_days"].to_numpy(dtype=float), t, side="left")
    items: list[tuple[str, int]] = []
    for k in range(len(t)):
        via_curve = first_row[k] < len(curve) and curve["at_risk"].iloc[first_row[k]] is not None
        if ms["at_risk"].iloc[k] is not None or via_curve:
            items.append(("at_risk", k))
        if ms["events"].iloc[k] is not None:
            items.append(("events", k))
    for kind, k in _protect_table(full, t, items, n_known, events_known, min_cell):
        ms.loc[k, kind] = None
        if kind == "at_risk" and first_row[k] < len(curve):
            curve.loc[first_row[k], "at_risk"] = None


def _protect_table(rows, t, items, n_known, events_known, min_cell, drawn=False) -> list[tuple[str, int]]:
    """Rule 5's secondary step: the published items to mask so that no small count follows linearly.

    The group's ``rows`` (time_days, events, censored; unsuppressed) are split at the table's times
    t_1 < ... < t_K into parts [0, t_1), {t_1}, (t_1, t_2), ..., (t_K, inf), with unknown event and
    censoring counts per part. What is published is linear in them: n and the group's events (when
    known), and the ``items`` ``(kind, k)``: the number at risk at t_k (``"at_risk"``), the events or
    the censorings in (t_(k-1), t_k] (``"events"``, ``"censored"``). No sum of events, of censorings or
    of both over consecutive parts whose value is small may lie in the span of what is published; while
    one does, the item whose masking removes most such sums is masked (interval counts before at-risk
    numbers, later before earlier). Returns the masked items in the order chosen.

    ``drawn``: the curve is drawn up to t_K at least, so a reader sees which parts up to t_K hold no
    event (no step) or no censoring (no mark); those parts are known to be 0.
    """
    k_count = len(t)
    if k_count == 0 or not items:
        return []
    n_parts = 2 * k_count + 1
    row_t = rows["time_days"].to_numpy(dtype=float)
    left = np.searchsorted(t, row_t, side="left")
    exact = (left < k_count) & (t[np.minimum(left, k_count - 1)] == row_t)
    part = 2 * left + exact
    events = np.bincount(part, weights=rows["events"].to_numpy(dtype=float), minlength=n_parts)
    censored = np.bincount(part, weights=rows["censored"].to_numpy(dtype=float), minlength=n_parts)

    def vec(a: int, b: int, events: bool = True, censored: bool = True) -> np.ndarray:
        v = np.zeros(2 * n_parts)
        v[a:b] = float(events)
        v[n_parts + a : n_parts + b] = float(censored)
        return v

    # every run of consecutive parts [a, b) whose events, censorings or both add up to a small count
    a, b = np.triu_indices(n_parts + 1, k=1)
    cum_e, cum_c = np.r_[0.0, np.cumsum(events)], np.r_[0.0, np.cumsum(censored)]
    sums = np.stack([cum_e[b] - cum_e[a], cum_c[b] - cum_c[a], cum_e[b] - cum_e[a] + cum_c[b] - cum_c[a]])
    kinds = [(True, False), (False, True), (True, True)]
    sensitive = [vec(a[i], b[i], *kinds[j]) for i in range(len(a)) for j in range(3) if 0 < sums[j, i] < min_cell]
    if not sensitive:
        return []
    sens = np.array(sensitive)
    span = {
        "at_risk": lambda k: vec(2 * k + 1, n_parts),
        "events": lambda k: vec(2 * k, 2 * k + 2, censored=False),
        "censored": lambda k: vec(2 * k, 2 * k + 2, events=False),
    }
    published = [(kind, k, span[kind](k)) for kind, k in items]
    fixed = ([vec(0, n_parts)] if n_known else []) + ([vec(0, n_parts, censored=False)] if events_known else [])
    if drawn:
        fixed += [vec(p, p + 1, censored=False) for p in range(n_parts - 1) if events[p] == 0]
        fixed += [vec(p, p + 1, events=False) for p in range(n_parts - 1) if censored[p] == 0]

    def determined(vectors: np.ndarray, equations: list[np.ndarray]) -> np.ndarray:
        """Which of ``vectors`` lie in the span of ``equations`` (their value follows from them)."""
        if not equations:
            return np.zeros(len(vectors), dtype=bool)
        _, sv, vt = np.linalg.svd(np.array(equations), full_matrices=False)
        basis = vt[sv > 1e-9]
        return np.abs(vectors - (vectors @ basis.T) @ basis).max(axis=1) < 1e-9

    def leaks(published: list[tuple[str, int, np.ndarray]]) -> int:
        return int(determined(sens, fixed + [v for _, _, v in published]).sum())

    # an item that follows from what is known anyway is no use masking (a 0 the figure shows as 0)
    if published:
        redundant = determined(np.array([v for _, _, v in published]), fixed)
        published = [item for item, r in zip(published, redundant, strict=True) if not r]
    masked = []
    while published and leaks(published) > 0:
        best = min(
            range(len(published)),
            key=lambda j: (leaks(published[:j] + published[j + 1 :]), published[j][0] == "at_risk", -j),
        )
        kind, k, _ = published.pop(best)
        masked.append((kind, k))
    return masked


def model_counts(
    n: int, events: int, n_all: int, events_all: int, min_cell: int = DEFAULT_MIN_CELL
) -> dict[str, int | None]:
    """A survival model's displayed patients, events and patients left out, by rules 1-3.

    The cohort's patients ``n_all`` and events ``events_all`` are public (the Survival page, ``analyze
    km``), so the model's ``n`` and the patients it left out (a missing covariate) are two parts of a public
    total (rule 3); its events are masked when small, when the patients without an event (``n - events``)
    or the events left out (``events_all - events``) are a small count (rule 2), and with a masked ``n``.
    The Cox page, the Treatment timing page's models, their exports and ``ayaall analyze cox`` show these.

    Returns
    -------
    dict
        ``n``, ``events``, ``n_dropped``: ints, or None where masked.
    """
    if min_cell <= 0:
        return {"n": n, "events": events, "n_dropped": n_all - n}
    (n_shown, dropped), hide_total = suppress_totals([n, n_all - n], min_cell)
    if hide_total:
        n_shown = dropped = None
    hide_events = n_shown is None or any(is_small(v, min_cell) for v in (events, n - events, events_all - events))
    return {"n": n_shown, "events": None if hide_events else events, "n_dropped": dropped}


@dataclasses.dataclass(frozen=True)
class WeightedCounts:
    """The displayed counts of a weighted (IPTW) comparison of treatments, by rules 1-3.

    The patients on the treatments compared (their number per treatment is public, e.g. from a
    Kaplan-Meier by treatment) split into those analysed, those left out for a missing covariate and
    those trimmed: rule 3 on the three (``flow``). Per treatment, patients and events follow rules 1-3
    and are masked too when what the analysis left out of that treatment (patients, events) is a small
    count; a treatment's events are masked with its patients. A total is masked when the per-treatment
    masking cannot protect it, when the analysed count is masked, or when the patients without an
    event, or the events left out, are a small count. ``ayaall analyze iptw`` and the dashboard's
    Adjusted comparison page both show these.

    Attributes
    ----------
    levels : list of str
        The treatments, in order.
    n_shown, events_shown : list of int or None
        Patients and events analysed per treatment, None where masked.
    total_n, total_events : int or None
        Patients and events analysed in all, None where masked.
    flow : tuple of int or None
        Patients analysed, left out for a missing covariate, trimmed; None where masked.
    """

    levels: list[str]
    n_shown: list[int | None]
    events_shown: list[int | None]
    total_n: int | None
    total_events: int | None
    flow: tuple[int | None, int | None, int | None]

    @classmethod
    def of(
        cls,
        frame: pd.DataFrame,
        data: pd.DataFrame,
        n_complete: int,
        treatment: str,
        levels: Sequence[str],
        min_cell: int = DEFAULT_MIN_CELL,
    ) -> WeightedCounts:
        """From the patients on the treatments (``frame``), those analysed (``data``) and the number
        with every covariate (``n_complete``); both frames hold ``treatment`` and ``event_code``."""
        levels = list(levels)

        def per_level(df: pd.DataFrame) -> tuple[list[int], list[int]]:
            labels, event = df[treatment].astype(str), df["event_code"] == 1
            return [int((labels == g).sum()) for g in levels], [int((event & (labels == g)).sum()) for g in levels]

        n_all, ev_all = per_level(frame)
        n, ev = per_level(data)
        flow, flow_exposed = suppress_totals([len(data), len(frame) - n_complete, n_complete - len(data)], min_cell)
        if flow_exposed:
            flow = [None, None, None]
        n_shown, hide_n = suppress_totals(
            n, min_cell, also_mask=[is_small(a - b, min_cell) for a, b in zip(n_all, n, strict=True)]
        )
        small = [
            is_small(k - e, min_cell) or is_small(ea - e, min_cell) or shown is None
            for k, e, ea, shown in zip(n, ev, ev_all, n_shown, strict=True)
        ]
        ev_shown, hide_events = suppress_totals(ev, min_cell, also_mask=small)
        total_n = None if hide_n or flow[0] is None else len(data)
        hide_events = (
            hide_events
            or total_n is None
            or is_small(len(data) - sum(ev), min_cell)
            or is_small(sum(ev_all) - sum(ev), min_cell)
        )
        return cls(
            levels,
            n_shown,
            ev_shown,
            total_n,
            None if hide_events else mask_count(sum(ev), min_cell),
            (flow[0], flow[1], flow[2]),
        )


def landmark_counts(lm: Any, n_total: int, min_cell: int = DEFAULT_MIN_CELL) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The displayed counts of a landmark analysis (``analyses.timing.fit_landmark``), None where masked.

    The number at risk after a landmark is thinned like a curve's at-risk numbers (rule 4: its drop
    from the cohort of ``n_total``, or from the previous shown landmark, is 0 or at least
    ``min_cell``); exposed and not exposed add up to it (rule 3; both masked with a masked total); a
    group's events follow rules 1-3 and are masked with its size. ``ayaall analyze landmark`` and the
    dashboard's Timing page both show these.

    Returns
    -------
    (landmarks, groups)
        ``landmark_days, at_risk, exposed, unexposed`` per landmark, and ``landmark_days, group, n,
        events`` per landmark and group (the groups of ``lm.summary``).
    """
    table = lm.landmarks.reset_index(drop=True)
    at_risk = thin_at_risk([n_total, *table["n_at_risk"]], min_cell, None)[1:] if min_cell else list(table["n_at_risk"])
    marks: dict[str, list[Any]] = {"landmark_days": [], "at_risk": [], "exposed": [], "unexposed": []}
    groups: dict[str, list[Any]] = {"landmark_days": [], "group": [], "n": [], "events": []}
    for i, row in enumerate(table.to_dict("records")):
        mark = row["landmark_days"]
        parts, hide_total = suppress_totals([row["n_exposed"], row["n_unexposed"]], min_cell)
        total = None if hide_total else at_risk[i]
        if total is None and min_cell:
            parts = [None, None]
        for key, value in zip(marks, (mark, total, *parts), strict=True):
            marks[key].append(value)
        summary = lm.summary[lm.summary["landmark_days"] == mark]
        n_shown = dict(zip(("exposed", "unexposed"), parts, strict=True))
        events, _ = suppress_totals(
            summary["events"],
            min_cell,
            also_mask=[
                is_small(n - e, min_cell) or (min_cell > 0 and n_shown.get(str(g)) is None)
                for g, n, e in zip(summary["group"], summary["n"], summary["events"], strict=True)
            ],
        )
        for g, e in zip(summary["group"], events, strict=True):
            for key, value in zip(groups, (mark, g, n_shown.get(str(g)), e), strict=True):
                groups[key].append(value)

    def frame(columns: dict[str, list[Any]]) -> pd.DataFrame:  # counts as objects: None where masked
        return pd.DataFrame(
            {k: pd.Series(v, dtype=float if k == "landmark_days" else object) for k, v in columns.items()}
        )

    return frame(marks), frame(groups)
