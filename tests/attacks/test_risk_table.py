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
from pathlib import Path

import pandas as pd

from attacks.harness import Score, Subjects, curves, figures
from attacks.kmmodel import GroupModel, Table, build, drop_beyond, grid_down, grid_up, page_tables, shown_counts, to_int
from attacks.payloads import analyze_curves, export_workbook, frame_curves, km_subjects, survival_page

K = 11


def score_group(score: Score, gm: GroupModel, table: Table, rows: Subjects, group: str, where: str) -> None:
    """Each cell's least and greatest value against the truth."""
    g = gm.release.grid
    assert gm.model.feasible(), f"{where} {group}: the attack's reading of the release is inconsistent"
    prev = None
    for t in table.ticks:
        up, down = grid_up(t, g), grid_down(t, g)
        truth_risk = rows.counts(group, up - g, up)["at_risk"]
        cum = rows.counts(group, -math.inf, down)
        targets = {
            "at risk": ({gm.n: 1, gm.x(up - g): -1, gm.y(up - g): -1}, truth_risk),
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
        shown = shown_counts(payload)
        for fig in figures(payload):
            found = {c.group: c for c in curves(fig)}
            for group, table in page_tables(fig, release).items():
                if group not in found:
                    continue
                n, events = shown.get(group, (None, None))
                gm = build(found[group], table, n, events, release)
                score_group(score, gm, table, rows, group if by else "all", endpoint_value)
    scoreboard(score)
    assert score.recovered == 0, score.message()


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
                [to_int(v) for v in part["at_risk"]],
                [to_int(v) for v in part["censored"]],
                [to_int(v) for v in part["events"]],
                cumulative=release.rounded,
            )
            curve = found[group]
            n, events = to_int(medians.loc[group, "n"]), to_int(medians.loc[group, "events"])
            gm = build(curve, table, n, events, release, decimals=4)
            score_group(score, gm, table, rows, group if by else "all", "export")
    scoreboard(score)
    assert score.recovered == 0, score.message()


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
            table = drop_beyond(table, float(found[group].x.max()))
            gm = build(found[group], table, group_doc.get("n"), group_doc.get("events"), release)
            score_group(score, gm, table, rows, group if by else "all", "analyze")
    scoreboard(score)
    assert score.recovered == 0, score.message()
