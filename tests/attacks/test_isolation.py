"""Attack 5: isolating one patient.

Two cohorts that differ by exactly one patient — a centre's patients diagnosed up to year Y, and those
diagnosed up to Y - 1, where the centre has one patient diagnosed in Y — are both requested, and every
released Kaplan–Meier number of both (the Survival page's curve, censor marks, risk table and counts;
``analyze km`` JSON; the XLSX export) goes into one integer programme (attack 2's, once per cohort) with
what the attacker knows links them: the first cohort's cumulative events and censorings exceed the
second's by a step from 0 to 1 at the patient's exit, in one of the two. The patient's time is recovered
when the status is pinned and the step is pinned to one released time that is an exact day (times on a
coarser grid give at most the week).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attacks.conftest import SEED
from attacks.harness import Curve, Release, Score, cohort_spec, curves, figures
from attacks.kmmodel import (
    Table,
    build,
    curve_points,
    drop_beyond,
    grid_down,
    grid_up,
    page_tables,
    shown_counts,
    to_int,
)
from attacks.payloads import analyze_curves, export_workbook, frame_curves, survival_page
from attacks.solvers import IntegerModel

K = 11
#: one cohort's release: curve, risk table, patients, events, and the decimals of the curve (None: full)
Release_ = tuple[Curve, Table, int | None, int | None, int | None]


def single_patients(service: Any, count: int, seed: int) -> list[tuple[dict[str, Any], dict[str, Any], float, int]]:
    """(cohort with the patient, cohort without, the patient's OS time from diagnosis, status): a centre
    whose patients up to year Y include one diagnosed in Y, and at least 30 before; seeded choice."""
    found = service.query_df(
        "SELECT center_id, dx_year FROM analysis_patients WHERE excluded_reason IS NULL "
        "GROUP BY ALL HAVING count(*) = 1 ORDER BY center_id, dx_year"
    )
    y0, _ = service.filter_choices()["dx_year"]
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.permutation(len(found)):
        centre, year = str(found["center_id"].iloc[i]), int(found["dx_year"].iloc[i])
        with_p = {"center_id": [centre], "dx_year": {"min": y0, "max": year}}
        without = {"center_id": [centre], "dx_year": {"min": y0, "max": year - 1}}
        if year - 1 < y0 or service.cohort_size(cohort_spec(without)) < 30:
            continue
        row = service.frame(cohort_spec({"center_id": [centre], "dx_year": {"min": year, "max": year}}), "OS", "DX")
        out.append((with_p, without, float(row["time_days"].iloc[0]), int(row["event_code"].iloc[0])))
        if len(out) == count:
            break
    return out


def isolate(a: Release_, b: Release_, release: Release) -> tuple[int | None, float | None]:
    """The patient's status (1 death, 0 censored; None unknown) and exit time (None unless pinned to one
    released time) from the two cohorts' releases."""
    g = release.grid
    ticks = [*a[1].ticks, *b[1].ticks]
    derived = {p for t in ticks for p in (grid_down(t, g), grid_up(t, g) - g, t)}
    points = sorted({*curve_points(a[0], a[2], release), *curve_points(b[0], b[2], release), *derived})
    model = IntegerModel()
    ga = build(*a[:4], release, a[4], model=model, prefix="A", points=points)
    gb = build(*b[:4], release, b[4], model=model, prefix="B", points=points)
    assert ga.points == gb.points
    model.add({ga.n: 1, gb.n: -1}, 1, 1)
    last = len(ga.points) - 1
    for name in ("X", "Y"):
        for i in range(last + 1):
            model.add({ga.at(name, i): 1, gb.at(name, i): -1}, 0, 1)
            if i:
                model.add({ga.at(name, i): 1, gb.at(name, i): -1, ga.at(name, i - 1): -1, gb.at(name, i - 1): 1}, 0, 1)
    assert model.feasible(), "the two cohorts' releases contradict the attack's reading"
    died = model.interval({ga.at("X", last): 1, gb.at("X", last): -1})
    if died is None or died[0] != died[1]:
        return None, None
    status = int(died[0])
    name = "X" if status == 1 else "Y"

    def step(i: int) -> tuple[float, float]:
        found = model.interval({ga.at(name, i): 1, gb.at(name, i): -1})
        assert found is not None
        return found

    lo, hi = -1, last  # step(lo) is 0 for sure, step(hi) 1 for sure
    while hi - lo > 1:  # the last point where the difference is surely 0, and the first where surely 1
        mid = (lo + hi) // 2
        low, high = step(mid)
        if high == 0:
            lo = mid
        elif low == 1:
            hi = mid
        else:
            break
    if hi - lo > 1 or hi >= last:
        return status, None
    return status, ga.points[hi]


def _score(
    score: Score, found: tuple[int | None, float | None], truth: tuple[float, int], release: Release, where: str
) -> None:
    """A patient is recovered when status and exact day are pinned and true (a day on a grid coarser than a
    day is not exact)."""
    status, time = found
    true_time, true_status = truth
    true_status = 1 if true_status == 1 else 0
    score.tried += 1
    score.small += 1
    if status is None or time is None:
        return
    if status != true_status or not (time - release.grid < true_time <= time):
        score.wrong += 1
        score.examples.append(f"WRONG {where}: pinned {status}@{time:g}, true {true_status}@{true_time:g}")
        return
    what = "death" if status else "censored"
    if release.grid <= 1 and not release.rounded:
        score.recovered += 1
        if len(score.examples) < 6:
            score.examples.append(f"{where}: {what} on day {time:g}")
    elif len(score.examples) < 6:  # not a recovery: the week, not the day
        score.examples.append(f"{where}: {what} in the {release.grid:g} days to day {time:g} (not the day)")


def _page(ctx: Any, release: Release) -> Callable[[dict[str, Any]], Release_]:
    def read(filters: dict[str, Any]) -> Release_:
        payload = survival_page(ctx, filters, "OS/DX", None)
        fig = figures(payload)[0]
        drawn = curves(fig)  # a group too small is not drawn: nothing but its counts
        curve = drawn[0] if drawn else Curve("", "all", np.zeros(1), np.ones(1))
        tables_ = list(page_tables(fig, release).values())
        table = tables_[0] if tables_ else Table([], [], [], [], cumulative=release.rounded)
        n, events = next(iter(shown_counts(payload).values()))
        return curve, table, n, events, None

    return read


def _analyze(analyze: Any, tmp: Path, release: Release) -> Callable[[dict[str, Any]], Release_]:
    def read(filters: dict[str, Any]) -> Release_:
        path = tmp / "cohort.json"
        path.write_text(json.dumps({"filters": filters}))
        doc = analyze(["km", "--endpoint", "OS", "--origin", "DX", "--cohort", str(path)])
        drawn = analyze_curves(doc)
        curve = drawn[0] if drawn else Curve("", "all", np.zeros(1), np.ones(1))
        (group,) = doc["groups"]
        ms = group.get("milestones") or []
        rows = pd.DataFrame(group["curve"])[["time_days", "at_risk", "events", "censored"]]
        table = Table(
            [float(m["time_days"]) for m in ms],
            [m.get("at_risk") for m in ms],
            None,
            [m.get("events") for m in ms],
            cumulative=release.rounded,
            rows=rows.astype(object).where(rows.notna(), None),
        )
        return curve, drop_beyond(table, float(curve.x.max())), group.get("n"), group.get("events"), None

    return read


def _export(service: Any, release: Release) -> Callable[[dict[str, Any]], Release_]:
    def read(filters: dict[str, Any]) -> Release_:
        book = export_workbook(
            service, figure="km", endpoint="OS", origin="DX", by=None, unit="days", cohort={"filters": filters}
        )
        drawn = frame_curves(book["curve"])
        curve = drawn[0] if drawn else Curve("", "all", np.zeros(1), np.ones(1))
        part = book["risk_table"]
        table = Table(
            part["time_days"].astype(float).tolist(),
            [to_int(v) for v in part["at_risk"]],
            [to_int(v) for v in part["censored"]],
            [to_int(v) for v in part["events"]],
            cumulative=release.rounded,
        )
        med = book["medians"].iloc[0]
        curve = Curve(curve.panel, curve.group, curve.x, curve.y, None, None, curve.marks)
        return curve, table, to_int(med["n"]), to_int(med["events"]), 4

    return read


@pytest.mark.parametrize("source", ["Survival page", "analyze km JSON", "export XLSX"])
def test_isolate_one_patient(source: str, ctx, analyze, attack_service, release, scoreboard, tmp_path: Path) -> None:
    """Twelve single patients (six for analyze and the export), each isolated by two cohorts one patient
    apart: recovered when the exact day and status of death or censoring follow."""
    count = 12 if source == "Survival page" else 6
    read = {
        "Survival page": lambda: _page(ctx, release),
        "analyze km JSON": lambda: _analyze(analyze, tmp_path, release),
        "export XLSX": lambda: _export(attack_service, release),
    }[source]()
    score = Score(f"isolation: {source}", K)
    for with_p, without, time, status in single_patients(attack_service, count, SEED):
        found = isolate(read(with_p), read(without), release)
        _score(score, found, (time, status), release, f"{with_p['center_id'][0]} to {with_p['dx_year']['max']}")
    scoreboard(score)
    assert score.recovered == 0, score.message().replace("small true cells (1-10)", "single patients")
