"""Attack 3: differencing of cohorts one filter value apart, and padded differencing.

Two cohorts that differ by one filter value (a multi-select with every value, and with every value but
one) give that value's patients by subtraction: the sidebar's live count (over HTTP, as the browser gets
it), the group patients and events of the Survival, Competing risks and Response pages, Table 1's cells and
two ``ayaall analyze km --cohort`` files. Each released count is turned into the set of true values it
allows (exact at the session start; the block of k under a stated rounding policy), and the difference
into the interval those allow. Padded differencing (X u P against P for many paddings P) is run at full
strength: the live counts of every union of up to seven values of a column, and an exact integer programme
over the values' own counts (``scipy.optimize.milp``), which pins a value where the blocks' edges meet.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attacks.conftest import SEED
from attacks.dash_http import DashHTTP
from attacks.harness import Release, Score, cohort_spec, page_values, parse_count, plain
from attacks.payloads import (
    competing_page,
    group_counts,
    response_page,
    sentence_counts,
    survival_page,
    table1_counts,
    table1_page,
)
from attacks.solvers import IntegerModel

K = 11


@pytest.fixture(scope="module")
def http(demo_db: Path) -> DashHTTP:
    return DashHTTP(demo_db, K)


def difference(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """The values of x - y for x in a and y in b (counts: never below 0 when y's cohort is inside x's)."""
    return max(a[0] - b[1], 0), a[1] - b[0]


def test_http_payload_is_the_callback_output(http: DashHTTP, ctx) -> None:
    """What ``/_dash-update-component`` sends is what the page functions the attacks call return."""
    from dashboard.pages.survival import survival_outputs

    filters = {"lineage": ["T"]}
    sent = http.survival(filters, "OS/DX", "sex")
    direct = plain(survival_outputs(ctx, page_values(filters), [*_ids()], "OS/DX", "sex", "days"))
    assert json.dumps(sent, sort_keys=True) == json.dumps(direct, sort_keys=True)


def _ids() -> list[dict[str, str]]:
    from attacks.harness import filter_ids

    return filter_ids()


def test_live_count_one_value_apart(http: DashHTTP, attack_service, cohorts, release, scoreboard) -> None:
    """The sidebar's count of every multi-select with all values against all values but one, on the whole
    registry and two random cohorts."""
    from ayaall.filters import FILTERS

    score = Score("differencing: live count, one value apart (HTTP)", K)
    choices = attack_service.filter_choices()
    for base in ({}, cohorts[0], cohorts[1]):
        for spec in FILTERS:
            if spec.kind != "multi" or spec.column in base:
                continue
            values = list(choices[spec.column])
            a_filters = {**base, spec.column: values}
            a = release.bounds(parse_count(http.live_count(a_filters)))
            true_a = attack_service.cohort_size(cohort_spec(a_filters))
            for v in values:
                rest = [u for u in values if u != v]
                b_filters = {**base, spec.column: rest}
                b = release.bounds(parse_count(http.live_count(b_filters)))
                truth = true_a - attack_service.cohort_size(cohort_spec(b_filters))
                lo, hi = difference(a, b)
                score.add(truth, lo, hi, f"{spec.column}={v} in {base or 'all'}")
    scoreboard(score)
    assert score.recovered == 0, score.message()


def subset_sums(
    release: Release, values: list[str], shown: Callable[[list[str]], Any]
) -> dict[str, tuple[float, float]]:
    """The least and greatest count of each value from the released counts of every union of values
    (``shown`` gives a union's count as shown, None when masked, ``...`` when not shown at all)."""
    model = IntegerModel()
    for i in range(len(values)):
        model.var(f"v{i}")
    for r in range(1, len(values) + 1):
        for subset in itertools.combinations(range(len(values)), r):
            value = shown([values[i] for i in subset])
            if value is not Ellipsis:
                model.add([f"v{i}" for i in subset], *release.bounds(value))
    assert model.feasible(), "the released unions contradict the attack's reading of the release"
    out = {}
    for i, v in enumerate(values):
        found = model.interval([f"v{i}"])
        assert found is not None
        out[v] = found
    return out


def _chosen(rng: np.random.Generator, values: list[str], first: list[str], size: int = 7) -> list[str]:
    rest = [v for v in values if v not in first]
    return [*first, *rng.choice(rest, size=min(size - len(first), len(rest)), replace=False).tolist()][:size]


def test_live_count_padded_differencing(http: DashHTTP, attack_service, release, scoreboard) -> None:
    """Padded differencing at full strength: the live count of every union of seven values (127 cohorts)
    of the salvage regimen (whole registry) and of the subtype (within one centre, and within one centre's
    B-lineage patients), and the integer programme over the seven values' counts."""
    score = Score("padded differencing: live count subset sums (HTTP)", K)
    rng = np.random.default_rng(SEED)
    choices = attack_service.filter_choices()
    cases = [
        ({}, "salvage_regimen", ["ICB_COMBO", "CAR_T_CD7", "DARATUMUMAB_BASED"]),
        ({"center_id": ["C01"]}, "subtype", []),
        ({"center_id": ["C02"], "lineage": ["B"]}, "subtype", []),
    ]
    for base, column, first in cases:
        values = _chosen(rng, list(choices[column]), first)
        found = subset_sums(release, values, lambda s, b=base, c=column: parse_count(http.live_count({**b, c: s})))
        for v, (lo, hi) in found.items():
            truth = attack_service.cohort_size(cohort_spec({**base, column: [v]}))
            score.add(truth, lo, hi, f"{column}={v} in {base or 'all'}")
    scoreboard(score)
    assert score.recovered == 0, score.message()


# ----------------------------------------------------------------------------------------------- pages
PAGES: dict[str, Callable[[Any, Mapping[str, Any]], dict[str, int | None]]] = {
    "Survival": lambda c, f: group_counts(survival_page(c, f, "OS/DX", "lineage")),
    "Competing risks": lambda c, f: group_counts(competing_page(c, f, "CIR/CR1", "lineage")),
    "Response": lambda c, f: (lambda p: group_counts(p) | sentence_counts(p))(
        response_page(c, f, "2", "cr", "lineage")
    ),
    "Table 1": lambda c, f: table1_counts(table1_page(c, f, "lineage")),
}
_APART = [("salvage_regimen", "CAR_T_CD7"), ("salvage_regimen", "ICB_COMBO"), ("sex", "U")]


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_one_value_apart(page: str, ctx, truth_ctx, attack_service, release, scoreboard) -> None:
    """A page's group counts for a filter with every value and with every value but a small one."""
    score = Score(f"differencing: {page} page, one value apart", K)
    choices = attack_service.filter_choices()
    read = PAGES[page]
    for column, value in _APART:
        everyone = {column: list(choices[column])}
        but_one = {column: [v for v in choices[column] if v != value]}
        a, b = read(ctx, everyone), read(ctx, but_one)
        ta, tb = read(truth_ctx, everyone), read(truth_ctx, but_one)
        for key in sorted(set(a) & set(b) & set(ta) & set(tb)):
            if ta[key] is None or tb[key] is None:
                continue
            lo, hi = difference(release.bounds(a[key]), release.bounds(b[key]))
            score.add(ta[key] - tb[key], lo, hi, f"{column}={value}: {key}")
    scoreboard(score)
    assert score.recovered == 0, score.message()


def test_analyze_cohort_files(analyze, tmp_path: Path, attack_service, release, scoreboard) -> None:
    """Two ``ayaall analyze km --cohort`` files one salvage regimen apart: group sizes and events."""
    score = Score("differencing: two analyze km --cohort files", K)
    choices = attack_service.filter_choices()["salvage_regimen"]
    docs = {}
    for name, values in (("all", list(choices)), ("but", [v for v in choices if v != "CAR_T_CD7"])):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"filters": {"salvage_regimen": values}}))
        for mc in (K, 0):
            docs[name, mc] = analyze(
                [
                    "km",
                    "--endpoint",
                    "OS",
                    "--origin",
                    "DX",
                    "--by",
                    "lineage",
                    "--cohort",
                    str(path),
                    "--min-cell",
                    str(mc),
                ]
            )

    def counts(doc: Mapping[str, Any]) -> dict[str, int | None]:
        out = {"n": doc.get("n"), "events": doc.get("events")}
        for g in doc.get("groups", []):
            out |= {f"{g['group']} n": g.get("n"), f"{g['group']} events": g.get("events")}
        return out

    a, b, ta, tb = (counts(docs[k]) for k in (("all", K), ("but", K), ("all", 0), ("but", 0)))
    for key in sorted(set(a) & set(b) & set(ta)):
        lo, hi = difference(release.bounds(a[key]), release.bounds(b[key]))
        score.add(int(ta[key]) - int(tb[key]), lo, hi, key)
    scoreboard(score)
    assert score.recovered == 0, score.message()


@pytest.mark.slow
def test_live_count_padded_differencing_by_centre(http: DashHTTP, attack_service, release, scoreboard) -> None:
    """The same at scale: within each of ten centres (seeded), every union of seven subtypes."""
    score = Score("padded differencing: live count subset sums, ten centres (HTTP)", K)
    rng = np.random.default_rng(SEED + 1)
    choices = attack_service.filter_choices()
    for centre in rng.choice(list(choices["center_id"]), size=10, replace=False).tolist():
        base = {"center_id": [centre]}
        values = _chosen(rng, list(choices["subtype"]), [])
        found = subset_sums(release, values, lambda s, b=base: parse_count(http.live_count({**b, "subtype": s})))
        for v, (lo, hi) in found.items():
            truth = attack_service.cohort_size(cohort_spec({**base, "subtype": [v]}))
            score.add(truth, lo, hi, f"subtype={v} in {centre}")
    scoreboard(score)
    assert score.recovered == 0, score.message()


def test_table1_padded_differencing(ctx, truth_ctx, release, scoreboard) -> None:
    """Padded differencing of Table 1: the Table 1 by lineage of every union of five salvage regimens
    (31 cohorts), and per cell an integer programme over the five regimens' own counts of that cell (a cell
    a table does not show gives nothing)."""
    score = Score("padded differencing: Table 1 cells over subset sums", K)
    values = ["VENETOCLAX_BASED", "CAR_T_CD19", "INOTUZUMAB", "NELARABINE", "TRIAL_OTHER"]
    subsets = [s for r in range(1, len(values) + 1) for s in itertools.combinations(values, r)]
    shown = {s: table1_counts(table1_page(ctx, {"salvage_regimen": list(s)}, "lineage")) for s in subsets}
    truth = {v: table1_counts(table1_page(truth_ctx, {"salvage_regimen": [v]}, "lineage")) for v in values}
    for key in sorted({k for counts in shown.values() for k in counts}):
        if key.startswith("n | Overall") or " | Other or unknown | " in key:
            continue  # the combined level holds other levels in each cohort (disclosure.table1)
        found = subset_sums(release, values, lambda s, k=key: shown[tuple(v for v in values if v in s)].get(k, ...))
        for v, (lo, hi) in found.items():
            true = truth[v].get(key, 0)  # a level or a group a cohort does not have: none of it
            if true is not None:
                score.add(int(true), lo, hi, f"salvage={v}: {key}")
    scoreboard(score)
    assert score.recovered == 0, score.message()
