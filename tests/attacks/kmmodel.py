"""The integer programme of a Kaplan–Meier group's release (attacks 2 and 5).

Per group, the unknowns are the true cumulative events X(t) and censorings Y(t) at every time that matters
and the group size N. What the release shows is linear in them: each inverted curve step (at risk
N - X(t-) - Y(t-) = n, events X(t) - X(t-) = d), the curve's flat stretches and censor marks, the group's
patients and events, and every shown cell of a risk table. Under the session-start code a shown count is
exact; under a stated rounding policy it bounds the true count by its block (derived numbers, such as the
number at risk, by the blocks of the counts they come from), and the curve, estimated from interpolated
rounded cumulative counts, bounds X and Y by blocks at each of its times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from attacks.harness import BIG, Curve, Release, parse_count, risk_table, tables
from attacks.solvers import IntegerModel, invert_product_limit, smooth_counts

__all__ = [
    "GroupModel",
    "Table",
    "block_constraints",
    "build",
    "curve_points",
    "drop_beyond",
    "grid_down",
    "grid_up",
    "page_tables",
    "shown_counts",
    "to_int",
]

_INF = 1e9


@dataclass
class Table:
    """One group's shown risk-table cells: tick time -> (at risk, censored, events) as shown (None masked);
    ``cumulative``: censored and events count from the origin (the stated policy's table) rather than since
    the previous tick."""

    ticks: list[float]
    at_risk: list[int | None]
    censored: list[int | None] | None  # None: not released at all (analyze's milestones)
    events: list[int | None]
    cumulative: bool = False
    rows: pd.DataFrame | None = None  # analyze km: per-row time_days, at_risk, events, censored


@dataclass
class GroupModel:
    """One group's unknowns in an integer programme (names prefixed, so that several groups or cohorts can
    share one programme): N, and the cumulative events X and censorings Y at each of ``points``."""

    release: Release
    points: list[float]
    model: IntegerModel = field(default_factory=IntegerModel)
    prefix: str = ""

    @property
    def n(self) -> str:
        return f"{self.prefix}N"

    def at(self, name: str, i: int) -> str:
        return f"{self.prefix}{name}{i}" if i >= 0 else "zero"

    def x(self, t: float) -> str:
        return self._at("X", t)

    def y(self, t: float) -> str:
        return self._at("Y", t)

    def _at(self, name: str, t: float) -> str:
        """The cumulative variable at the last point at or before ``t`` (0 before the first)."""
        return self.at(name, int(np.searchsorted(self.points, t + 1e-9, side="right")) - 1)

    def before(self, t: float) -> float:
        i = int(np.searchsorted(self.points, t - 1e-9, side="left")) - 1
        return self.points[i] if i >= 0 else -math.inf


def grid_up(t: float, g: float) -> float:
    return g * math.ceil(t / g - 1e-9)


def grid_down(t: float, g: float) -> float:
    return g * math.floor(t / g + 1e-9)


def build(
    curve: Curve,
    table: Table,
    n_shown: int | None,
    events_shown: int | None,
    release: Release,
    decimals: int | None = None,
    *,
    model: IntegerModel | None = None,
    prefix: str = "",
    points: Sequence[float] = (),
) -> GroupModel:
    """The integer programme of one group (module docstring), in ``model`` when given, with the further
    time ``points`` (another cohort's, to compare the two)."""
    g = release.grid
    x_rows = np.unique(curve.x)
    last_row = float(x_rows.max())
    blocks = block_constraints(curve, n_shown, release) if release.rounded and decimals is None else []
    found = set(curve_points(curve, n_shown, release) if release.rounded else x_rows.tolist()) | set(points)
    for t in table.ticks:
        found |= {grid_down(t, g), grid_up(t, g) - g, t}
    pts = [*sorted(p for p in found if 0 <= p < _INF), _INF]  # before 0: nothing yet ('zero')
    gm = GroupModel(release, pts, model or IntegerModel(), prefix)
    m = gm.model
    m.var("zero", 0, 0)
    m.var(gm.n)
    for i in range(len(pts)):
        for name in ("X", "Y"):
            m.add({gm.at(name, i): 1, **({gm.at(name, i - 1): -1} if i else {})}, 0, BIG)
    last = len(pts) - 1
    m.add({gm.n: 1, gm.at("X", last): -1, gm.at("Y", last): -1}, 0, 0)
    m.add([gm.n], *release.bounds(n_shown))
    m.add([gm.at("X", last)], *release.bounds(events_shown))

    if release.rounded:  # (a curve rounded to decimals: its limits do not give its smooth counts)
        for name, t, lo, hi in blocks:
            m.add([gm.x(t) if name == "X" else gm.y(t)], lo, hi)
    else:
        _curve_exact(gm, curve, x_rows, last_row, decimals)
    _table(gm, table)
    return gm


def _curve_exact(gm: GroupModel, curve: Curve, x_rows: np.ndarray, last_row: float, decimals: int | None) -> None:
    """Session-start curves: a row at every time with an event or a censoring up to the last shown one;
    steps solved exactly; a censor mark where some were censored (when the payload marks them). A curve
    rounded to ``decimals``: only its unique step solutions, no flat stretch taken for certain."""
    m = gm.model
    steps = invert_product_limit(curve, BIG, decimals=decimals)
    stepped = {}
    for s in steps or []:
        if len(s.candidates) == 1:
            stepped[s.time] = (int(s.candidates[0, 0]), int(s.candidates[0, 1]))
    marks = None if curve.marks is None else set(np.round(curve.marks, 6).tolist())
    for i, t in enumerate(gm.points[:-1]):
        if t > last_row:
            break
        prev_x, prev_y = gm.x(gm.before(t)), gm.y(gm.before(t))
        if t in stepped:
            n, d = stepped[t]
            m.add({gm.n: 1, prev_x: -1, prev_y: -1}, n, n)
            m.add({gm.at("X", i): 1, prev_x: -1}, d, d)
        elif steps is not None and (t not in x_rows or (decimals is None and _flat(curve, t))):
            m.add({gm.at("X", i): 1, prev_x: -1}, 0, 0)
        if t > 0 and marks is not None and t in marks:
            m.add({gm.at("Y", i): 1, prev_y: -1}, 1, BIG)
        elif t > 0 and (marks is not None or t not in x_rows):
            m.add({gm.at("Y", i): 1, prev_y: -1}, 0, 0)


def _flat(curve: Curve, t: float) -> bool:
    at = np.flatnonzero(curve.x == t)
    before = at[0] - 1
    return before >= 0 and curve.y[at[-1]] == curve.y[before]


def block_constraints(curve: Curve, n_shown: int | None, release: Release) -> list[tuple[str, float, int, int]]:
    """A curve estimated from interpolated rounded cumulative counts: at each of its times the smooth
    cumulative events (and, with the released group size, censorings) lie in the true counts' blocks.
    Returns (X or Y, time, least, greatest), kept only where a run of one block starts or ends (the times
    between follow from the counts' monotony)."""
    found = smooth_counts(curve)
    if found is None:
        return []
    rows, n, d = found
    k, noise = release.base, release.noise
    cum_e = np.zeros(len(curve.x))
    cum_e[rows] = d
    cum_e = np.cumsum(np.nan_to_num(cum_e))

    def block(value: float) -> tuple[int, int]:
        # the block of the perturbed count (kept non-decreasing): the true count is within noise of it
        b = math.ceil(value / k - 1e-6)
        return (max(1, k * (b - 1) + 1 - noise) if b > 0 else 0, k * b + noise if b > 0 else 0)

    raw: dict[str, list[tuple[float, tuple[int, int]]]] = {"X": [], "Y": []}
    for j, t in enumerate(curve.x):
        if j + 1 < len(curve.x) and curve.x[j + 1] == t:
            continue  # the origin's row before a step at time 0
        raw["X"].append((float(t), block(cum_e[j])))
    if n_shown is not None:
        for r, n_r in zip(rows, n, strict=True):  # n = start - smooth X(t-) - smooth Y(t-)
            if curve.x[r - 1] < curve.x[r]:
                raw["Y"].append((float(curve.x[r - 1]), block(n_shown - n_r - cum_e[r - 1])))
    out = []
    for name, items in raw.items():
        for i, (t, b) in enumerate(items):
            first = i == 0 or items[i - 1][1] != b
            last = i == len(items) - 1 or items[i + 1][1] != b
            if first or last:
                out.append((name, t, *b))
    return out


def curve_points(curve: Curve, n_shown: int | None, release: Release) -> list[float]:
    """The times of a curve the programme needs: all its times, or under a rounding policy those where a
    block starts or ends."""
    if release.rounded:
        return sorted({t for _, t, _, _ in block_constraints(curve, n_shown, release)} | {0.0})
    return sorted(set(np.asarray(curve.x, dtype=float).tolist()))


def _table(gm: GroupModel, table: Table) -> None:
    release, m, g = gm.release, gm.model, gm.release.grid
    prev_b = None
    censored = table.censored if table.censored is not None else [...] * len(table.ticks)
    for t, a, c, e in zip(table.ticks, table.at_risk, censored, table.events, strict=True):
        up, down = grid_up(t, g), grid_down(t, g)
        if a is not None or release.rounded:
            lo, hi = release.derived_bounds(a, 3) if release.rounded else (a, a)
            m.add({gm.n: 1, gm.x(up - g): -1, gm.y(up - g): -1}, lo, hi)
        for value, var in ((c, gm.y), (e, gm.x)):
            if value is Ellipsis or (value is None and not release.rounded):
                continue
            lo, hi = release.bounds(value)
            if table.cumulative:
                m.add([var(down)], lo, hi)
            else:
                m.add({var(down): 1, **({var(prev_b): -1} if prev_b is not None else {})}, lo, hi)
        prev_b = down
    if table.rows is not None and not release.rounded:
        for r in table.rows.itertuples(index=False):
            t = float(r.time_days)
            p = gm.before(t)
            if r.at_risk is not None and not pd.isna(r.at_risk):
                m.add({gm.n: 1, gm.x(p): -1, gm.y(p): -1}, int(r.at_risk), int(r.at_risk))
            for value, var in ((r.events, gm.x), (r.censored, gm.y)):
                if value is not None and not pd.isna(value):
                    m.add({var(t): 1, var(p): -1}, int(value), int(value))


def page_tables(fig: Mapping[str, Any], release: Release) -> dict[str, Table]:
    out = {}
    for group, rows in risk_table(fig).items():
        ticks = [t for t, _ in rows.get("At risk", [])]
        cells = {title: [parse_count(v) for _, v in rows.get(title, [])] for title in ("At risk", "Censored", "Events")}
        if len({len(v) for v in cells.values()}) == 1:
            out[group] = Table(ticks, cells["At risk"], cells["Censored"], cells["Events"], cumulative=release.rounded)
    return out


def shown_counts(payload: Any) -> dict[str, tuple[int | None, int | None]]:
    out = {}
    for rows in tables(payload):
        if rows and rows[0][:3] == ["Group", "Patients", "Events"]:
            for row in rows[1:]:
                out[row[0]] = (parse_count(row[1]), parse_count(row[2]))
    return out


def to_int(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def drop_beyond(table: Table, last: float) -> Table:
    keep = [i for i, t in enumerate(table.ticks) if t <= last]
    pick = lambda values: [values[i] for i in keep]  # noqa: E731
    censored = None if table.censored is None else pick(table.censored)
    return Table(pick(table.ticks), pick(table.at_risk), censored, pick(table.events), table.cumulative, table.rows)
