"""Attacks on the toxicity outputs (issue 15): the Toxicity page, ``ayaall analyze toxicity`` and the
``toxicity`` export, at min cell 11 on the demo registry.

The truth is the exact analysis of the rows the release is computed from (``etl.read.load_toxicity_frame``
and ``analyses.toxicity``, never ``disclosure``). Three readings of what leaves the server:

1. a count's cell shown anywhere: every (group, toxicity, threshold) count of 1 to k - 1 is masked on the
   page, in the JSON and in the workbook (with its proportion and interval), or shown as a second-block
   midpoint the cell key's shift moved it to, the same in all three;
2. proportion × n and the Wilson interval: each shown proportion and interval solved for the integer
   pairs (patients, events) they allow, every n the shown patient count allows, then read as the released
   events count they are (``Release.bounds``);
3. differencing: the line's patients with and without one small salvage regimen (8 patients), the
   events of every toxicity and threshold subtracted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest

from attacks.harness import Score, cohort_spec, filter_ids, page_values, parse_count, plain, tables

K = 11
#: the toxicities the attacks read: those with small counts on the demo registry's second line
EVENTS = ("CRS", "ICANS", "NEUROTOXICITY", "VOD_SOS", "TLS", "FEBRILE_NEUTROPENIA")
GRADES = (1, 3)
_EVENT_ARGS = [arg for e in EVENTS for arg in ("--event", e)]


def _truth(attack_service: Any, filters: Mapping[str, Any], line: int, by: str | None) -> pd.DataFrame:
    """The exact proportions of the page's rows (``analyses.toxicity`` on ``etl.read``'s frame)."""
    from analyses.toxicity import toxicity_proportions
    from etl.read import load_toxicity_frame

    with attack_service.reading() as cur:
        frame = load_toxicity_frame(cur, cohort_spec(filters), line, EVENTS, columns=[by] if by else [])
    if by:
        frame = frame[frame[by].notna()]
    return toxicity_proportions(frame, by)


def _page_rows(ctx: Any, filters: Mapping[str, Any], line: int, event: str, grade: int, by: str) -> list[list[str]]:
    """The Toxicity page's rates table (Group, Patients, With event, Proportion (95% CI), onset) as the
    browser receives it."""
    from dashboard.pages.toxicity import toxicity_outputs

    payload = plain(toxicity_outputs(ctx, page_values(filters), filter_ids(), str(line), event, str(grade), by))
    rates = tables(payload[1])[0]
    assert rates[0][:4] == ["Group", "Patients", "With event", "Proportion (95% CI)"]
    return rates[1:]


def _percents(text: str) -> tuple[float, float, float] | None:
    """``"17.5% (12.4%–24.1%)"`` as fractions; None when masked."""
    parts = [p for p in text.replace("(", " ").replace(")", " ").replace("–", " ").split() if p.endswith("%")]
    if len(parts) != 3:
        return None
    p, lo, hi = (float(v.rstrip("%")) / 100 for v in parts)
    return p, lo, hi


def _solve(shown: tuple[float, float, float], n_bounds: tuple[int, int]) -> set[int]:
    """Every events count x with a patient count n in ``n_bounds`` whose proportion and Wilson interval
    show as ``shown`` (one decimal of a percent): the released events count, solved."""
    from analyses.response import wilson_ci

    p, lo, hi = shown
    found = set()
    for n in range(max(n_bounds[0], 1), n_bounds[1] + 1):
        for x in range(max(0, math.floor((p - 0.0006) * n)), min(n, math.ceil((p + 0.0006) * n)) + 1):
            a, b = wilson_ci(x, n)
            shows = [round(100 * v, 1) for v in (x / n, a, b)]
            if shows == [round(100 * v, 1) for v in (p, lo, hi)]:
                found.add(x)
    return found


@pytest.mark.parametrize(("line", "by"), [(2, "sex"), (1, "regimen")])
def test_toxicity_counts_below_min_cell_are_masked_everywhere(
    line: int, by: str, ctx, attack_service, analyze, release, scoreboard
) -> None:
    """[toxicity_small_cells] No true toxicity count of 1 to 10 is shown as itself: on the page, in ``analyze
    toxicity`` and in the export's proportions sheet it is masked (with its proportion and interval) or
    perturbed into the second block, the same value in all three; and solving
    every shown proportion and Wilson interval for its counts (attack 2) pins no small count."""
    from export.exporter import prepare
    from export.requests import ExportRequest

    truth = _truth(attack_service, {}, line, by).set_index(["event", "min_grade", "group"])
    doc = analyze(["toxicity", "--line", str(line), "--by", by, *_EVENT_ARGS])
    printed = {
        (e["event"], t["min_grade"], g["group"]): g for e in doc["events"] for t in e["thresholds"] for g in t["groups"]
    }
    request = ExportRequest(figure="toxicity", line=line, by=by, format="xlsx")
    sheet = prepare(attack_service, request, cohort_source={}).frames["proportions"]
    exported = sheet.set_index(["event", "min_grade", "group"])
    score = Score(f"toxicity proportions x n and Wilson interval, line {line} by {by}", K)
    small = 0
    for event in EVENTS:
        for grade in GRADES:
            for row in _page_rows(ctx, {}, line, event, grade, by):
                group, n_text, x_text, rate = row[:4]
                cell = (event, grade, group)
                true_x = int(truth.loc[cell, "events"])
                if 0 < true_x < K:  # masked, or perturbed into the second block: never the count itself
                    small += 1
                    shown_x = parse_count(x_text)
                    assert shown_x is None or shown_x >= K, f"{cell}: {row}"
                    assert shown_x is not None or _percents(rate) is None, f"{cell}: {row}"
                    assert printed[cell]["events"] == shown_x, cell
                    assert (printed[cell]["proportion"] is None) == (shown_x is None), cell
                    exported_x = exported.loc[cell, "events"]
                    assert (None if pd.isna(exported_x) else int(exported_x)) == shown_x, cell
                    masked_rate = (shown_x is None) or pd.isna(printed[cell]["proportion"])
                    assert pd.isna(exported.loc[cell, "proportion"]) == masked_rate, cell
                shown = _percents(rate)
                if shown is None:
                    score.add(true_x, *release.bounds(parse_count(x_text)), f"{cell} masked")
                    continue
                released = _solve(shown, release.bounds(parse_count(n_text)))
                assert released, f"{cell}: no count gives {rate}"
                bounds = [release.bounds(x) for x in released]
                score.add(true_x, min(b[0] for b in bounds), max(b[1] for b in bounds), str(cell))
    scoreboard(score)
    assert small >= 5, "the registry should have small toxicity counts to attack"
    assert score.recovered == 0, score.message()
    assert score.wrong == 0, score.message()


def test_toxicity_differencing_one_salvage_regimen_apart(ctx, attack_service, release, scoreboard) -> None:
    """[toxicity_differencing] The page's second-line events of every toxicity and threshold, for all the
    salvage regimens and for all but CAR_T_CD7 (8 patients): the difference of the two releases leaves
    every small difference many values (perturbation and rounding of each cohort's own count)."""
    choices = attack_service.filter_choices()["salvage_regimen"]
    everyone = {"salvage_regimen": list(choices)}
    but_one = {"salvage_regimen": [v for v in choices if v != "CAR_T_CD7"]}
    ta = _truth(attack_service, everyone, 2, None).set_index(["event", "min_grade"])
    tb = _truth(attack_service, but_one, 2, None).set_index(["event", "min_grade"])
    score = Score("toxicity differencing: one salvage regimen apart (page)", K)
    widths = []
    for event in EVENTS:
        for grade in GRADES:
            a = _page_rows(ctx, everyone, 2, event, grade, "none")[0]
            b = _page_rows(ctx, but_one, 2, event, grade, "none")[0]
            for column, name in ((1, "n"), (2, "events")):
                lo_a, hi_a = release.bounds(parse_count(a[column]))
                lo_b, hi_b = release.bounds(parse_count(b[column]))
                lo, hi = max(lo_a - hi_b, 0), hi_a - lo_b
                true = int(ta.loc[(event, grade), name]) - int(tb.loc[(event, grade), name])
                assert lo <= true <= hi, f"{event} >= {grade} {name}: {true} outside [{lo}, {hi}]"
                score.add(true, lo, hi, f"{event} >= {grade}: {name}")
                widths.append(hi - lo)
    scoreboard(score)
    assert score.tried == 4 * len(EVENTS)
    assert score.recovered == 0, score.message()
    assert min(widths) >= K, f"a difference is narrowed to {min(widths) + 1} values"


def test_worst_grade_and_onset_of_few_patients_are_not_shown(ctx, attack_service, analyze) -> None:
    """[toxicity_worst_grade] A worst-grade count of 1 to 10 is never shown as itself in ``analyze toxicity``
    (masked with its percentage, or perturbed past the first block); a time to onset is given only for a
    group with at least 11 patients with the toxicity (its quartiles are order statistics of their days)."""
    from analyses.toxicity import time_to_onset, worst_grade_distribution
    from etl.read import load_toxicity_frame

    with attack_service.reading() as cur:
        frame = load_toxicity_frame(cur, cohort_spec({}), 2, EVENTS, columns=["sex"])
    frame = frame[frame["sex"].notna()]
    worst = worst_grade_distribution(frame, "sex").set_index(["group", "event", "worst_grade"])["n"]
    onset = time_to_onset(frame, "sex").set_index(["group", "event", "min_grade"])["events"]
    doc = analyze(["toxicity", "--line", "2", "--by", "sex", *_EVENT_ARGS])
    small_worst = shown_onsets = 0
    for e in doc["events"]:
        for w in e["worst_grade"]:
            true = int(worst.loc[(w["group"], e["event"], w["worst_grade"])])
            if 0 < true < K:
                small_worst += 1
                assert w["n"] is None or w["n"] >= K, (e["event"], w)  # masked or shifted past the first block
                assert w["n"] is not None or w["percent"] is None, (e["event"], w)
        for t in e["thresholds"]:
            for o in t["onset"]:
                true_events = int(onset.loc[(o["group"], e["event"], t["min_grade"])])
                if o["median_days"] is not None:
                    shown_onsets += 1
                    assert true_events >= K, (e["event"], t["min_grade"], o)
                    assert o["median_days"] % 7 == 0  # on the time grid
                    assert o["q1_days"] <= o["median_days"] <= o["q3_days"]
    assert small_worst > 0
    assert shown_onsets > 0
