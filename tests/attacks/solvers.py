"""The attacker's arithmetic: step inversion of product-limit and Aalen–Johansen curves, and exact integer
programmes (``scipy.optimize.milp``) that give the least and greatest value a released table allows.

Inversion (issue 12, hole 1). A product-limit step is f = 1 - S(t)/S(t-) = d/n; the log-log limits give the
standard error of log S, sqrt(V), with V(t) - V(t-) = d/(n(n - d)) (Greenwood), so n = f/(g(1 - f)) and
d = f n. Every integer pair (n, d) consistent with a step, within the precision the release carries, is a
candidate; along a curve without late entry n(t_next) <= n(t) - d(t), which prunes the candidates (arc
consistency on the chain of steps). A step is recovered when one candidate is left.

References
----------
Greenwood M (1926). The natural duration of cancer. Reports on Public Health and Medical Subjects 33.
Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed., section 1.4.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.stats import norm

from attacks.harness import BIG, Curve

__all__ = [
    "IntegerModel",
    "Step",
    "block_steps",
    "invert_aalen_johansen",
    "invert_product_limit",
    "loglog_variance",
    "smooth_counts",
]

_F_TOL = 1e-11  # a full-precision step: f is known to about 1e-15
_G_RTOL = 1e-6  # ... and the Greenwood increment to far better than this


@dataclass
class Step:
    """One step of a curve: its row, time and the integer (n, d[, d2]) pairs the release allows."""

    row: int
    time: float
    candidates: np.ndarray  # columns n, d (and d2 for a competing cause)

    @property
    def n_values(self) -> set[int]:
        return set(self.candidates[:, 0].tolist())

    def values(self, column: int) -> tuple[int, int]:
        col = self.candidates[:, column]
        return int(col.min()), int(col.max())


def loglog_variance(s: np.ndarray, limit: np.ndarray, conf_level: float = 0.95) -> np.ndarray:
    """Var(log S) from a log-log confidence limit (R ``survfit``'s ``conf.type = "log-log"``):
    log(-log L) = log(-log S) -+ z sqrt(V) / log S."""
    z = norm.ppf(0.5 + conf_level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = np.log(s)
        sd = np.abs(np.log(-np.log(limit)) - np.log(-ls)) * np.abs(ls) / z
    return np.where((s > 0) & (s < 1) & (limit > 0) & (limit < 1), sd**2, np.nan)


def _pairs(f_lo: float, f_hi: float, n_max: int) -> np.ndarray:
    """Integer (n, d), 1 <= d <= n <= n_max, with f_lo <= d/n <= f_hi."""
    n = np.arange(1, max(n_max, 1) + 1, dtype=float)
    d_lo = np.maximum(np.ceil(f_lo * n - 1e-9), 1)
    d_hi = np.minimum(np.floor(f_hi * n + 1e-9), n)
    width = int(np.max(d_hi - d_lo, initial=-1)) + 1
    out = []
    for extra in range(max(width, 0)):
        d = d_lo + extra
        ok = d <= d_hi
        out.append(np.c_[n[ok], d[ok]])
    return np.concatenate(out).astype(np.int64) if out else np.zeros((0, 2), dtype=np.int64)


def _prune_chain(steps: list[Step], n_max: int, late_entry: bool) -> bool:
    """Arc consistency on n(next) <= n - d (- d2); False when some step has no candidate left."""
    if not steps:
        return True
    steps[0].candidates = steps[0].candidates[steps[0].candidates[:, 0] <= n_max]
    if late_entry:
        return all(len(s.candidates) for s in steps)
    for _ in range(6):
        changed = False
        for a, b in itertools.pairwise(steps):  # forward: n(b) <= max(n - d) of a
            if not len(a.candidates):
                return False
            out = a.candidates[:, 0] - a.candidates[:, 1:].sum(axis=1)
            keep = b.candidates[:, 0] <= out.max()
            changed |= not keep.all()
            b.candidates = b.candidates[keep]
        for a, b in zip(steps[-2::-1], steps[:0:-1], strict=False):  # backward: n - d of a >= min n(b)
            if not len(b.candidates):
                return False
            out = a.candidates[:, 0] - a.candidates[:, 1:].sum(axis=1)
            keep = out >= b.candidates[:, 0].min()
            changed |= not keep.all()
            a.candidates = a.candidates[keep]
        if not changed:
            break
    return all(len(s.candidates) for s in steps)


def invert_product_limit(
    curve: Curve,
    n_max: int = BIG,
    *,
    decimals: int | None = None,
    late_entry: bool = False,
    conf_level: float = 0.95,
) -> list[Step] | None:
    """The steps of a product-limit curve (Kaplan–Meier, landmark, Simon–Makuch, weighted) with their
    candidate (n, d), or None when the curve is not the product limit of integer counts (some step has no
    candidate: a weighted curve, or one estimated from rounded counts).

    ``decimals``: the curve is rounded to this many decimals (an export); None: full precision (the
    browser's figure). ``late_entry``: numbers at risk may grow (Simon–Makuch), no chain pruning.
    """
    s = np.asarray(curve.y, dtype=float)
    n_max = int(min(n_max, 20000))
    h = 0.0 if decimals is None else 0.5 * 10.0**-decimals
    variance = None
    if decimals is None and curve.lower is not None:
        variance = loglog_variance(s, np.asarray(curve.lower, dtype=float), conf_level)
        v_up = loglog_variance(s, np.asarray(curve.upper, dtype=float), conf_level)
        variance = np.where(np.isnan(variance), v_up, variance)
    steps: list[Step] = []
    for j in range(1, len(s)):
        prev, now = s[j - 1], s[j]
        if prev <= 0 or (now >= prev - h * 2.0000001 and h > 0) or (h == 0 and now >= prev):
            continue
        if h == 0:
            f = 1 - now / prev
            f_lo, f_hi = f - _F_TOL, f + _F_TOL
        else:
            f_lo, f_hi = 1 - (now + h) / max(prev - h, 1e-12), 1 - max(now - h, 0) / (prev + h)
        cands = _pairs(max(f_lo, 0.0), min(f_hi, 1.0), n_max)
        if variance is not None and now > 0:
            v_prev = 0.0 if prev >= 1 else variance[j - 1]
            g = variance[j] - v_prev
            if np.isfinite(g) and g > 0:
                n, d = cands[:, 0].astype(float), cands[:, 1].astype(float)
                with np.errstate(divide="ignore"):
                    gc = d / (n * (n - d))
                cands = cands[np.abs(gc - g) <= _G_RTOL * g + 1e-15]
        steps.append(Step(j, float(curve.x[j]), cands))
    if not _prune_chain(steps, n_max, late_entry):
        return None
    return steps


def smooth_counts(curve: Curve, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The (real) numbers at risk and events a full-precision product-limit curve was computed from, at
    its steps: n = f/(g(1 - f)), d = f n; (rows, n, d), or None without limits."""
    if curve.lower is None:
        return None
    s = np.asarray(curve.y, dtype=float)
    v = loglog_variance(s, np.asarray(curve.lower, dtype=float), conf_level)
    v = np.where(np.isnan(v), loglog_variance(s, np.asarray(curve.upper, dtype=float), conf_level), v)
    v = np.where(s >= 1, 0.0, v)
    rows = np.flatnonzero((s[1:] < s[:-1]) & (s[:-1] > 0)) + 1
    f = 1 - s[rows] / s[rows - 1]
    g = v[rows] - v[rows - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        n = f / (g * (1 - f))
    return rows, n, f * n


def block_steps(d: np.ndarray, k: int, noise: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on each step's events when a curve is estimated from cumulative counts rounded in blocks of
    ``k`` and interpolated within them (``disclosure.curves``): the smooth cumulative count at a time lies
    in the perturbed count's block, within ``noise`` of the true one, so a step's events lie between the
    widened blocks' ends."""
    cum = np.cumsum(np.nan_to_num(d))
    block = np.ceil(cum / k - 1e-6)
    lo = np.where(block > 0, np.maximum(k * (block - 1) + 1 - noise, 1), 0)
    hi = np.where(block > 0, k * block + noise, 0)
    prev_lo, prev_hi = np.r_[0, lo[:-1]], np.r_[0, hi[:-1]]
    return np.maximum(lo - prev_hi, 0), hi - prev_lo


def invert_aalen_johansen(
    event: Curve, competing: Curve | None, n_max: int = BIG, *, decimals: int | None = None
) -> list[Step] | None:
    """Steps of cumulative incidence curves (the event of interest and, when shown, the competing one, on
    the same times): S(t-) = 1 - F1(t-) - F2(t-), each cause's step d_c / n = dF_c / S(t-); candidates
    (n, d1, d2) with the chain n(next) <= n - d1 - d2. None when inconsistent (see above)."""
    f1 = np.asarray(event.y, dtype=float)
    if competing is not None and len(competing.y) == len(f1) and np.allclose(competing.x, event.x):
        f2 = np.asarray(competing.y, dtype=float)
    else:
        return None  # without the competing curve S(t-) is unknown: not attacked here
    n_max = int(min(n_max, 20000))
    h = 0.0 if decimals is None else 0.5 * 10.0**-decimals
    steps: list[Step] = []
    n = np.arange(1, n_max + 1, dtype=float)
    for j in range(1, len(f1)):
        d1f, d2f = f1[j] - f1[j - 1], f2[j] - f2[j - 1]
        if d1f <= 2 * h and d2f <= 2 * h:
            continue
        surv = 1 - f1[j - 1] - f2[j - 1]
        if surv <= 0:
            continue
        tol = _F_TOL if h == 0 else 0
        cols = []
        ok = np.ones(len(n), dtype=bool)
        for df in (d1f, d2f):
            lo = max(df - 2 * h, 0) / (surv + 2 * h) - tol
            hi = (df + 2 * h) / max(surv - 2 * h, 1e-12) + tol
            d_lo, d_hi = np.ceil(lo * n - 1e-9), np.floor(hi * n + 1e-9)
            ok &= (d_lo <= d_hi) & (d_hi >= 0)
            if h > 0:  # rounded: only the first value of each cause's range is kept (a lower bound)
                d_hi = d_lo
            cols.append(np.maximum(d_lo, 0))
        cands = np.c_[n[ok], cols[0][ok], cols[1][ok]].astype(np.int64)
        cands = cands[(cands[:, 1] + cands[:, 2] >= 1) & (cands[:, 1] + cands[:, 2] <= cands[:, 0])]
        if h > 0:
            return None  # rounded incidence curves: not inverted (the interval reasoning needs both causes' ranges)
        steps.append(Step(j, float(event.x[j]), cands))
    if not _prune_chain(steps, n_max, late_entry=False):
        return None
    return steps


# ----------------------------------------------------------------------------------- integer programmes
@dataclass
class IntegerModel:
    """An integer programme built by name: non-negative integer variables, linear equalities and bounds
    on sums. :meth:`interval` gives the least and greatest value of a linear expression."""

    upper: float = BIG
    names: dict[str, int] = field(default_factory=dict)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    var_bounds: dict[int, tuple[float, float]] = field(default_factory=dict)

    def var(self, name: str, lo: float = 0, hi: float | None = None) -> int:
        if name not in self.names:
            self.names[name] = len(self.names)
        i = self.names[name]
        old = self.var_bounds.get(i, (0.0, float(self.upper)))
        new = (max(old[0], lo), min(old[1], self.upper if hi is None else hi))
        if new != old or i not in self.var_bounds:
            self.var_bounds[i] = new
            self._version = getattr(self, "_version", 0) + 1
        return i

    def add(self, terms: Mapping[str, float] | Sequence[str], lo: float, hi: float) -> None:
        """lo <= sum of terms <= hi (terms: names with coefficients, or names each with coefficient 1)."""
        coef = dict(terms) if isinstance(terms, Mapping) else {t: 1.0 for t in terms}
        row: dict[int, float] = {}
        for name, c in coef.items():
            i = self.var(name)
            row[i] = row.get(i, 0.0) + c
        self.rows.append((row, lo, hi))
        self._version = getattr(self, "_version", 0) + 1

    def _reduce(self) -> dict[str, Any]:
        """The programme with every equality between two variables (a - b = c) or fixing one (a = c)
        substituted away (a weighted union-find), so the solver sees only the free part; cached."""
        key = getattr(self, "_version", 0)
        if getattr(self, "_reduced", None) is not None and self._reduced["key"] == key:
            return self._reduced
        m = len(self.names)
        const = m  # a pseudo-variable fixed at 0
        parent, offset = list(range(m + 1)), [0.0] * (m + 1)
        bad = False

        def find(v: int) -> tuple[int, float]:
            path = []
            while parent[v] != v:
                path.append(v)
                v = parent[v]
            root, total = v, 0.0
            for u in reversed(path):  # compress: offsets relative to the root
                total += offset[u]
                offset[u], parent[u] = total, root
            return root, offset[path[0]] if path else 0.0

        def union(a: int, b: int, c: float) -> None:  # value(a) = value(b) + c
            nonlocal bad
            (ra, oa), (rb, ob) = find(a), find(b)
            shift = ob + c - oa  # value(ra) = value(rb) + shift
            if ra == rb:
                bad |= abs(shift) > 1e-9
            elif ra == const:
                parent[rb], offset[rb] = ra, -shift
            else:
                parent[ra], offset[ra] = rb, shift

        rest = []
        for row, lo, hi in self.rows:
            items = [(i, c) for i, c in row.items() if c != 0]
            if lo == hi and len(items) == 1:
                ((i, c),) = items
                union(i, const, lo / c)
            elif lo == hi and len(items) == 2 and sorted(c for _, c in items) == [-1.0, 1.0]:
                (a, _), (b, _) = sorted(items, key=lambda t: -t[1])
                union(a, b, lo)
            else:
                rest.append((items, lo, hi))
        roots = sorted({find(i)[0] for i in range(m)} - {const})
        index = {r: j for j, r in enumerate(roots)}
        bounds = np.tile([-np.inf, np.inf], (len(roots), 1)).astype(float)
        for i in range(m):
            lo_i, hi_i = self.var_bounds.get(i, (0.0, self.upper))
            r, off = find(i)
            if r == const:
                bad |= not (lo_i - 1e-9 <= off <= hi_i + 1e-9)
            else:
                j = index[r]
                bounds[j] = [max(bounds[j, 0], lo_i - off), min(bounds[j, 1], hi_i - off)]
        rows = []
        for items, lo, hi in rest:
            coef: dict[int, float] = {}
            shift = 0.0
            for i, c in items:
                r, off = find(i)
                shift += c * off
                if r != const:
                    coef[index[r]] = coef.get(index[r], 0.0) + c
            coef = {j: c for j, c in coef.items() if abs(c) > 1e-12}
            if not coef:
                bad |= not (lo - 1e-9 <= shift <= hi + 1e-9)
            else:
                rows.append((coef, lo - shift, hi - shift))
        bad |= bool((bounds[:, 0] > bounds[:, 1] + 1e-9).any())
        self._reduced = {
            "key": key,
            "find": find,
            "index": index,
            "const": const,
            "rows": rows,
            "bounds": bounds,
            "bad": bad,
        }
        return self._reduced

    def _matrices(self) -> tuple[Any, np.ndarray, np.ndarray, Bounds]:
        from scipy.sparse import coo_matrix

        red = self._reduce()
        if "matrices" in red:
            return red["matrices"]
        m = len(red["index"])
        r_idx, c_idx, vals = [], [], []
        for r, (row, _, _) in enumerate(red["rows"]):
            r_idx += [r] * len(row)
            c_idx += list(row)
            vals += list(row.values())
        a = coo_matrix((vals, (r_idx, c_idx)), shape=(len(red["rows"]), m)).tocsr()
        lo = np.array([r[1] for r in red["rows"]], dtype=float)
        hi = np.array([r[2] for r in red["rows"]], dtype=float)
        b = red["bounds"]
        red["matrices"] = (a, lo, hi, Bounds(b[:, 0], b[:, 1]))
        return red["matrices"]

    def feasible(self) -> bool:
        red = self._reduce()
        return not red["bad"] and self._solve(np.zeros(len(red["index"]))) is not None

    def _solve(self, c: np.ndarray) -> float | None:
        red = self._reduce()
        if red["bad"]:
            return None
        a, lo, hi, bounds = self._matrices()
        if len(c) == 0:
            return 0.0
        constraints = [LinearConstraint(a, lo, hi)] if len(red["rows"]) else []
        res = milp(
            c,
            constraints=constraints,
            integrality=np.ones(len(c)),
            bounds=bounds,
            options={"time_limit": 20, "presolve": True},
        )
        if res.status != 0 or res.x is None:
            return None
        return float(c @ np.round(res.x))

    def interval(self, terms: Mapping[str, float] | Sequence[str]) -> tuple[float, float] | None:
        """The least and greatest value of the expression; None when the programme is infeasible."""
        coef = dict(terms) if isinstance(terms, Mapping) else {t: 1.0 for t in terms}
        for name in coef:
            self.var(name)
        red = self._reduce()
        c = np.zeros(len(red["index"]))
        shift = 0.0
        for name, v in coef.items():
            r, off = red["find"](self.names[name])
            shift += v * off
            if r != red["const"]:
                c[red["index"][r]] += v
        if not c.any():
            return (shift, shift) if self.feasible() else None
        lo = self._solve(c)
        hi = self._solve(-c)
        if lo is None or hi is None:
            return None
        return lo + shift, -hi + shift
