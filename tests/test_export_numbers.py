"""The numbers in an exported figure and its tables equal the analysis output, to the stated rounding.

Sources: the dashboard's own views (``reports.survival.survival_view``, ``competing_view``, ``cox_view``)
and, one step further back, the estimators validated against R (``analyses.km.fit_km`` — R
``survfit(..., conf.type = "log-log")`` — ``analyses.cif.cumulative_incidence`` — cmprsk ``cuminc``
— and ``analyses.baseline.table_one``). Estimates are exported rounded to 4 decimals (the request's
``decimals``), so each comparison rounds the analysis output the same way.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from export_support import svg_info

from ayaall.cohort import CohortSpec
from export.exporter import prepare
from export.requests import ExportRequest
from figures.km import format_count

DECIMALS = 4
MIN_CELL = 11


def _content(service, **fields):
    return prepare(service, ExportRequest(**fields), cohort_source={"kind": "test"})


def _curve_traces(fig):
    """The curve traces (one per group: lines, in the legend)."""
    return {t.name: t for t in fig.data if t.mode == "lines" and t.showlegend is not False}


def test_km_figure_and_csv_equal_survival_view_and_fit_km(service):
    from analyses.km import fit_km
    from reports.survival import survival_view

    content = _content(service, figure="km", endpoint="OS", origin="DX", by="lineage", unit="years", format="csv")
    view = survival_view(service, CohortSpec(), "OS", "DX", "lineage", "years", MIN_CELL)  # unrounded, cached
    fig = content.figure()
    curves = _curve_traces(fig)
    assert set(curves) == {"B", "T"}
    frame = service.frame(CohortSpec(), "OS", "DX", ["lineage"])
    full = fit_km(frame, "time_days", "event_code", "lineage")
    csv = content.frames["curve"]
    for group, trace in curves.items():
        shown = view.km.curve[view.km.curve["group"] == group]
        expected = np.round(shown["survival"].astype(float).to_numpy(), DECIMALS)
        np.testing.assert_array_equal(np.asarray(trace.y, dtype=float), expected)
        np.testing.assert_array_equal(csv.loc[csv["group"] == group, "survival"].to_numpy(dtype=float), expected)
        # Released (estimated from rounded counts on the 7-day grid), the curve stays within two percentage
        # points of the estimator's (R-validated) at the shown times in groups of 600+ (BENCHMARKS.md:
        # at most 1.1 points with 500-999 at risk)
        ref = full.curve[full.curve["group"] == group]
        at = shown["time_days"].to_numpy(dtype=float)
        step = ref["survival"].to_numpy(dtype=float)
        exact_at = step[np.searchsorted(ref["time_days"].to_numpy(dtype=float), at, side="right") - 1]
        assert np.max(np.abs(expected - exact_at)) < 0.02, group
    # Without disclosure control the export is the estimator's curve, to the rounding
    exact = _content(
        service, figure="km", endpoint="OS", origin="DX", by="lineage", unit="years", format="csv", min_cell=0
    )
    for group, trace in _curve_traces(exact.figure()).items():
        ref = full.curve[full.curve["group"] == group]
        np.testing.assert_array_equal(
            np.asarray(trace.y, dtype=float), np.round(ref["survival"].to_numpy(dtype=float), DECIMALS)
        )


def test_km_risk_table_text_in_figure_svg_and_csv_equals_the_view(service, tmp_path):
    from export.exporter import to_memory
    from reports.survival import survival_view

    view = survival_view(service, CohortSpec(), "OS", "DX", "lineage", "years", MIN_CELL)
    request = ExportRequest(figure="km", endpoint="OS", origin="DX", by="lineage", unit="years", format="svg")
    content = prepare(service, request, cohort_source={"kind": "test"})
    risk = [t for t in content.figure().data if t.meta == "risk-table"]
    by_name = {t.name: list(t.text) for t in risk}
    expected_texts = []
    for group in ("B", "T"):
        rows = view.risk_table[view.risk_table["group"] == group]
        for key, title in (("at_risk", "At risk"), ("censored", "Censored"), ("events", "Events")):
            texts = [format_count(v) for v in rows[key]]
            assert by_name[f"{group} {title}"] == texts
            expected_texts += texts
    svg, _ = to_memory(service, request, "km.svg", cohort_source={"kind": "test"})
    shown = [t for t in svg_info(svg)["textpoints"] if t]
    assert sorted(shown) == sorted(expected_texts)
    table = content.frames["risk_table"]
    for col in ("at_risk", "censored", "events"):
        assert [None if pd.isna(v) else int(v) for v in table[col]] == [
            None if v is None or pd.isna(v) else int(v) for v in view.risk_table[col]
        ]


def test_km_csv_file_round_trips_the_frames(service):
    from export.exporter import to_memory

    request = ExportRequest(figure="km", endpoint="OS", origin="DX", by="lineage", format="csv", table="medians")
    data, _ = to_memory(service, request, "m.csv", cohort_source={"kind": "test"})
    read = pd.read_csv(io.BytesIO(data))
    content = prepare(service, request, cohort_source={"kind": "test"})
    frame = content.frames["medians"]
    assert list(read.columns) == list(frame.columns)
    assert read["n"].tolist() == [int(v) for v in frame["n"]]
    np.testing.assert_allclose(read["median_days"], frame["median_days"].astype(float))


def test_cif_figure_equals_competing_view(service):
    from reports.competing import competing_view

    content = _content(service, figure="cif", endpoint="CIR", origin="CR1", by="lineage", format="csv")
    view = competing_view(service, CohortSpec(), "CIR", "CR1", "lineage", MIN_CELL)
    fig = content.figure()
    panels = {}
    for t in fig.data:
        if t.mode == "lines" and t.line.width and t.line.width > 0:
            panels.setdefault(t.name, []).append(np.asarray(t.y, dtype=float))
    for group in ("B", "T"):
        curve = view.curve[view.curve["group"] == group]
        event, competing = panels[group]
        np.testing.assert_array_equal(event, np.round(curve["cif_event"].to_numpy(dtype=float), DECIMALS))
        np.testing.assert_array_equal(competing, np.round(curve["cif_competing"].to_numpy(dtype=float), DECIMALS))
    csv = content.frames["curve"]
    np.testing.assert_array_equal(csv["cif_event"], np.round(view.curve["cif_event"].astype(float), DECIMALS))


def test_forest_figure_equals_cox_view(service):
    from reports.cox import cox_view

    content = _content(
        service, figure="forest", endpoint="OS", origin="DX", covariates=("lineage", "age_at_dx"), format="csv"
    )
    view = cox_view(service, CohortSpec(), "OS", "DX", ["lineage", "age_at_dx"], {}, MIN_CELL)
    for trace in content.figure().data:
        if trace.mode != "markers":
            continue
        terms = view.terms[view.terms["model"] == trace.name]
        np.testing.assert_array_equal(np.asarray(trace.x, dtype=float), np.round(terms["hr"].astype(float), DECIMALS))
    table = content.frames["hazard_ratios"]
    np.testing.assert_array_equal(table["hr"], np.round(view.terms["hr"].astype(float), DECIMALS))


def test_table1_counts_equal_table_one(service):
    from analyses.baseline import table_one
    from disclosure.policy import ReleasePolicy
    from disclosure.table1 import release_table_one, table_one_keys

    content = _content(service, figure="table1", by="lineage", variables=("sex", "age_at_dx"), format="csv")
    frame = service.patients(CohortSpec(), ["lineage", "sex", "age_at_dx"], keys=True)
    raw = table_one(frame, "lineage", ["sex", "age_at_dx"])
    expected = release_table_one(raw, ReleasePolicy(MIN_CELL), table_one_keys(frame, "lineage", raw))
    got = content.frames["categorical"]
    assert [None if v is None or pd.isna(v) else int(v) for v in got["n"]] == [
        None if v is None or pd.isna(v) else int(v) for v in expected.categorical["n"]
    ]
    np.testing.assert_allclose(
        got["percent"].astype(float), np.round(expected.categorical["percent"].astype(float), DECIMALS)
    )


def test_methods_text_names_the_methods_and_the_cut_off(service):
    content = _content(service, figure="km", endpoint="OS", origin="DX", by="lineage", format="txt")
    text = content.methods
    for phrase in ("Kaplan–Meier", "log(−log)", "log-rank", "data cut-off", "2026-06-30", "L0001-", "rounded to 4"):
        assert phrase in text, phrase
    cif = _content(service, figure="cif", endpoint="CIR", origin="CR1", by="lineage", format="txt").methods
    for phrase in ("Aalen–Johansen", "Gray's test", "Fine–Gray", "competing event"):
        assert phrase in cif, phrase
    forest = _content(
        service, figure="forest", endpoint="OS", origin="DX", covariates=("lineage",), format="txt"
    ).methods
    assert "Efron" in forest
    assert "cox.zph" in forest
