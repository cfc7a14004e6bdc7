"""The cell key method (``disclosure.cellkey``, ``etl.keys``): a count's shift is fixed by the patients in
it, so the same patients give the same released count everywhere, overlapping cohorts get unrelated
shifts, the keys survive a reload and never leave the server.

The padded-differencing attack the method is there for is tests/attacks/test_differencing.py (it recovered
29 of 49 small counts with rounding alone); the cases here pin the mechanism. Demo registry: tests/conftest.py
(3,000 patients, seed 11, record keys seeded 11).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ayaall.cohort import CohortSpec
from ayaall.records import KEY_SPACE
from disclosure.cellkey import cell_key, curve_keys, key_sums, shift, shifts, text_codes
from disclosure.policy import ReleasePolicy

MIN_CELL = 11
T_LINEAGE = CohortSpec.from_dict({"filters": {"lineage": ["T"]}})


# ------------------------------------------------------------------------------ the perturbation table
def test_shifts_are_uniform_from_minus_d_to_d() -> None:
    """[ptable_uniform] Over 70,000 random keys each shift of -3..3 takes a seventh (within half a
    percentage point), and a
    key's shift is the same whichever function computes it."""
    keys = np.random.default_rng(0).integers(0, KEY_SPACE, 70_000, dtype=np.uint64)
    values, counts = np.unique(shifts(keys, 3, len(keys)), return_counts=True)
    assert list(values) == [-3, -2, -1, 0, 1, 2, 3]
    assert np.all(np.abs(counts / len(keys) - 1 / 7) < 0.005)  # about 4 standard errors
    assert [shift(int(k), 3) for k in keys[:500]] == list(shifts(keys[:500], 3, 500).astype(int))
    assert shift(0, 3) == -3
    assert shift(KEY_SPACE - 1, 3) == 3
    assert shift(None, 3) == 0


@pytest.mark.parametrize("count", [0, 1, 2, 5, 11, 12, 40, 1000])
def test_a_perturbed_count_keeps_its_zero_and_its_one(count: int) -> None:
    """[perturbed_bounds] Whatever the key: 0 stays 0; a count of at least 1 stays at least 1 and moves by
    at most 3; without a key (a database without record keys) it is only rounded."""
    policy = ReleasePolicy(MIN_CELL)
    for key in (0, KEY_SPACE // 2, KEY_SPACE - 1, 123456789):
        moved = policy.perturbed(count, key)
        assert moved == 0 if count == 0 else (moved >= 1 and abs(moved - count) <= 3)
    assert policy.perturbed(count, None) == count
    assert policy.count(count, None) == ReleasePolicy(MIN_CELL, noise=0).count(count)


def test_cumulative_counts_stay_non_decreasing() -> None:
    """[cumulative_monotone] A cumulative count perturbed cell by cell can fall (a shift of +3 then -3);
    the released one is its running maximum, never falling, within 3 of the truth."""
    policy = ReleasePolicy(MIN_CELL)
    cum = np.array([0, 1, 2, 2, 5, 9, 14, 15, 30], dtype=float)
    keys = np.array([0, KEY_SPACE - 1, 0, 0, KEY_SPACE - 1, 0, KEY_SPACE // 2, 0, 5], dtype=np.uint64)
    out = policy.perturbed_cumulative(cum, keys)
    assert np.all(np.diff(out) >= 0)
    assert out[0] == 0
    assert np.all(np.abs(out - cum)[1:] <= 6)
    assert np.all(out[1:] >= np.maximum(cum[1:] - 3, 1))


def test_a_cell_key_is_the_sum_of_record_keys_modulo_2_32() -> None:
    """[cell_key_sum] Order does not matter; a missing key gives no cell key."""
    keys = np.array([KEY_SPACE - 1, 5, 7], dtype=np.uint64)
    assert cell_key(keys) == (KEY_SPACE - 1 + 12) % KEY_SPACE == cell_key(keys[::-1])
    assert cell_key(pd.Series([1.0, np.nan])) is None


def test_grouped_key_sums_are_exact_at_any_size() -> None:
    """[key_sums_exact] The fast grouped sum (16-bit halves through bincount) equals the exact integer sum
    modulo 2**32 for keys at the top of the range, where a float64 sum of whole keys would round (300,000
    keys of 2**32 - 1 sum past 2**53); negative codes belong to no group."""
    rng = np.random.default_rng(3)
    keys = np.concatenate([np.full(300_000, KEY_SPACE - 1, dtype=np.uint64), rng.integers(0, KEY_SPACE, 1000)])
    keys = keys.astype(np.uint64)
    codes = np.concatenate([np.zeros(300_000, dtype=np.intp), rng.integers(-1, 4, 1000)])
    got = key_sums(codes, 5, keys)
    for g in range(5):
        want = sum(int(k) for k, c in zip(keys, codes, strict=True) if c == g) % KEY_SPACE
        assert int(got[g]) == want
    assert int(got[0]) == cell_key(keys[codes == 0])


def test_text_codes_merge_values_that_print_alike() -> None:
    """[text_codes] 1 and "1" are one row of a table (their text), a missing value has code -1."""
    codes, names = text_codes(pd.Series([1, "1", None, "B", True], dtype=object))
    assert names == ["1", "B", "True"]
    assert codes.tolist() == [0, 0, -1, 1, 2]


def test_curve_keys_sum_the_patients_leaving_at_each_time() -> None:
    """[curve_keys] Per group and time, the key sum of each way's rows; each group's key over all its rows;
    a group label that is missing is the group "nan"."""
    frame = pd.DataFrame(
        {
            "g": ["a", "b", "a", "a", None, "b"],
            "t": [5.0, 5.0, 5.0, 9.0, 1.0, 2.0],
            "event": [1, 1, 0, 1, 1, 0],
            "record_key": np.array([KEY_SPACE - 1, 7, 3, 11, 13, 17], dtype=np.uint64),
        }
    )
    ev = frame["event"].to_numpy() == 1
    keys = curve_keys(frame, "g", "t", {"events": ev, "censored": ~ev})
    assert keys is not None
    assert keys.at("a", np.array([5.0, 9.0, 1.0]), "events").tolist() == [KEY_SPACE - 1, 11, 0]
    assert keys.at("a", np.array([5.0]), "censored").tolist() == [3]
    assert keys.at("b", np.array([2.0, 5.0]), "censored").tolist() == [17, 0]
    assert keys.at("nan", np.array([1.0]), "events").tolist() == [13]
    assert keys.group("a") == (KEY_SPACE - 1 + 3 + 11) % KEY_SPACE
    assert keys.group("b") == 24


# ------------------------------------------------------------------------------ the same patients, one answer
def test_the_same_patients_give_the_same_count_on_every_page(service) -> None:
    """[same_cell_everywhere] The T-lineage patients: the live count of the cohort lineage = T, the T column
    of Table 1 by lineage and the T group of the Survival page (OS from diagnosis: every patient has a
    row) are one set, released as one value; the released value differs from plain rounding for some of
    the cohorts tried (the shift is there)."""
    from reports.survival import survival_view
    from reports.table1 import table_one_result

    policy = ReleasePolicy(MIN_CELL)
    n, key = service.cohort_cell(T_LINEAGE)
    live = policy.count(n, key)
    table1 = table_one_result(service, CohortSpec(), "lineage", MIN_CELL)
    column = dict(zip(table1.groups["group"], table1.groups["n"], strict=True))["T"]
    survival = survival_view(service, CohortSpec(), "OS", "DX", "lineage", "years", MIN_CELL)
    group = survival.km.summary.set_index("group").loc["T", "n"]
    assert live == column == group
    differs = tried = 0
    choices = service.filter_choices()
    for column in ("center_id", "subtype", "salvage_regimen"):
        for value in choices[column]:
            size, k = service.cohort_cell(CohortSpec.from_dict({"filters": {column: [value]}}))
            assert (k is None) == (size == 0)  # an empty cohort has no key (and is released as 0)
            differs += policy.count(size, k) != ReleasePolicy(MIN_CELL, noise=0).count(size)
            tried += 1
    assert tried >= 30
    assert differs >= 3


def test_cohorts_one_patient_apart_get_unrelated_shifts(demo_db: Path) -> None:
    """[one_patient_apart] Growing a set patient by patient, the shift of each set is a fresh draw: over
    2,000 nested sets every shift of -3..3 occurs, and consecutive sets agree no more often than chance
    (about 1 in 7)."""
    con = duckdb.connect(str(demo_db), read_only=True)
    keys = con.execute("SELECT record_key FROM record_keys ORDER BY patient_id").fetchnumpy()["record_key"]
    con.close()
    nested = np.cumsum(np.asarray(keys[:2000], dtype=np.uint64)) % np.uint64(KEY_SPACE)
    s = shifts(nested, 3, len(nested))
    assert set(s) == {-3, -2, -1, 0, 1, 2, 3}
    assert np.mean(s[1:] == s[:-1]) < 0.2


# ------------------------------------------------------------------------------ keys at load
def test_record_keys_survive_a_reload_and_new_patients_get_new_ones(demo_extract: Path, tmp_path: Path) -> None:
    """[keys_persist] Loading the same extract over a database keeps every patient's key (so a reload gives
    the same numbers and two releases of one count are one release); a fresh database with another seed
    draws other keys; every patient has one."""
    from etl import load_extract

    db = tmp_path / "r.duckdb"
    load_extract(demo_extract, db, record_key_seed=1)
    first = duckdb.connect(str(db), read_only=True).execute("SELECT * FROM record_keys ORDER BY 1").fetchdf()
    load_extract(demo_extract, db)  # a reload: no seed, the previous keys are kept
    again = duckdb.connect(str(db), read_only=True).execute("SELECT * FROM record_keys ORDER BY 1").fetchdf()
    pd.testing.assert_frame_equal(first, again)
    other = tmp_path / "other.duckdb"
    load_extract(demo_extract, other, record_key_seed=2)
    fresh = duckdb.connect(str(other), read_only=True).execute("SELECT * FROM record_keys ORDER BY 1").fetchdf()
    assert (fresh["record_key"] != first["record_key"]).mean() > 0.99
    con = duckdb.connect(str(db), read_only=True)
    (missing,) = con.execute(
        "SELECT count(*) FROM analysis_patients ap LEFT JOIN record_keys rk USING (patient_id) "
        "WHERE rk.record_key IS NULL"
    ).fetchone()
    con.close()
    assert missing == 0


def test_record_keys_never_leave_the_server(demo_db: Path, service, capsys) -> None:
    """[keys_stay] No record key and no cell key (32-bit numbers) appears in ``analyze`` JSON, in an export
    bundle (every file) or in a page's callback output, and neither does the column's name."""
    import plotly.utils

    from ayaall.cli import main
    from dashboard.app import create_app
    from dashboard.context import PageContext
    from dashboard.pages.survival import survival_outputs
    from export.exporter import to_memory
    from export.requests import ExportRequest

    con = duckdb.connect(str(demo_db), read_only=True)
    keys = set(con.execute("SELECT record_key FROM record_keys").fetchnumpy()["record_key"].tolist())
    con.close()
    keys |= {service.cohort_cell(CohortSpec())[1], service.cohort_cell(T_LINEAGE)[1]}
    texts = []
    for args in (["km", "--endpoint", "OS", "--origin", "DX", "--by", "lineage"], ["table1", "--by", "lineage"]):
        assert main(["analyze", *args, "--db", str(demo_db), "--json"]) == 0
        texts.append(capsys.readouterr().out)
    request = ExportRequest(figure="km", endpoint="OS", origin="DX", by="lineage", format="zip", figure_format="svg")
    data, _ = to_memory(service, request, "km.zip", cohort_source={"kind": "test"})
    bundle = zipfile.ZipFile(io.BytesIO(data))
    texts += [bundle.read(n).decode("utf-8", "ignore") for n in bundle.namelist()]
    app = create_app(demo_db)
    from ayaall.settings import Settings

    ctx = PageContext(app.server.config["AYAALL_SERVICE"], Settings())
    from ayaall.filters import FILTERS

    ids_ = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]
    outputs = survival_outputs(ctx, [None] * len(ids_), ids_, "OS/DX", "lineage", "years")
    texts.append(json.dumps(outputs, cls=plotly.utils.PlotlyJSONEncoder))
    for text in texts:
        assert "record_key" not in text
        numbers = {int(m) for m in re.findall(r"(?<![\d.])\d{6,10}(?![\d.])", text)}
        assert not numbers & keys
