"""The faster treatment-timing path returns exactly what the code of commit 4a22dd9 returned.

tests/timing_reference.py holds that code verbatim (start/stop rows, Simon–Makuch, Mantel–Byar,
landmark analyses, the counting-process Cox model, suppress_km's run protection, curve_for_display and
the group handling of fit_km / logrank_test). Every comparison here is exact (bitwise for floats, NaN
equal to NaN, same dtypes): the rewrites add the same numbers in the same order, or count whole numbers
(exact in any order). The R agreement itself is tested in tests/test_timing.py.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import timing_reference as reference

from analyses.km import fit_km
from analyses.results import group_codes
from analyses.suppression import _protect_runs, suppress_km
from analyses.timing import (
    fit_cox_counting,
    fit_landmark,
    mantel_byar_test,
    simon_makuch,
    start_stop_frame,
)
from dashboard.suppress import curve_for_display


def _same(new, old, path: str = "") -> None:
    """Exact equality of results: frames and series with their dtypes, floats bit for bit (NaN == NaN)."""
    if dataclasses.is_dataclass(new):
        assert type(new).__name__ == type(old).__name__, path
        for f in dataclasses.fields(new):
            _same(getattr(new, f.name), getattr(old, f.name), f"{path}.{f.name}")
    elif isinstance(new, pd.DataFrame):
        pd.testing.assert_frame_equal(new, old, check_exact=True, obj=path)
    elif isinstance(new, pd.Series):
        pd.testing.assert_series_equal(new, old, check_exact=True, obj=path)
    elif isinstance(new, np.ndarray):
        np.testing.assert_array_equal(new, old, err_msg=path, strict=True)
    elif isinstance(new, dict):
        assert new.keys() == old.keys(), path
        for k in new:
            _same(new[k], old[k], f"{path}[{k!r}]")
    elif isinstance(new, list | tuple):
        assert len(new) == len(old), path
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(new, float) and math.isnan(new):
        assert isinstance(old, float), path
        assert math.isnan(old), path
    else:
        assert type(new) is type(old), (path, new, old)
        assert new == old, (path, new, old)


def _outcome(fn):
    """The result, or the exception's type and message, with the warnings issued (their text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except Exception as exc:
            result = (type(exc).__name__, str(exc))
    return result, [str(w.message) for w in caught]


def _both(new_fn, old_fn, *args, **kwargs) -> None:
    """The new and the old function on the same arguments: the same result (or error) and warnings."""
    new, old = _outcome(lambda: new_fn(*args, **kwargs)), _outcome(lambda: old_fn(*args, **kwargs))
    _same(new, old)


# ------------------------------------------------------------------ patient data: seeded and named edge cases
def _random_patients(seed: int, n: int = 300) -> pd.DataFrame:
    """Coarse times (many ties, some 0), event codes 0/1/2, exposures before time 0, at 0, at the end of
    follow-up, after it, or never; a covariate with missing values and a text one."""
    rng = np.random.default_rng(seed)
    time = rng.integers(0, 40, n).astype(float)
    expo = rng.integers(-3, 45, n).astype(float)
    expo[rng.random(n) < 0.35] = np.nan
    pick = rng.random(n)
    expo[pick < 0.05] = time[pick < 0.05]  # exposed on the last day: never exposed
    expo[(pick >= 0.05) & (pick < 0.1)] = 0.0  # exposed at time zero
    age = rng.normal(30, 8, n)
    age[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:04d}" for i in range(n)],
            "time": time,
            "status": rng.choice([0, 1, 2], n, p=[0.35, 0.55, 0.1]),
            "expo": expo,
            "age": age,
            "sex": rng.choice(["F", "M"], n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )


def _edge_patients() -> dict[str, pd.DataFrame]:
    base = _random_patients(99, 120)
    return {
        "nobody_exposed": base.assign(expo=np.nan),
        "everybody_exposed_at_zero": base.assign(expo=0.0),
        "exposed_before_zero": base.assign(expo=np.where(base["expo"].notna(), -2.0, np.nan)),
        "exposure_at_end_of_follow_up": base.assign(expo=base["time"]),
        "ties_at_one_time": base.assign(time=7.0, expo=np.where(np.arange(120) % 3 == 0, 3.0, np.nan)),
        "censored_at_the_landmarks": base.assign(time=np.where(np.arange(120) % 4 == 0, 10.0, base["time"])),
        "events_at_time_zero": base.assign(time=np.where(np.arange(120) % 9 == 0, 0.0, base["time"]), status=1),
        "no_events": base.assign(status=0),
        "one_patient": base.iloc[:1],
    }


CASES = {**{f"seed{s}": _random_patients(s) for s in range(8)}, **_edge_patients()}
LANDMARKS = [0.0, 5.0, 10.0, 20.0, 100.0]


def _counting_or_none(data: pd.DataFrame):
    try:
        return start_stop_frame(data, "time", "status", "expo")
    except Exception:
        return None


# ------------------------------------------------------------------ analyses.timing
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_start_stop_frame(case: str) -> None:
    data = CASES[case]
    _both(start_stop_frame, reference.start_stop_frame, data, "time", "status", "expo")
    shuffled = data.sample(frac=1, random_state=1)  # a non-default index: kept out of the result
    _both(start_stop_frame, reference.start_stop_frame, shuffled, "time", "status", "expo")


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_simon_makuch_and_mantel_byar(case: str) -> None:
    counting = _counting_or_none(CASES[case])
    if counting is None:
        pytest.skip("no counting-process data (compared in test_start_stop_frame)")
    texts = counting.assign(exposed=np.where(counting["exposed"] == 1, "yes", "no"))  # text groups
    no_ids = counting.drop(columns="row_id")
    for data in (counting, texts, no_ids):
        _both(simon_makuch, reference.simon_makuch, data)
        _both(simon_makuch, reference.simon_makuch, data, conf_level=0.9)
        for variance in ("breslow", "hypergeometric"):
            _both(mantel_byar_test, reference.mantel_byar_test, data, variance=variance)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_fit_landmark(case: str) -> None:
    data = CASES[case]
    for marks in (LANDMARKS, 10.0, [3.0, 3.0, 0.0]):
        _both(fit_landmark, reference.fit_landmark, data, "time", "status", "expo", marks, times=(5, 15, 30))


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_fit_cox_counting(case: str, ties: str) -> None:
    counting = _counting_or_none(CASES[case])
    if counting is None:
        pytest.skip("no counting-process data (compared in test_start_stop_frame)")
    for covariates, options in (
        (["exposed"], {"cluster_col": "row_id"}),
        (["exposed"], {"robust": True}),
        (["exposed"], {}),
        (["exposed", "age", "sex"], {"cluster_col": "row_id"}),  # missing ages: complete cases only
        (["exposed", "sex"], {"weights_col": "w", "robust": True}),
    ):
        args = (counting, "start", "stop", "event", covariates)
        _both(fit_cox_counting, reference.fit_cox_counting, *args, ties=ties, **options)


# ------------------------------------------------------------------ suppression
@pytest.mark.parametrize("seed", range(30))
def test_protect_runs(seed: int) -> None:
    """Random curves' count cells: shown rows, small and NaN counts, a remainder, 1-3 count columns."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols, min_cell = int(rng.integers(0, 60)), int(rng.integers(1, 4)), int(rng.choice([2, 5, 11]))
    counts = rng.choice([0, 0, 1, 2, 3, 5, 8, 12, 20], size=(n_rows, n_cols)).astype(float)
    counts[rng.random((n_rows, n_cols)) < 0.05] = np.nan
    shown = rng.random(n_rows) < rng.uniform(0.05, 0.9)
    hidden = np.isnan(counts) | ((counts > 0) & (counts < min_cell))
    for remainder in (0, int(rng.integers(1, 15))):
        new = _protect_runs(shown, counts, hidden.copy(), remainder, min_cell)
        old = reference._protect_runs(shown, counts, hidden.copy(), remainder, min_cell)
        np.testing.assert_array_equal(new, old, strict=True)


@pytest.mark.parametrize("min_cell", [0, 3, 11])
@pytest.mark.parametrize("seed", range(6))
def test_suppressed_landmark_curves_for_display(seed: int, min_cell: int) -> None:
    """curve_for_display with and without the full fit, on landmark KM fits (two groups, ties)."""
    data = _random_patients(seed, 500)
    data = data.assign(group=np.where(data["expo"] <= 10, "exposed", "unexposed"))
    km = fit_km(
        data,
        "time",
        "status",
        "group",
        times=(5, 20),
    )
    shown, _ = suppress_km(km, min_cell)
    _same(curve_for_display(shown, km), reference.curve_for_display(shown, km))
    _same(curve_for_display(shown), reference.curve_for_display(shown))


# ------------------------------------------------------------------ group handling of fit_km and logrank_test
def _group_columns() -> dict[str, pd.Series]:
    rng = np.random.default_rng(5)
    n = 200
    text = rng.choice(["b", "a", "C", "a b", "10", "9"], n)
    return {
        "text": pd.Series(text, dtype=object),
        "categorical": pd.Series(pd.Categorical(text, categories=["C", "b", "a", "a b", "10", "9", "unused"])),
        "string_dtype": pd.Series(text, dtype="string"),
        "integers": pd.Series(rng.integers(-2, 12, n)),
        "floats": pd.Series(rng.choice([0.5, 2.0, 10.0, 1e-7], n)),
        "booleans": pd.Series(rng.random(n) < 0.5),
        "nullable_integers": pd.Series(rng.integers(0, 3, n), dtype="Int64"),
        "dates": pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D")),
        "single_group": pd.Series(["only"] * n, dtype=object),
        "numbers_as_objects": pd.Series(rng.choice([1, 2, 30], n).astype(object)),
        "missing": pd.Series(np.where(rng.random(n) < 0.1, None, text), dtype=object),
        "mixed_types": pd.Series(rng.choice([1, "1"], n).tolist(), dtype=object),
    }


GROUP_COLUMNS = _group_columns()


def _failed(result) -> bool:
    return isinstance(result, tuple) and len(result) == 2 and all(isinstance(v, str) for v in result)


@pytest.mark.parametrize("name", list(GROUP_COLUMNS), ids=list(GROUP_COLUMNS))
def test_group_codes_give_the_groups_of_fit_km_and_logrank(name: str) -> None:
    """Where ``group_codes`` answers, its names and codes are the old fit_km groups and rows and the old
    logrank_test levels and codes; where it declines (None), the callers run the old code."""
    df = pd.DataFrame({"g": GROUP_COLUMNS[name]})
    (new, _), (old_km, _), (old_lr, _) = (
        _outcome(lambda: group_codes(df, "g")),
        _outcome(lambda: reference.km_groups(df, "g")),
        _outcome(lambda: reference.logrank_groups(df, "g")),
    )
    if _failed(new):
        assert new == old_km == old_lr
    elif new is not None:
        names, codes = new
        (order, rows_of), (levels, lr_codes) = old_km, old_lr
        assert names == order == levels
        for i, group in enumerate(names):
            np.testing.assert_array_equal(np.flatnonzero(codes == i), rows_of[group])
        np.testing.assert_array_equal(codes, lr_codes)


def test_group_codes_decline_and_fail_where_expected() -> None:
    """Named cases: dates (their text is not their name) make group_codes decline; missing values fail as
    group_labels fails; text groups are answered."""
    assert group_codes(pd.DataFrame({"g": GROUP_COLUMNS["dates"]}), "g") is None
    with pytest.raises(Exception, match="missing values"):
        group_codes(pd.DataFrame({"g": GROUP_COLUMNS["missing"]}), "g")
    assert group_codes(pd.DataFrame({"g": GROUP_COLUMNS["text"]}), "g")[0] == ["10", "9", "C", "a", "a b", "b"]
