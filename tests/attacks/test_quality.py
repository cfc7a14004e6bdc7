"""Attack 7: the Data quality page.

On a messy synthetic registry (planted defects: quarantined rows, warnings, excluded patients), one integer
programme over every count the Data quality page and the Cohort page's attrition flow show: per table,
rows read = rows loaded + rows quarantined, and rows quarantined = the sum of that table's quarantine
reasons; the load run's patients = the patients table's rows loaded = the registry row of the attrition
flow; the patients excluded = the sum of the attrition's exclusions; each remaining count = the previous
one minus the step's removals. Each count's least and greatest value against the same pages at
``--min-cell 0``.
"""

from __future__ import annotations

from typing import Any

import pytest

from attacks.harness import Score, cohort_spec, parse_count, plain, tables
from attacks.solvers import IntegerModel

K = 11


@pytest.fixture(scope="module")
def messy_service(tmp_path_factory: pytest.TempPathFactory):
    """A 1,200-patient registry with 2% of rows corrupted (seed 5), loaded."""
    from etl import load_extract
    from reports.service import RegistryService
    from synthetic_data import generate_registry

    folder = tmp_path_factory.mktemp("messy_attack")
    generate_registry(folder / "extract", n_patients=1200, seed=5, messy=0.02)
    load_extract(folder / "extract", folder / "db.duckdb")
    service = RegistryService(folder / "db.duckdb")
    yield service
    service.close()


def quality_counts(service: Any, min_cell: int) -> dict[str, int | None]:
    """Every count of the Data quality page and of the whole registry's attrition flow, by a key."""
    from ayaall.settings import Settings
    from dashboard.context import PageContext
    from dashboard.pages.cohort import attrition_table
    from dashboard.pages.quality import quality_content

    ctx = PageContext(service, Settings(min_cell=min_cell))
    out: dict[str, int | None] = {}
    for rows in tables(plain(quality_content(ctx))):
        head = rows[0]
        if head[:3] == ["Table", "File", "Read"]:
            for r in rows[1:]:
                for col in ("Read", "Loaded", "Quarantined", "Warnings"):
                    out[f"report|{r[0]}|{col}"] = parse_count(r[head.index(col)])
        elif head == ["Table", "Reason", "Rows"]:
            kind = "quarantine" if not any(k.startswith("quarantine|") for k in out) else "warning"
            for r in rows[1:]:
                out[f"{kind}|{r[0]}|{r[1]}"] = parse_count(r[2])
        elif "patients_excluded" in head:
            r = rows[-1]
            for col in ("patients", "patients_excluded", "time_to_event_rows"):
                out[f"runs|{col}"] = parse_count(r[head.index(col)])
    (flow,) = tables(plain(attrition_table(ctx, cohort_spec({}))))
    for i, r in enumerate(flow[1:]):
        out[f"attrition|{i}|removed"], out[f"attrition|{i}|remaining"] = parse_count(r[2]), parse_count(r[3])
    return out


def test_quality_page_totals(messy_service, release, scoreboard) -> None:
    """Quarantined, loaded and excluded counts from the totals the page shows."""
    score = Score("Data quality page totals", K)
    shown, truth = quality_counts(messy_service, K), quality_counts(messy_service, 0)
    assert set(shown) <= set(truth) | {k for k in shown if k.startswith(("quarantine|", "warning|"))}
    m = IntegerModel()
    for key, value in shown.items():
        m.var(key)
        if value is not None or release.rounded:
            m.add([key], *release.bounds(value))
    for table in {k.split("|")[1] for k in shown if k.startswith("report|")}:
        r = f"report|{table}|"
        m.add({r + "Read": 1, r + "Loaded": -1, r + "Quarantined": -1}, 0, 0)
        reasons = [k for k in shown if k.startswith(f"quarantine|{table}|")]
        m.add({r + "Quarantined": 1, **{k: -1 for k in reasons}}, 0, 0)
    steps = sorted({int(k.split("|")[1]) for k in shown if k.startswith("attrition|")})
    m.add({"runs|patients": 1, "report|patients|Loaded": -1}, 0, 0)
    m.add({"runs|patients": 1, "attrition|0|remaining": -1}, 0, 0)
    m.add({"runs|patients_excluded": 1, **{f"attrition|{i}|removed": -1 for i in steps[1:]}}, 0, 0)
    for i in steps[1:]:
        m.add({f"attrition|{i}|remaining": 1, f"attrition|{i - 1}|remaining": -1, f"attrition|{i}|removed": 1}, 0, 0)
    assert m.feasible(), "the page's counts contradict the attack's reading of them"
    for key in sorted(shown):
        if truth.get(key) is None:
            continue
        found = m.interval([key])
        assert found is not None
        score.add(int(truth[key]), found[0], found[1], key)
    scoreboard(score)
    assert score.recovered == 0, score.message()
