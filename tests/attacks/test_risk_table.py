"""Attack 2: the integer programme over a Kaplan–Meier risk table.

Per group, the unknowns are the true cumulative events X(t) and censorings Y(t) at every time that matters
and the group size N. What the release shows is linear in them: each inverted curve step (at risk
N - X(t-) - Y(t-) = n, events X(t) - X(t-) = d), the curve's flat stretches and censor marks, the group's
patients and events, and every shown cell of the risk table (the KMunicate table under the Survival page's
figure, the export's risk_table sheet, ``analyze km``'s milestones and per-row counts). Under the
session-start code a shown count is exact; under a stated rounding policy it bounds the true count by its
block (derived numbers, such as the number at risk, by the blocks of the counts they come from), and the
curve, estimated from interpolated rounded cumulative counts, bounds X and Y by blocks at each of its
times. ``scipy.optimize.milp`` gives each cell's least and greatest value: recovered when they are equal,
the true value and 1 to k - 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attacks.harness import BIG, Curve, Release, Score, Subjects, curves, figures, parse_count, risk_table
from attacks.payloads import analyze_curves, export_workbook, frame_curves, km_subjects, summary_counts, survival_page
from attacks.solvers import IntegerModel, invert_product_limit, smooth_counts

K = 11
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
    release: Release
    points: list[float]
    model: IntegerModel = field(default_factory=IntegerModel)

    def x(self, t: float) -> str:
        return self._at("X", t)

    def y(self, t: float) -> str:
        return self._at("Y", t)

    def _at(self, name: str, t: float) -> str:
        """The cumulative variable at the last point at or before ``t`` (0 before the first)."""
        i = int(np.searchsorted(self.points, t + 1e-9, side="right")) - 1
        return f"{name}{i}" if i >= 0 else "zero"

    def before(self, t: float) -> float:
        i = int(np.searchsorted(self.points, t - 1e-9, side="left")) - 1
        return self.points[i] if i >= 0 else -math.inf


def _grid_up(t: float, g: float) -> float:
    return g * math.ceil(t / g - 1e-9)


def _grid_down(t: float, g: float) -> float:
    return g * math.floor(t / g + 1e-9)


def build(
    curve: Curve,
    table: Table,
    n_shown: int | None,
    events_shown: int | None,
    release: Release,
    decimals: int | None = None,
) -> GroupModel:
    """The integer programme of one group (module docstring)."""
    g = release.grid
    x_rows = np.unique(curve.x)
    last_row = float(x_rows.max())
    points = set(x_rows.tolist())
    for t in table.ticks:
        points |= {_grid_down(t, g), _grid_up(t, g) - g, t}
    pts = sorted(p for p in points if p > -math.inf) + [_INF]
    gm = GroupModel(release, pts)
    m = gm.model
    m.var("zero", 0, 0)
    m.var("N")
    for i in range(len(pts)):
        for name in ("X", "Y"):
            m.add({f"{name}{i}": 1, **({f"{name}{i - 1}": -1} if i else {})}, 0, BIG)
    last = len(pts) - 1
    m.add({"N": 1, f"X{last}": -1, f"Y{last}": -1}, 0, 0)
    lo, hi = release.bounds(n_shown)
    m.add(["N"], lo, hi)
    lo, hi = release.bounds(events_shown)
    m.add([f"X{last}"], lo, hi)

    if release.rounded:
        if decimals is None:  # a rounded curve's limits do not give its smooth counts
            _curve_blocks(gm, curve, n_shown, release)
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
            m.add({"N": 1, prev_x: -1, prev_y: -1}, n, n)
            m.add({f"X{i}": 1, prev_x: -1}, d, d)
        elif steps is not None and (t not in x_rows or (decimals is None and _flat(curve, t))):
            m.add({f"X{i}": 1, prev_x: -1}, 0, 0)
        if t > 0 and marks is not None and t in marks:
            m.add({f"Y{i}": 1, prev_y: -1}, 1, BIG)
        elif t > 0 and (marks is not None or t not in x_rows):
            m.add({f"Y{i}": 1, prev_y: -1}, 0, 0)


def _flat(curve: Curve, t: float) -> bool:
    at = np.flatnonzero(curve.x == t)
    before = at[0] - 1
    return before >= 0 and curve.y[at[-1]] == curve.y[before]


def _curve_blocks(gm: GroupModel, curve: Curve, n_shown: int | None, release: Release) -> None:
    """A curve estimated from interpolated rounded cumulative counts: at each of its times the smooth
    cumulative events (and, with the released group size, censorings) lie in the true counts' blocks."""
    found = smooth_counts(curve)
    if found is None:
        return
    rows, n, d = found
    k = release.base
    cum_e = np.zeros(len(curve.x))
    cum_e[rows] = d
    cum_e = np.cumsum(np.nan_to_num(cum_e))
    m = gm.model

    def block(name: str, value: float) -> None:
        b = math.ceil(value / k - 1e-6)
        m.add([name], k * (b - 1) + 1 if b > 0 else 0, k * b)

    for j, t in enumerate(curve.x):
        if j + 1 < len(curve.x) and curve.x[j + 1] == t:
            continue  # the origin's row before a step at time 0
        block(gm.x(t), cum_e[j])
    if n_shown is not None:
        for r, n_r in zip(rows, n, strict=True):  # n = start - smooth X(t-) - smooth Y(t-)
            if curve.x[r - 1] < curve.x[r]:
                block(gm.y(curve.x[r - 1]), n_shown - n_r - cum_e[r - 1])


def _table(gm: GroupModel, table: Table) -> None:
    release, m, g = gm.release, gm.model, gm.release.grid
    prev_b = None
    censored = table.censored if table.censored is not None else [...] * len(table.ticks)
    for t, a, c, e in zip(table.ticks, table.at_risk, censored, table.events, strict=True):
        up, down = _grid_up(t, g), _grid_down(t, g)
        if a is not None or release.rounded:
            lo, hi = release.derived_bounds(a, 3) if release.rounded else (a, a)
            m.add({"N": 1, gm.x(up - g): -1, gm.y(up - g): -1}, lo, hi)
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
                m.add({"N": 1, gm.x(p): -1, gm.y(p): -1}, int(r.at_risk), int(r.at_risk))
            for value, var in ((r.events, gm.x), (r.censored, gm.y)):
                if value is not None and not pd.isna(value):
                    m.add({var(t): 1, var(p): -1}, int(value), int(value))


def score_group(score: Score, gm: GroupModel, table: Table, rows: Subjects, group: str, where: str) -> None:
    """Each cell's least and greatest value against the truth."""
    g = gm.release.grid
    assert gm.model.feasible(), f"{where} {group}: the attack's reading of the release is inconsistent"
    prev = None
    for t in table.ticks:
        up, down = _grid_up(t, g), _grid_down(t, g)
        truth_risk = rows.counts(group, up - g, up)["at_risk"]
        cum = rows.counts(group, -math.inf, down)
        targets = {
            "at risk": ({"N": 1, gm.x(up - g): -1, gm.y(up - g): -1}, truth_risk),
            "events to": ({gm.x(down): 1}, cum["events"]),
            "censored to": ({gm.y(down): 1}, cum["censored"] + cum["competing"]),
        }
        if prev is not None:
            part = rows.counts(group, prev, down)
            targets["events in"] = ({gm.x(down): 1, gm.x(prev): -1}, part["events"])
            targets["censored in"] = ({gm.y(down): 1, gm.y(prev): -1}, part["censored"] + part["competing"])
        for name, (terms, truth) in targets.items():
            found = gm.model.interval(terms)
            assert found is not None
            score.add(int(truth), found[0], found[1], f"{where} {group} {name} t={t:g}")
        prev = down


def _page_tables(fig: Mapping[str, Any], release: Release) -> dict[str, Table]:
    out = {}
    for group, rows in risk_table(fig).items():
        ticks = [t for t, _ in rows.get("At risk", [])]
        cells = {title: [parse_count(v) for _, v in rows.get(title, [])] for title in ("At risk", "Censored", "Events")}
        if len({len(v) for v in cells.values()}) == 1:
            out[group] = Table(ticks, cells["At risk"], cells["Censored"], cells["Events"], cumulative=release.rounded)
    return out


def test_survival_page_risk_tables(ctx, attack_service, cohorts, release, scoreboard) -> None:
    """The KMunicate table under the Survival page's figure, with the curve and the group counts."""
    score = Score("risk-table ILP: Survival page", K)
    cases = [
        ({}, "OS/DX", "lineage"),
        ({}, "EFS/LINE2", "salvage_regimen"),
        (cohorts[0], "OS/DX", None),
        (cohorts[3], "OS/DX", "sex"),
    ]
    for filters, endpoint_value, by in cases:
        endpoint, origin = endpoint_value.split("/")
        payload = survival_page(ctx, filters, endpoint_value, by)
        rows = km_subjects(attack_service, filters, endpoint, origin, by)
        counts = summary_counts(payload, release)
        shown = _shown_counts(payload)
        for fig in figures(payload):
            found = {c.group: c for c in curves(fig)}
            for group, table in _page_tables(fig, release).items():
                if group not in found:
                    continue
                n, events = shown.get(group, (None, None))
                gm = build(found[group], table, n, events, release)
                score_group(score, gm, table, rows, group if by else "all", endpoint_value)
        assert counts is not None
    scoreboard(score)
    assert score.recovered == 0, score.message()


def _shown_counts(payload: Any) -> dict[str, tuple[int | None, int | None]]:
    from attacks.harness import tables

    out = {}
    for rows in tables(payload):
        if rows and rows[0][:3] == ["Group", "Patients", "Events"]:
            for row in rows[1:]:
                out[row[0]] = (parse_count(row[1]), parse_count(row[2]))
    return out


def test_export_risk_table(attack_service, cohorts, release, scoreboard) -> None:
    """The XLSX export: curve (4 decimals), risk_table and medians sheets."""
    score = Score("risk-table ILP: export XLSX", K)
    for filters, by in [({}, "lineage"), (cohorts[1], None)]:
        book = export_workbook(
            attack_service, figure="km", endpoint="OS", origin="DX", by=by, unit="days", cohort={"filters": filters}
        )
        rows = km_subjects(attack_service, filters, "OS", "DX", by)
        medians = book["medians"].set_index(book["medians"]["group"].astype(str))
        found = {c.group: c for c in frame_curves(book["curve"])}
        for group, part in book["risk_table"].groupby(book["risk_table"]["group"].astype(str), sort=False):
            table = Table(
                part["time_days"].astype(float).tolist(),
                [_int(v) for v in part["at_risk"]],
                [_int(v) for v in part["censored"]],
                [_int(v) for v in part["events"]],
                cumulative=release.rounded,
            )
            curve = found[group]
            n, events = _int(medians.loc[group, "n"]), _int(medians.loc[group, "events"])
            gm = build(curve, table, n, events, release, decimals=4)
            score_group(score, gm, table, rows, group if by else "all", "export")
    scoreboard(score)
    assert score.recovered == 0, score.message()


def _int(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def test_analyze_milestones(analyze, attack_service, cohorts, release, scoreboard, tmp_path: Path) -> None:
    """``analyze km --json``: the curve, its per-row counts and the milestones (at risk, events)."""
    score = Score("risk-table ILP: analyze km JSON", K)
    for i, (filters, by) in enumerate([({}, "lineage"), (cohorts[2], None)]):
        cohort_file = tmp_path / f"cohort{i}.json"
        cohort_file.write_text(json.dumps({"filters": filters}))
        doc = analyze(
            ["km", "--endpoint", "OS", "--origin", "DX", *(["--by", by] if by else []), "--cohort", str(cohort_file)]
        )
        rows = km_subjects(attack_service, filters, "OS", "DX", by)
        found = {c.group: c for c in analyze_curves(doc)}
        for group_doc in doc.get("groups", []):
            group = str(group_doc["group"])
            if group not in found:
                continue
            ms = group_doc.get("milestones") or []
            per_row = pd.DataFrame(group_doc["curve"])[["time_days", "at_risk", "events", "censored"]]
            table = Table(
                [float(m["time_days"]) for m in ms],
                [m.get("at_risk") for m in ms],
                None,
                [m.get("events") for m in ms],
                cumulative=release.rounded,
                rows=per_row.astype(object).where(per_row.notna(), None),
            )
            table = _drop_beyond(table, float(found[group].x.max()))
            gm = build(found[group], table, group_doc.get("n"), group_doc.get("events"), release)
            score_group(score, gm, table, rows, group if by else "all", "analyze")
    scoreboard(score)
    assert score.recovered == 0, score.message()


def _drop_beyond(table: Table, last: float) -> Table:
    keep = [i for i, t in enumerate(table.ticks) if t <= last]
    pick = lambda values: [values[i] for i in keep]  # noqa: E731
    censored = None if table.censored is None else pick(table.censored)
    return Table(pick(table.ticks), pick(table.at_risk), censored, pick(table.events), table.cumulative, table.rows)


def _unused(_: Sequence[Any]) -> None:  # pragma: no cover
    return None
