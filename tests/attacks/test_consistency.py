"""Attack 6: page = analyze = export for every released count.

The same count (a group's patients or events, a risk-table cell, a Table 1 cell, a response total, the
patients an analysis included) shown in two places must be shown with the same value: two different
releases of one count are intersected, each bounding the true count by its stated rounding. Per analysis
(Kaplan–Meier, Table 1, response rates, cumulative incidence) and cohort (the whole registry and a random
one), every count is read from the dashboard page, the ``ayaall analyze`` JSON and the XLSX export (its
sheets and its methods text); the test fails on any count released with two values, and on any small
count the intersection pins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from attacks.harness import Release, Score, figures, parse_count, risk_table
from attacks.payloads import (
    competing_page,
    export_workbook,
    group_counts,
    response_page,
    sentence_counts,
    survival_page,
    table1_counts,
    table1_page,
)

K = 11
Counts = dict[str, int | None]


def _n(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return int(value)


def _methods(book: Mapping[str, pd.DataFrame]) -> Counts:
    """'The analysis included N patients' of the export's methods text."""
    text = " ".join(str(v) for v in book["Methods"].to_numpy().ravel())
    match = re.search(r"included ([\d,]+|fewer than \d+) patients", text)
    return {"all|n": parse_count(match.group(1))} if match else {}


def _rename(counts: Counts, names: Mapping[str, str]) -> Counts:
    """Page table keys ('B | Patients') as 'B|n' and the like."""
    out: Counts = {}
    for key, value in counts.items():
        group, _, head = key.partition(" | ")
        out[f"{group}|{names.get(head, head)}"] = value
    return out


# ------------------------------------------------------------------------------------------ Kaplan–Meier
def km_page(ctx: Any, filters: Mapping[str, Any], by: str) -> Counts:
    payload = survival_page(ctx, filters, "OS/DX", by)
    out = _rename(group_counts(payload), {"Patients": "n", "Events": "events"})
    for fig in figures(payload):
        for group, rows in risk_table(fig).items():
            for title, cells in rows.items():
                for t, text in cells:
                    out[f"{group}|{title.lower()}@{t:g}"] = parse_count(text)
    return out


def km_analyze(doc: Mapping[str, Any]) -> Counts:
    out: Counts = {"all|n": doc.get("n"), "all|events": doc.get("events")}
    for g in doc.get("groups", []):
        out |= {f"{g['group']}|n": g.get("n"), f"{g['group']}|events": g.get("events")}
    return out


def km_export(book: Mapping[str, pd.DataFrame]) -> Counts:
    out = _methods(book)
    for r in book["medians"].itertuples(index=False):
        out |= {f"{r.group}|n": _n(r.n), f"{r.group}|events": _n(r.events)}
    for r in book["risk_table"].itertuples(index=False):
        t = float(r.time_days)
        for name in ("at_risk", "censored", "events"):
            out[f"{r.group}|{name.replace('_', ' ')}@{t:g}"] = _n(getattr(r, name))
    return out


# --------------------------------------------------------------------------------------------- Table 1
def t1_analyze(doc: Mapping[str, Any]) -> Counts:
    from ayaall.filters import column_label

    out: Counts = {f"n | {g['group']}": g.get("n") for g in doc.get("groups", []) if g["group"] != "Overall"}
    for v in doc.get("variables", []):
        label = column_label(v["variable"])
        for lv in v.get("levels", []):
            level = "missing" if lv["level"] == "(missing)" else lv["level"]
            out[f"{label} | {level} | {lv['group']}"] = lv.get("n")
        for s in v.get("summaries", []):
            out[f"{label} | missing | {s['group']}"] = s.get("missing")
    return out


def t1_export(book: Mapping[str, pd.DataFrame]) -> Counts:
    from ayaall.filters import column_label

    frame = book["table1"].fillna("").astype(str)
    out = table1_counts(frame) | _methods(book)
    for r in book["categorical"].itertuples(index=False):
        level = "missing" if r.level == "(missing)" else r.level
        out[f"{column_label(r.variable)} | {level} | {r.group}"] = _n(r.n)
    return out


# ---------------------------------------------------------------------------------------------- response
_RESPONSE = {"Patients": "n", "Responders": "responders"}


def response_page_counts(ctx: Any, filters: Mapping[str, Any]) -> Counts:
    payload = response_page(ctx, filters, "2", "cr", "lineage")
    totals = sentence_counts(payload)
    return _rename(group_counts(payload), _RESPONSE) | {f"all|{k}": v for k, v in totals.items()}


def response_analyze(doc: Mapping[str, Any]) -> Counts:
    cr = doc["outcomes"]["cr"]
    out: Counts = {
        "all|started": doc.get("n"),
        "all|responded": cr.get("responders"),
        "all|not assessed": doc.get("not_assessed"),
    }
    for g in cr.get("groups", []):
        out |= {f"{g['group']}|n": g.get("n"), f"{g['group']}|responders": g.get("responders")}
    return out


def response_export(book: Mapping[str, pd.DataFrame]) -> Counts:
    out = {"all|started" if k == "all|n" else k: v for k, v in _methods(book).items()}
    for r in book["rates"].itertuples(index=False):
        out |= {f"{r.group}|n": _n(r.n), f"{r.group}|responders": _n(r.responders)}
    t = book["totals"].iloc[0]
    out |= {
        "all|started": _n(t["started_line"]),
        "all|responded": _n(t["responders"]),
        "all|not assessed": _n(t["not_assessed"]),
    }
    return out


# ------------------------------------------------------------------------------------ cumulative incidence
def cif_page(ctx: Any, filters: Mapping[str, Any]) -> Counts:
    payload = competing_page(ctx, filters, "CIR/CR1", "lineage")
    return _rename(group_counts(payload), {"Patients": "n", "CIR events": "events"})


def cif_analyze(doc: Mapping[str, Any]) -> Counts:
    out: Counts = {"all|n": doc.get("n"), "all|events": doc.get("events")}
    for g in doc.get("groups", []):
        out |= {f"{g['group']}|n": g.get("n"), f"{g['group']}|events": g.get("events")}
    return out


def cif_export(book: Mapping[str, pd.DataFrame]) -> Counts:
    out = _methods(book)
    for r in book["summary"].itertuples(index=False):
        out |= {f"{r.group}|n": _n(r.n), f"{r.group}|events": _n(r.events)}
    return out


# ------------------------------------------------------------------------------------------------- test
Reader = Callable[[int], dict[str, Counts]]


def _readers(
    ctx: Any, truth_ctx: Any, analyze: Any, service: Any, path: Path, filters: Mapping[str, Any], kind: str
) -> Reader:
    path.write_text(json.dumps({"filters": dict(filters)}))
    cohort = {"filters": dict(filters)}
    by = "lineage"

    def read(min_cell: int) -> dict[str, Counts]:
        page_ctx = ctx if min_cell else truth_ctx
        args = ["--cohort", str(path), "--min-cell", str(min_cell)]
        if kind == "Kaplan–Meier":
            return {
                "page": km_page(page_ctx, filters, by),
                "analyze": km_analyze(analyze(["km", "--endpoint", "OS", "--origin", "DX", "--by", by, *args])),
                "export": km_export(
                    export_workbook(
                        service,
                        figure="km",
                        endpoint="OS",
                        origin="DX",
                        by=by,
                        unit="days",
                        cohort=cohort,
                        min_cell=min_cell,
                    )
                ),
            }
        if kind == "Table 1":
            return {
                "page": table1_counts(table1_page(page_ctx, filters, by)),
                "analyze": t1_analyze(analyze(["table1", "--by", by, *args])),
                "export": t1_export(export_workbook(service, figure="table1", by=by, cohort=cohort, min_cell=min_cell)),
            }
        if kind == "response":
            return {
                "page": response_page_counts(page_ctx, filters),
                "analyze": response_analyze(analyze(["response", "--by", by, "--line", "2", *args])),
                "export": response_export(
                    export_workbook(
                        service, figure="response", line=2, outcome="cr", by=by, cohort=cohort, min_cell=min_cell
                    )
                ),
            }
        return {
            "page": cif_page(page_ctx, filters),
            "analyze": cif_analyze(analyze(["cif", "--endpoint", "CIR", "--origin", "CR1", "--by", by, *args])),
            "export": cif_export(
                export_workbook(
                    service, figure="cif", endpoint="CIR", origin="CR1", by=by, cohort=cohort, min_cell=min_cell
                )
            ),
        }

    return read


@pytest.mark.parametrize("kind", ["Kaplan–Meier", "Table 1", "response", "cumulative incidence"])
def test_page_analyze_export_agree(
    kind: str, ctx, truth_ctx, analyze, attack_service, cohorts, release: Release, scoreboard, tmp_path: Path
) -> None:
    """Every count shown in two of page, analyze and export, on the whole registry and a random cohort."""
    score = Score(f"page = analyze = export: {kind}", K)
    disagree: list[str] = []
    for i, filters in enumerate([{}, cohorts[3]]):
        read = _readers(ctx, truth_ctx, analyze, attack_service, tmp_path / f"c{i}.json", filters, kind)
        shown, exact = read(K), read(0)
        truth: Counts = {}
        for source in ("analyze", "export", "page"):
            truth |= {k: v for k, v in exact[source].items() if v is not None and k not in truth}
        keys = {k for counts in shown.values() for k in counts}
        for key in sorted(keys):
            values = {source: counts[key] for source, counts in shown.items() if key in counts}
            if len(values) < 2 or key not in truth:
                continue
            if len(set(values.values())) > 1:
                disagree.append(f"{'all' if not filters else 'random'} {key}: {values}")
            lo, hi = 0, 10**9
            for v in values.values():
                a, b = release.bounds(v)
                lo, hi = max(lo, a), min(hi, b)
            score.add(int(truth[key]), lo, hi, f"{key} {values}")
    scoreboard(score)
    message = (
        score.message()
        + f"; {len(disagree)} counts released with two values"
        + (": " + "; ".join(disagree[:6]) if disagree else "")
    )
    assert not disagree, message
    assert score.recovered == 0, message
