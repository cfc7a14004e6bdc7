"""Cell keys: the perturbation of a count fixed by the patients in it (the cell key method).

Each patient has a secret record key, a random integer below 2**32 drawn at load (``ayaall.records``,
``etl.keys``). A cell's key is the sum of its patients' record keys modulo 2**32: the same patients always
give the same key, wherever and however the cell is asked for, and two sets that differ by even one patient
give unrelated keys. The key picks the cell's perturbation from the perturbation table, here uniform: a
shift of -D to +D patients (D = ``ReleasePolicy.noise``), each for one (2D + 1)-th of the keys. A count of
at least one patient stays at least one; 0 stays 0. ``ReleasePolicy`` perturbs before it rounds.

Why: rounding each count on its own is a deterministic function of the count, so the counts of many
overlapping cohorts (every union of seven values of a filter: 127 cohorts) form a system an integer
programme solves where block edges meet (tests/attacks/test_differencing.py recovered 29 of 49 small counts
so). With the shift depending on the patients, each cohort's count moves by its own unknown amount, and the
system leaves every small count many values. Averaging many differences still estimates a small count to
about ±1 (README, Disclosure control): that residual risk is stated, not hidden.

References
----------
Fraser B, Wooton J (2005). A proposed method for confidentialising tabular output to protect against
differencing. UNECE Work Session on Statistical Data Confidentiality.
Meindl B, et al. cellKey: consistent perturbation of statistical tables (R package, sdcTools).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ayaall.records import KEY_BITS, KEY_SPACE, RECORD_KEY

__all__ = [
    "RECORD_KEY",
    "CurveKeys",
    "cell_key",
    "cell_keys",
    "cumulative_keys",
    "curve_keys",
    "key_difference",
    "key_of",
    "key_sums",
    "place_keys",
    "shift",
    "shifts",
    "text_codes",
]


def cell_key(keys: Any) -> int | None:
    """The cell key of the patients whose record keys are ``keys``; None when any key is missing (a
    database without record keys: no perturbation)."""
    values = pd.Series(keys, dtype="float64") if not isinstance(keys, pd.Series) else keys
    if values.isna().any():
        return None
    return int(np.asarray(values, dtype=np.uint64).sum(dtype=np.uint64) % np.uint64(KEY_SPACE))


def key_sums(codes: Any, size: int, keys: Any) -> np.ndarray:
    """The cell keys of groups ``0 .. size - 1``: the record keys ``keys`` summed by group code ``codes``
    (rows with a negative code belong to none), modulo 2**32, as unsigned integers.

    Exact at any registry size: the low and high 16 bits of the keys are summed apart by ``np.bincount``
    (float64 sums of integers below 2**16 are exact up to 2**37 rows), then put together.
    """
    c = np.asarray(codes, dtype=np.intp)
    k = np.asarray(keys, dtype=np.uint64)
    if c.size and c.min() < 0:
        kept = c >= 0
        c, k = c[kept], k[kept]
    low = np.bincount(c, weights=(k & np.uint64(0xFFFF)).astype(np.float64), minlength=size)
    high = np.bincount(c, weights=(k >> np.uint64(16)).astype(np.float64), minlength=size)
    total = (high.astype(np.uint64) << np.uint64(16)) + low.astype(np.uint64)
    return total % np.uint64(KEY_SPACE)


def text_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each value's code among the distinct values as text (``str``), -1 for a missing value; and the
    texts. Values with the same text (1 and "1") share a code, as they share a row of a table."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if values.dtype == object and len({type(u) for u in uniques}) > 1:  # True and 1 hash alike; not as text
        codes, uniques = pd.factorize(values.map(str, na_action="ignore"), use_na_sentinel=True)
    texts, merged = pd.factorize(pd.Index([str(u) for u in uniques], dtype=object))
    if len(merged) < len(uniques):
        codes = np.where(codes >= 0, texts[np.maximum(codes, 0)], -1)
    return np.asarray(codes, dtype=np.intp), [str(t) for t in merged]


def cell_keys(frame: pd.DataFrame, by: str | Iterable[str], mask: Any = None) -> pd.Series:
    """The cell key of each group of ``frame`` (rows where ``mask`` holds, when given), by ``by``: a Series
    indexed like ``frame.groupby(by)``, None where the frame has no record keys."""
    rows = frame if mask is None else frame[np.asarray(mask, dtype=bool)]
    if RECORD_KEY not in rows.columns:
        keys = [None] * rows.groupby(by, sort=True, observed=True).ngroups
        return pd.Series(keys, index=rows.groupby(by, sort=True, observed=True).size().index, dtype=object)
    return rows.groupby(by, sort=True, observed=True)[RECORD_KEY].agg(cell_key).astype(object)


def key_of(frame: pd.DataFrame, mask: Any = None) -> int | None:
    """The cell key of ``frame``'s rows (where ``mask`` holds); None without record keys."""
    if RECORD_KEY not in frame.columns:
        return None
    rows = frame[RECORD_KEY] if mask is None else frame.loc[np.asarray(mask, dtype=bool), RECORD_KEY]
    return cell_key(rows)


def cumulative_keys(step_keys: Any) -> np.ndarray | None:
    """Cell keys of nested cells from the keys added at each step (cumulative events or censorings along
    a curve): running sums modulo 2**32; None when any step has no key."""
    if step_keys is None:
        return None
    values = list(step_keys)
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
        return None
    return np.cumsum(np.asarray(values, dtype=np.uint64) % np.uint64(KEY_SPACE), dtype=np.uint64) % np.uint64(KEY_SPACE)


def key_difference(a: int | None, b: int | None) -> int | None:
    """The key of the patients of cell ``a`` not in its sub-cell ``b``."""
    return None if a is None or b is None else int((a - b) % KEY_SPACE)


def shift(key: int | None, noise: int) -> int:
    """The perturbation of a cell with key ``key``: -noise to +noise, each for an equal share of keys."""
    if key is None or noise <= 0:
        return 0
    return int((int(key) * (2 * noise + 1)) >> KEY_BITS) - noise


def shifts(keys: np.ndarray | None, noise: int, size: int) -> np.ndarray:
    """:func:`shift` of each key (zeros without keys)."""
    if keys is None or noise <= 0:
        return np.zeros(size)
    k = np.asarray(keys, dtype=np.uint64)
    return ((k * np.uint64(2 * noise + 1)) >> np.uint64(KEY_BITS)).astype(float) - noise


@dataclass(frozen=True)
class CurveKeys:
    """The cell keys a released curve needs: per group and time, the keys of the patients leaving (or
    entering) there, by way (``steps``: group, time_days, one column per way: events, censored, ...), and
    each group's key (``groups``). Built by :func:`curve_keys` from the rows the curve is fitted on."""

    steps: pd.DataFrame
    groups: dict[Any, int | None]

    def at(self, group: Any, times: np.ndarray, way: str) -> np.ndarray | None:
        """The key sums of ``way`` at each of ``times`` of ``group`` (0 where nobody); None without keys."""
        if way not in self.steps.columns:
            return None
        rows = self.steps[self.steps["group"] == group]
        if rows[way].isna().any():
            return None
        table = pd.Series(rows[way].to_numpy(dtype=np.int64), index=rows["time_days"].to_numpy(dtype=float))
        found = table.reindex(np.asarray(times, dtype=float), fill_value=0)
        return found.to_numpy(dtype=np.uint64)

    def group(self, group: Any) -> int | None:
        return self.groups.get(group)


def curve_keys(
    frame: pd.DataFrame, group_col: str | None, time_col: str, ways: dict[str, Any], *, group_mask: Any = None
) -> CurveKeys | None:
    """:class:`CurveKeys` of ``frame`` (times as the curve uses them, e.g. on the grid): for each way (a name
    and a boolean mask over the rows, e.g. ``{"events": code == 1, "censored": code == 0}``) the record
    keys summed by group and time; each group's key over the rows of ``group_mask`` (default: all; the
    patients a group starts with). None when the frame has no record keys."""
    if RECORD_KEY not in frame.columns or frame[RECORD_KEY].isna().any():
        return None
    keys = frame[RECORD_KEY].to_numpy(dtype=np.uint64)
    gcodes, gnames = _group_codes(frame[group_col]) if group_col else (np.zeros(len(frame), dtype=np.intp), ["all"])
    times = frame[time_col].to_numpy(dtype=float)
    masks = {way: np.asarray(mask, dtype=bool) for way, mask in ways.items()}
    anywhere = np.logical_or.reduce(list(masks.values())) if masks else np.zeros(len(frame), dtype=bool)
    tvals, tcodes = np.unique(times[anywhere], return_inverse=True)
    cells, inverse = np.unique(gcodes[anywhere] * len(tvals) + tcodes, return_inverse=True)
    steps = pd.DataFrame(
        {
            "group": np.asarray(gnames, dtype=object)[cells // max(len(tvals), 1)],
            "time_days": tvals[cells % max(len(tvals), 1)] if len(tvals) else np.zeros(0),
        }
    )
    for way, m in masks.items():
        sub = m[anywhere]
        steps[way] = key_sums(inverse[sub], len(cells), keys[anywhere][sub]).astype(np.int64)
    base = np.ones(len(frame), dtype=bool) if group_mask is None else np.asarray(group_mask, dtype=bool)
    sizes = np.bincount(gcodes[base], minlength=len(gnames))
    sums = key_sums(gcodes[base], len(gnames), keys[base])
    by_group: dict[Any, int | None] = {g: int(k) for g, k, n in zip(gnames, sums, sizes, strict=True) if n}
    return CurveKeys(steps=steps, groups=by_group)


def _group_codes(labels: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes of ``labels`` as text, in sorted order of the texts (a missing label is "nan", as ``astype(str)``
    writes it)."""
    codes, names = text_codes(labels)
    if (codes < 0).any():
        if "nan" not in names:
            names = [*names, "nan"]
        codes = np.where(codes < 0, names.index("nan"), codes)
    order = np.argsort(np.asarray(names, dtype=object), kind="stable")
    rank = np.empty(len(names), dtype=np.intp)
    rank[order] = np.arange(len(names))
    return rank[codes], [names[i] for i in order]


def place_keys(values: np.ndarray | None, index: np.ndarray, size: int) -> np.ndarray | None:
    """Key sums at given positions summed onto grid positions ``index`` (modulo 2**32); None stays None."""
    if values is None:
        return None
    out = np.zeros(size, dtype=np.uint64)
    np.add.at(out, index, np.asarray(values, dtype=np.uint64) % np.uint64(KEY_SPACE))
    return out % np.uint64(KEY_SPACE)
