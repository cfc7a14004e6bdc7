"""Property tests of the generator over small registries of any seed and size (hypothesis).

Invariants, not reference values: a clean extract of any seed/size/cutoff satisfies the contract and
is consistent in time (``synthetic_data.checks.consistency_problems``); a messy one lists defects
that point at distinct rows of the written files, and keeps one row per patient in patients apart
from the duplicates it declares.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ayaall.contract import TABLES
from synthetic_data import generate_registry
from synthetic_data.checks import consistency_problems, read_tables

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=400)


@_SETTINGS
@given(
    seed=seeds,
    n=sizes,
    fmt=st.sampled_from(["csv", "parquet"]),
    cutoff=st.dates(min_value=date(2012, 1, 1), max_value=date(2030, 12, 31)),
)
def test_clean_extract_is_consistent_for_any_seed_and_size(seed: int, n: int, fmt: str, cutoff: date) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        summary = generate_registry(tmp, n, seed, fmt=fmt, data_cutoff=cutoff, first_dx_year=2010)
        assert consistency_problems(tmp) == []
        tables = read_tables(tmp)
        assert {t: f.height for t, f in tables.items()} == summary.rows
        assert tables["patients"].height == n
        dx = tables["diagnoses"]["dx_date"].str.to_date()
        assert dx.min() >= date(2010, 1, 1)
        assert dx.max() <= cutoff


@_SETTINGS
@given(
    seed=seeds,
    n=st.integers(min_value=20, max_value=400),
    messy=st.sampled_from([0.01, 0.05, 0.2]),
    fmt=st.sampled_from(["csv", "parquet"]),
)
def test_messy_defects_point_at_distinct_rows(seed: int, n: int, messy: float, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        summary = generate_registry(tmp, n, seed, messy=messy, fmt=fmt)
        defects = json.loads((Path(tmp) / "defects.json").read_text())
        assert len(defects) == summary.n_defects
        tables = read_tables(tmp)
        seen = set()
        for d in defects:
            assert d["table"] in TABLES
            assert d["expected"] in {"quarantine", "warning", "excluded", "accepted"}
            if d["source_line"] is None or d["defect_class"] in ("bom", "extra_column"):
                continue
            row_index = d["source_line"] - (2 if fmt == "csv" else 1)
            assert 0 <= row_index < tables[d["table"]].height
            assert (d["table"], row_index) not in seen
            seen.add((d["table"], row_index))
        dup_patients = sum(1 for d in defects if d["table"] == "patients" and d["defect_class"] == "duplicate_exact")
        assert tables["patients"].height == n + dup_patients
        assert tables["followup"].filter(pl.col("patient_id").is_not_null()).height <= n
