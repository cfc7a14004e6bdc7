"""Page = ``ayaall analyze`` = export, count for count, over 200 seeded random small cohorts (issue 11).

For each cohort (one to three multi-select filters of the cohort builder, sometimes a range of diagnosis
years; 40 to 900 patients of the 3,000-patient demo registry), the counts the Survival, Competing risks,
Response pages and the Cohort page's Table 1 show (their views, ``reports.*``: what the callbacks render)
are compared with what ``ayaall analyze km|cif|response|table1`` prints and what ``ayaall export`` writes
in its tables: each group's patients and events, the risk table's cells, the response totals and rates'
counts, every Table 1 cell. Masks included: a masked count is masked in all three.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ayaall.cohort import CohortSpec

pytestmark = pytest.mark.slow

MIN_CELL = 11
COHORTS = 200


def _cohorts(service, seed: int = 2026, count: int = COHORTS) -> list[dict]:
    from ayaall.filters import FILTERS

    rng = np.random.default_rng(seed)
    choices = service.filter_choices()
    multi = [s.column for s in FILTERS if s.kind == "multi"]
    out: list[dict] = []
    for _ in range(100 * count):
        if len(out) == count:
            break
        filters: dict = {}
        for column in rng.choice(multi, size=int(rng.integers(1, 4)), replace=False):
            options = list(choices[column])
            take = rng.choice(options, size=int(rng.integers(1, max(2, len(options) // 2 + 1))), replace=False)
            filters[str(column)] = sorted(str(v) for v in take)
        if rng.random() < 0.3:
            y0, y1 = choices["dx_year"]
            a = int(rng.integers(y0, y1))
            filters["dx_year"] = {"min": a, "max": int(rng.integers(a, y1 + 1))}
        n = service.cohort_size(CohortSpec.from_dict({"filters": filters}))
        if 40 <= n <= 900 and filters not in out:
            out.append(filters)
    assert len(out) == count
    return out


def _ints(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else int(v) for v in values]


def _export(service, **fields):
    from export.exporter import prepare
    from export.requests import ExportRequest

    request = ExportRequest(**fields, min_cell=MIN_CELL, format="csv")
    return prepare(service, request, cohort_source={"kind": "test"}).frames


def test_every_count_is_the_same_on_the_page_in_analyze_and_in_the_export(demo_db, service) -> None:
    from analyses.results import AnalysisError
    from ayaall.errors import UserError
    from reports.analyze import cif as analyze_cif
    from reports.analyze import km as analyze_km
    from reports.analyze import response as analyze_response
    from reports.analyze import table1 as analyze_table1
    from reports.competing import competing_view
    from reports.response import response_view
    from reports.survival import survival_view
    from reports.table1 import table_one_result

    compared = {"km": 0, "cif": 0, "response": 0, "table1": 0}
    for filters in _cohorts(service):
        cohort = CohortSpec.from_dict({"filters": filters})
        spec = {"filters": filters}
        # Survival page: groups' patients and events, the risk table
        page = survival_view(service, cohort, "OS", "DX", "lineage", "years", MIN_CELL)
        printed = analyze_km.run(demo_db, "OS", "DX", cohort, by="lineage", min_cell=MIN_CELL)
        frames = _export(service, figure="km", endpoint="OS", origin="DX", by="lineage", unit="years", cohort=spec)
        shown = page.km.summary.set_index("group")
        for g in printed["groups"]:
            assert (g["n"], g["events"]) == (shown.loc[g["group"], "n"], shown.loc[g["group"], "events"]), filters
        medians = frames["medians"].set_index("group")
        assert _ints(medians["n"]) == _ints(shown["n"])
        assert _ints(medians["events"]) == _ints(shown["events"])
        assert (printed["n"], printed["events"]) == (page.n, page.events)
        for col in ("at_risk", "censored", "events"):
            assert _ints(frames["risk_table"][col]) == _ints(page.risk_table[col]), (filters, col)
        compared["km"] += 1
        # Competing risks page
        try:
            page_c = competing_view(service, cohort, "CIR", "CR1", "lineage", MIN_CELL)
        except (AnalysisError, UserError):
            page_c = None
        if page_c is not None:
            printed_c = analyze_cif.run(demo_db, "CIR", "CR1", cohort, by="lineage", min_cell=MIN_CELL)
            frames_c = _export(service, figure="cif", endpoint="CIR", origin="CR1", by="lineage", cohort=spec)
            shown_c = page_c.summary.set_index("group")
            summary_c = frames_c["summary"].set_index("group")
            for g in printed_c["groups"]:
                for col in ("n", "events", "competing_events"):
                    assert g[col] == shown_c.loc[g["group"], col] == _ints([summary_c.loc[g["group"], col]])[0]
            assert (printed_c["n"], printed_c["events"]) == (page_c.n, page_c.events)
            compared["cif"] += 1
        # Response page (salvage line, CR, by lineage)
        try:
            page_r = response_view(service, cohort, 2, "cr", "lineage", MIN_CELL)
        except (AnalysisError, UserError):
            page_r = None
        if page_r is not None:
            printed_r = analyze_response.run(demo_db, cohort, line=2, by="lineage", min_cell=MIN_CELL)
            frames_r = _export(service, figure="response", line=2, by="lineage", cohort=spec)
            assert (printed_r["n"], printed_r["not_assessed"]) == (page_r.n, page_r.not_assessed)
            assert printed_r["outcomes"]["cr"]["responders"] == page_r.responders
            rates = page_r.rates.set_index("group")
            for g in printed_r["outcomes"]["cr"]["groups"]:
                assert (g["n"], g["responders"]) == (rates.loc[g["group"], "n"], rates.loc[g["group"], "responders"])
            exported = frames_r["rates"].set_index("group")
            assert _ints(exported["n"]) == _ints(rates["n"])
            assert _ints(exported["responders"]) == _ints(rates["responders"])
            assert _ints(frames_r["totals"]["not_assessed"]) == [page_r.not_assessed]
            compared["response"] += 1
        # Table 1 by lineage
        result = table_one_result(service, cohort, "lineage", MIN_CELL)
        printed_t = analyze_table1.run(demo_db, cohort, "lineage", [], min_cell=MIN_CELL)
        frames_t = _export(service, figure="table1", by="lineage", cohort=spec)
        assert [g["n"] for g in printed_t["groups"]] == _ints(result.groups["n"])
        assert _ints(frames_t["groups"]["n"]) == _ints(result.groups["n"])
        page_cells = {(r["variable"], r["level"], r["group"]): r["n"] for r in result.categorical.to_dict("records")}
        for var in printed_t["variables"]:
            for cell in var.get("levels", []):
                assert cell["n"] == page_cells[(var["variable"], cell["level"], cell["group"])]
        assert _ints(frames_t["categorical"]["n"]) == _ints(result.categorical["n"])
        compared["table1"] += 1
    assert compared["km"] == compared["table1"] == COHORTS
    assert compared["cif"] >= COHORTS // 2
    assert compared["response"] >= COHORTS // 2
