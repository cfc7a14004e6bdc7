"""Attack 1: curve step and interval inversion.

Every released survival-type curve is solved step by step for (number at risk, events): f = 1 - S(t)/S(t-)
= d/n, and the log-log limits' Greenwood increment d/(n(n - d)); along the curve n(next) <= n - d. A step's
event count is recovered when one integer pair is left and its d is the true number of events in the
step's window (the time since the previous released time, or the release's time grid). Curves: the
Survival page (Kaplan–Meier), Competing risks (Aalen–Johansen, both causes), Treatment timing (landmark,
Simon–Makuch), Adjusted comparison (IPTW-weighted), ``ayaall analyze km`` JSON and the XLSX export
(estimates at 4 decimals).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from attacks.harness import Curve, Release, Score, Subjects, curves, figures
from attacks.payloads import (
    analyze_curves,
    competing_page,
    export_workbook,
    frame_curves,
    group_sizes,
    iptw_subjects,
    km_subjects,
    landmark_subjects,
    simon_makuch_subjects,
    summary_counts,
    survival_page,
    timing_page,
    weighting_page,
)
from attacks.solvers import block_steps, invert_aalen_johansen, invert_product_limit, smooth_counts

K = 11
_REGISTRY = 3100  # the whole registry's size is public (the sidebar shows it): no group is larger


def score_curves(
    score: Score,
    found: Iterable[Curve],
    subjects: Subjects | Callable[[Curve], Subjects | None],
    release: Release,
    sizes: Mapping[str, int] | None = None,
    *,
    where: str,
    pooled: bool = False,
    decimals: int | None = None,
    late_entry: bool = False,
) -> int:
    """Invert each curve and score its steps' events against the truth (``subjects``, or a function giving
    a curve's; ``pooled``: one curve of all patients, the group "all"); returns the curves inverted."""
    inverted = 0
    for curve in found:
        rows = subjects(curve) if callable(subjects) else subjects
        if rows is None:
            continue
        n_max = min((sizes or {}).get(curve.group, _REGISTRY), _REGISTRY)
        steps = invert_product_limit(curve, n_max, decimals=decimals, late_entry=late_entry)
        truth = rows.window_counts("all" if pooled else curve.group, curve.x, release.grid)
        if release.rounded and not _exact_curve(steps, decimals):
            _score_blocks(score, curve, truth, release, where)
            continue
        if steps is None:
            continue
        inverted += 1
        for step in steps:
            lo, hi = step.values(1)
            where_step = f"{where} {curve.panel} {curve.group} t={step.time:g}"
            score.add(int(truth["events"].iloc[step.row]), lo, hi, where_step)
    return inverted


def _exact_curve(steps: list[Any] | None, decimals: int | None) -> bool:
    """Under a stated rounding policy a curve is taken for an exact product limit only when every one of at
    least five full-precision steps solves to integers (a curve from interpolated rounded counts does not)."""
    return steps is not None and decimals is None and len(steps) >= 5


def _score_blocks(score: Score, curve: Curve, truth: Any, release: Release, where: str) -> None:
    """A curve estimated from rounded counts: its smooth counts bound the true ones by blocks."""
    found = smooth_counts(curve)
    if found is None:
        return
    rows, _, d = found
    lo, hi = block_steps(d, release.base, release.noise)
    for r, a, b in zip(rows, lo, hi, strict=True):
        score.add(int(truth["events"].iloc[r]), a, b, f"{where} {curve.panel} {curve.group} t={curve.x[r]:g}")


def test_survival_page_curves(ctx, attack_service, cohorts, release, scoreboard) -> None:
    """Kaplan–Meier curves of the Survival page, whole registry and four random cohorts."""
    score = Score("inversion: Survival page", K)
    cases = [({}, "OS/DX", "frontline_regimen"), ({}, "EFS/LINE2", "salvage_regimen")]
    cases += [(c, "OS/DX", by) for c, by in zip(cohorts, ("lineage", None, "sex", "age_group"), strict=False)]
    for filters, endpoint_value, by in cases:
        endpoint, origin = endpoint_value.split("/")
        payload = survival_page(ctx, filters, endpoint_value, by)
        rows = km_subjects(attack_service, filters, endpoint, origin, by)
        sizes = group_sizes(payload, release)
        for fig in figures(payload):
            score_curves(score, curves(fig), rows, release, sizes, where=endpoint_value, pooled=by is None)
    scoreboard(score)
    assert score.recovered == 0, score.message()


def test_competing_page_curves(ctx, attack_service, cohorts, release, scoreboard) -> None:
    """Cumulative incidence of relapse and of the competing death, both causes inverted together."""
    score = Score("inversion: Competing risks page", K)
    for filters, endpoint_value, by in [
        ({}, "CIR/CR1", "lineage"),
        (cohorts[0], "CIR/CR1", None),
        ({}, "NRM/HCT1", None),
    ]:
        endpoint, origin = endpoint_value.split("/")
        payload = competing_page(ctx, filters, endpoint_value, by)
        rows = km_subjects(attack_service, filters, endpoint, origin, by)
        sizes = group_sizes(payload, release)
        for fig in figures(payload):
            found = curves(fig)
            panels = list(dict.fromkeys(c.panel for c in found))
            if len(panels) < 2:
                continue
            event = {c.group: c for c in found if c.panel == panels[0]}
            competing = {c.group: c for c in found if c.panel == panels[1]}
            for group, curve in event.items():
                steps = invert_aalen_johansen(curve, competing.get(group), min(sizes.get(group, _REGISTRY), _REGISTRY))
                if steps is None or (release.rounded and not _exact_curve(steps, None)):
                    continue  # not the Aalen-Johansen estimate of integer counts: no claim
                truth = rows.window_counts(group if by else "all", curve.x, release.grid)
                for step in steps:
                    for col, name in ((1, "events"), (2, "competing")):
                        lo, hi = step.values(col)
                        score.add(
                            int(truth[name].iloc[step.row]), lo, hi, f"{endpoint_value} {group} {name} t={step.time:g}"
                        )
    scoreboard(score)
    assert score.recovered == 0, score.message()


def _landmark_day(panel: str) -> float | None:
    digits = "".join(ch for ch in panel.split("day")[-1] if ch.isdigit() or ch == ".")
    return float(digits) if "day" in panel and digits else None


def test_timing_page_curves(ctx, attack_service, release, scoreboard) -> None:
    """Landmark curves (by exposure at each landmark) and Simon–Makuch curves (late entry) of transplant."""
    score = Score("inversion: Treatment timing page", K)
    payload = timing_page(ctx, {}, "hct", "OS/DX", ["180", "365"])
    marks: dict[float, Subjects] = {}
    sm = simon_makuch_subjects(attack_service, {}, "OS", "DX", "hct")

    def landmark(curve: Curve) -> Subjects | None:
        day = _landmark_day(curve.panel)
        if day is None:
            return None
        if day not in marks:
            marks[day] = landmark_subjects(attack_service, {}, "OS", "DX", "hct", day)
        return marks[day]

    for fig in figures(payload):
        title = str((fig["layout"].get("title") or {}).get("text", ""))
        if "landmark" in title.lower():
            score_curves(score, curves(fig), landmark, release, where="landmark")
        elif "Simon" in title:
            sizes = {g: v[1] for g, v in _first_counts(summary_counts(payload, release)).items()}
            score_curves(score, curves(fig), sm, release, sizes, where="Simon–Makuch", late_entry=True)
    scoreboard(score)
    assert score.recovered == 0, score.message()


def _first_counts(counts: Mapping[str, Mapping[str, tuple[int, int]]]) -> dict[str, tuple[int, int]]:
    return {g: next(iter(cols.values())) for g, cols in counts.items() if cols}


def test_weighting_page_curves(ctx, attack_service, release, scoreboard) -> None:
    """IPTW-adjusted Kaplan–Meier curves; under ATT the target group's weights are 1, so its curve is a
    plain Kaplan–Meier curve."""
    score = Score("inversion: Adjusted comparison page", K)
    levels, covariates = ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"], ["age_at_dx", "cns_status"]
    rows = iptw_subjects(attack_service, {}, levels, covariates)
    for estimand, target in (("ATT", "INOTUZUMAB"), ("ATE", None)):
        payload = weighting_page(ctx, {}, levels, covariates, estimand, target)
        sizes = {
            g: v[1] for g, v in _first_counts(summary_counts(payload, release, "Salvage regimen (line 2)")).items()
        }
        for fig in figures(payload):
            score_curves(score, curves(fig), rows, release, sizes, where=estimand)
    scoreboard(score)
    assert score.recovered == 0, score.message()


def test_analyze_km_curves(analyze, attack_service, cohorts, release, scoreboard, tmp_path: Path) -> None:
    """``ayaall analyze km --json``: the whole registry by lineage and a random cohort (``--cohort FILE``)."""
    score = Score("inversion: analyze km JSON", K)
    for i, (filters, by) in enumerate([({}, "lineage"), (cohorts[1], "sex")]):
        cohort_file = tmp_path / f"cohort{i}.json"
        cohort_file.write_text(json.dumps({"filters": filters}))
        doc = analyze(["km", "--endpoint", "OS", "--origin", "DX", "--by", by, "--cohort", str(cohort_file)])
        rows = km_subjects(attack_service, filters, "OS", "DX", by)
        sizes = {str(g["group"]): release.bounds(g.get("n"))[1] for g in doc.get("groups", [])}
        score_curves(score, analyze_curves(doc), rows, release, sizes, where="analyze km")
    scoreboard(score)
    assert score.recovered == 0, score.message()


def test_export_curves(attack_service, cohorts, release, scoreboard) -> None:
    """The XLSX export's curve table, estimates rounded to 4 decimals: interval inversion with the chain."""
    score = Score("inversion: export XLSX (4 decimals)", K)
    for filters, by in [({}, "lineage"), (cohorts[2], None)]:
        book = export_workbook(
            attack_service, figure="km", endpoint="OS", origin="DX", by=by, unit="days", cohort={"filters": filters}
        )
        rows = km_subjects(attack_service, filters, "OS", "DX", by)
        sizes = {
            str(g): release.bounds(_cell(n))[1]
            for g, n in zip(book["medians"]["group"], book["medians"]["n"], strict=True)
        }
        score_curves(
            score,
            frame_curves(book["curve"]),
            rows,
            release,
            sizes,
            where="export",
            pooled=by is None,
            decimals=4,
        )
    scoreboard(score)
    assert score.recovered == 0, score.message()


def _cell(value: Any) -> int | None:
    try:
        return None if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return None
