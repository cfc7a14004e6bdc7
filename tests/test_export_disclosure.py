"""Disclosure control holds in exports: a scan of everything an export writes (CSV, XLSX cells, the SVG
figure's text, the methods paragraph, the manifest) finds no count from 1 to min_cell - 1 in a count
position and no patient id; the counts of a group (n, events) are block midpoints (``disclosure.policy``);
each curve is on the 7-day grid and stops before fewer than min_cell remain at risk.

The cohort is deliberately small (T-lineage patients aged 30-39, grouped by frontline regimen; for the
Adjusted comparison page's kinds, B-lineage patients aged 30-39, whose salvage regimens leave small
groups), so that suppression has work to do; the scan checks that it did (some cells are masked) where
the kind has small cells to mask. The attacks on these numbers are tests/attacks.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from export_support import svg_info
from openpyxl import load_workbook

from ayaall.cohort import CohortSpec
from export.kinds import KINDS
from export.requests import ExportRequest

MIN_CELL = 11
COHORT = {"filters": {"lineage": ["T"], "age_group": ["30-39"]}}
WEIGHTING_COHORT = {"filters": {"lineage": ["B"], "age_group": ["30-39"]}}
_WEIGHTING = {
    "endpoint": "OS",
    "origin": "LINE2",
    "treatment": "salvage_regimen",
    "covariates": ("age_at_dx", "mrd_eoi"),
}
_TIMING = {"endpoint": "OS", "origin": "DX", "exposure": "hct"}
REQUESTS = {
    "km": {"figure": "km", "endpoint": "OS", "origin": "DX", "by": "frontline_regimen"},
    "cif": {"figure": "cif", "endpoint": "CIR", "origin": "CR1", "by": "frontline_regimen"},
    "forest": {"figure": "forest", "endpoint": "OS", "origin": "DX", "covariates": ("frontline_regimen", "age_at_dx")},
    "table1": {"figure": "table1", "by": "frontline_regimen", "variables": ("sex", "race", "cns_status", "age_at_dx")},
    "landmark": {"figure": "landmark", "landmarks": (180.0, 365.0), **_TIMING},
    "simon-makuch": {"figure": "simon-makuch", **_TIMING},
    "timing-cox": {"figure": "timing-cox", **_TIMING, "covariates": ("age_at_dx",)},
    "balance": {"figure": "balance", **_WEIGHTING, "cohort": WEIGHTING_COHORT},
    "adjusted-km": {"figure": "adjusted-km", **_WEIGHTING, "cohort": WEIGHTING_COHORT},
    "weighted-cox": {"figure": "weighted-cox", **_WEIGHTING, "cohort": WEIGHTING_COHORT},
    "response": {"figure": "response", "line": 2, "by": "salvage_regimen"},
    "toxicity": {"figure": "toxicity", "line": 1, "by": "sex", "event": "INFECTION"},
}
# Kinds whose small cohort has small cells to mask (the Cox models' patients and events, the balance
# table's treatments, the Simon-Makuch groups of this cohort are all large enough to show).
# (The adjusted comparison's groups, 28 to 149 patients, are rounded, not masked; so, after their cell
# key shifts, are the cumulative incidence's counts of this cohort.)
MASKING = {"km", "table1", "landmark", "response", "toxicity"}
PATIENT_ID = re.compile(r"\bP\d{7}\b")
LEADING_COUNT = re.compile(r"^\s*([\d,]+)(?:\s*\(|$)")


@pytest.fixture(scope="module")
def bundles(service):
    from export.exporter import to_memory

    out = {}
    for name, fields in REQUESTS.items():
        request = ExportRequest(**{"cohort": COHORT, **fields}, min_cell=MIN_CELL, format="zip", figure_format="svg")
        data, manifest = to_memory(service, request, f"{name}.zip", cohort_source={"kind": "test"})
        out[name] = (zipfile.ZipFile(io.BytesIO(data)), manifest)
    return out


def _count_ok(value: object) -> bool:
    """0, or at least MIN_CELL (a masked count is empty or —, and is not a count)."""
    text = str(value).strip()
    if text in ("", "—", "nan", "None"):
        return True
    return int(text.replace(",", "").split(".")[0]) == 0 or int(text.replace(",", "").split(".")[0]) >= MIN_CELL


def _midpoint(value: object) -> bool:
    """0, or the midpoint of a block of MIN_CELL (6 mod 11)."""
    number = int(float(str(value).replace(",", "")))
    return number == 0 or number % MIN_CELL == 6


def _masked(value: object) -> bool:
    return str(value).strip() in ("", "—", "nan", "None")


@pytest.mark.parametrize("name", list(REQUESTS))
def test_no_small_count_in_any_exported_table(bundles, name):
    bundle, _ = bundles[name]
    kind = KINDS[name]
    masked = 0
    for spec in kind.tables:
        member = next(n for n in bundle.namelist() if n.endswith(f"_{spec.name}.csv"))
        table = pd.read_csv(io.BytesIO(bundle.read(member)), dtype=str, keep_default_na=False)
        for col in spec.counts:
            assert all(_count_ok(v) for v in table[col]), (spec.name, col, list(table[col]))
            masked += sum(_masked(v) for v in table[col])
            if col in ("n", "events", "competing_events", "Patients", "Events"):  # a group's counts: released
                assert all(_masked(v) or _midpoint(v) for v in table[col]), (spec.name, col, list(table[col]))
        if spec.name == "table1":  # counts inside "n (%)" cells and "(n=...)" headers
            for col in table.columns[2:-2]:
                head = re.search(r"\(n=([^)]*)\)", col)
                assert head is not None
                assert _count_ok(head.group(1))
                for cell in table[col]:
                    match = LEADING_COUNT.match(cell)
                    assert match is None or _count_ok(match.group(1)), (col, cell)
                    masked += cell == "—"
    if name in MASKING:
        assert masked > 0, "the small cohort should have needed suppression"


@pytest.mark.parametrize("name", list(REQUESTS))
def test_no_small_count_in_the_xlsx(bundles, name):
    bundle, _ = bundles[name]
    member = next(n for n in bundle.namelist() if n.endswith(".xlsx"))
    book = load_workbook(io.BytesIO(bundle.read(member)), read_only=True)
    for spec in KINDS[name].tables:
        rows = list(book[spec.name].iter_rows(values_only=True))
        header = list(rows[0])
        for col in spec.counts:
            j = header.index(col)
            assert all(_count_ok("" if r[j] is None else r[j]) for r in rows[1:]), (spec.name, col)
    assert {"Methods", "Provenance"} <= set(book.sheetnames)


@pytest.mark.parametrize("name", [n for n in REQUESTS if n != "table1"])
def test_no_small_count_in_the_figure_text(bundles, name):
    bundle, _ = bundles[name]
    member = next(n for n in bundle.namelist() if n.endswith(".svg"))
    info = svg_info(bundle.read(member))
    for text in info["textpoints"]:  # the KMunicate table's cells; the response figure's masked groups
        assert text == "suppressed (small count)" or _count_ok(text), text
    for text in info["all_text"]:  # no count in a sentence: "5 patients", "3 of 12"
        assert not re.search(r"\b\d+ (?:patients|of \d)", text), text
    if name == "km":
        assert "—" in info["textpoints"], "the small cohort should have masked cells in the risk table"
    if name == "response":
        assert "suppressed (small count)" in info["textpoints"], "masked groups keep their row, without a point"


@pytest.mark.parametrize("name", list(REQUESTS))
def test_methods_and_manifest_hold_no_small_count_and_no_patient_id(bundles, name):
    bundle, manifest = bundles[name]
    methods = bundle.read(next(n for n in bundle.namelist() if n.endswith("_methods.txt"))).decode()
    counts = re.findall(r"included ([\d,]+) patients", methods)  # the paragraph's only count position
    assert counts
    assert all(int(n.replace(",", "")) % MIN_CELL == 6 for n in counts), counts
    assert f"rounded to the midpoint of its block of {MIN_CELL}" in methods
    assert manifest["release"]["min_cell"] == MIN_CELL
    for member in bundle.namelist():
        data = bundle.read(member)
        text = data.decode("utf-8", errors="ignore") if not member.endswith(".xlsx") else ""
        assert not PATIENT_ID.search(text), member
        assert "patient_id" not in text, member
    assert not PATIENT_ID.search(json.dumps(manifest))


def test_curves_are_on_the_grid_and_stop_before_few_remain_at_risk(bundles, service):
    """Each exported curve: times on the 7-day grid; drawn only for a group released as at least 33
    patients; its last time no later than the week of the last exact time with at least 11 at risk."""
    from analyses.km import fit_km

    bundle, _ = bundles["km"]
    curve = pd.read_csv(io.BytesIO(bundle.read("km/km_curve.csv")))
    medians = pd.read_csv(io.BytesIO(bundle.read("km/km_medians.csv"))).set_index("group")
    frame = service.frame(CohortSpec.from_dict(COHORT), "OS", "DX", ["frontline_regimen"])
    full = fit_km(frame, "time_days", "event_code", "frontline_regimen").curve
    assert (curve["time_days"] % 7 == 0).all()
    drawn = 0
    for group, rows in full.groupby("group"):
        enough = rows[rows["at_risk"] >= MIN_CELL]
        shown = curve[curve["group"] == group]
        if medians.loc[group, "n"] < 3 * MIN_CELL:
            assert shown.empty, f"{group} is released as fewer than {3 * MIN_CELL} patients but has a curve"
            continue
        drawn += 1
        assert float(shown["time_days"].max()) <= 7 * np.ceil(float(enough["time_days"].max()) / 7), group
    assert drawn >= 2
    assert np.isfinite(curve["survival"]).all()
