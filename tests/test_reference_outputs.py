"""Today's code returns exactly the stored reference outputs (``tests/reference/outputs``).

The references are what the code of commit f3949e2 returned on the inputs of ``tests/reference/cases.py``
(the commit is in each file's header; ``python tests/reference/generate.py`` writes them again): the
earlier, slower implementations of the treatment-timing estimators (start/stop rows, Simon–Makuch,
Mantel–Byar, landmark analyses, the counting-process Cox model), the group handling of ``fit_km`` and
``logrank_test``. (The Kaplan–Meier small-cell suppression's references went with that suppression:
the release policy of ``disclosure/`` replaced it.) Every comparison is exact: frames with their dtypes,
floats bit for bit, NaN equal to NaN, the same warnings; a result may have fields added after the stored ones (the
counting-process Cox model's ``strata``, ``variance`` and ``tests``, issue 13). The R agreement itself
is tested in tests/test_timing.py and tests/test_km.py.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "reference"))

import codec
from cases import (
    CASES,
    GROUP_COLUMNS,
    LANDMARK_SETS,
    counting_variants,
)
from generate import COX_OPTIONS

from analyses.counting import start_stop_frame
from analyses.cox_counting import fit_cox_counting
from analyses.landmark import fit_landmark, mantel_byar_test, simon_makuch
from analyses.results import group_codes

OUTPUTS = Path(__file__).parent / "reference" / "outputs"
HEADER, TIMING = codec.read(OUTPUTS / "timing.json.gz")


def test_references_name_their_commit() -> None:
    assert HEADER == {"commit": "f3949e2", "script": "tests/reference/generate.py"}


def _same(new: Any, old: Any, path: str = "", *, cell_types: bool = False) -> None:
    """Exact equality of a result with its stored reference; ``cell_types``: an object column's cells have
    the same Python types too (int vs None, as the suppressed tables must; the timing references compare
    values only, as they always did)."""
    if isinstance(old, codec.Stored):
        assert dataclasses.is_dataclass(new), path
        assert type(new).__name__ == old.name, path
        # the stored fields, in order; fields added since the reference commit come after them
        assert [f.name for f in dataclasses.fields(new)][: len(old.fields)] == list(old.fields), path
        for name, value in old.fields.items():
            _same(getattr(new, name), value, f"{path}.{name}", cell_types=cell_types)
    elif isinstance(old, pd.DataFrame):
        pd.testing.assert_frame_equal(new, old, check_exact=True, obj=path)
        for col in old.select_dtypes(include="object").columns if cell_types else ():
            assert [type(v) for v in new[col]] == [type(v) for v in old[col]], (path, col)
    elif isinstance(old, pd.Series):
        pd.testing.assert_series_equal(new, old, check_exact=True, obj=path)
    elif isinstance(old, np.ndarray):
        np.testing.assert_array_equal(new, old, err_msg=path, strict=True)
    elif isinstance(old, dict):
        assert new.keys() == old.keys(), path
        for k in old:
            _same(new[k], old[k], f"{path}[{k!r}]", cell_types=cell_types)
    elif isinstance(old, list | tuple):
        assert len(new) == len(old), path
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _same(a, b, f"{path}[{i}]", cell_types=cell_types)
    elif isinstance(old, float) and math.isnan(old):
        assert isinstance(new, float), path
        assert math.isnan(new), path
    else:
        assert type(new) is type(old), (path, new, old)
        assert new == old, (path, new, old)


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            result = (type(exc).__name__, str(exc))
    return result, [str(w.message) for w in caught]


def _check(key: str, fn: Any, *args: Any, **kwargs: Any) -> None:
    _same(_outcome(fn, *args, **kwargs), TIMING[key], key)


# ------------------------------------------------------------------ treatment timing
@pytest.mark.parametrize("case", list(CASES))
def test_start_stop_frame(case: str) -> None:
    data = CASES[case]
    _check(f"start_stop_frame | {case}", start_stop_frame, data, "time", "status", "expo")
    shuffled = data.sample(frac=1, random_state=1)  # a non-default index: kept out of the result
    _check(f"start_stop_frame | {case} | shuffled", start_stop_frame, shuffled, "time", "status", "expo")


@pytest.mark.parametrize("case", list(CASES))
def test_fit_landmark(case: str) -> None:
    for i, marks in enumerate(LANDMARK_SETS):
        _check(
            f"fit_landmark | {case} | {i}",
            fit_landmark,
            CASES[case],
            "time",
            "status",
            "expo",
            marks,
            times=(5, 15, 30),
        )


def _counting(case: str) -> pd.DataFrame:
    try:
        return start_stop_frame(CASES[case], "time", "status", "expo")
    except Exception:
        assert f"simon_makuch | {case} | numbers" not in TIMING
        pytest.skip("no counting-process data (compared in test_start_stop_frame)")


@pytest.mark.parametrize("case", list(CASES))
def test_simon_makuch_and_mantel_byar(case: str) -> None:
    for name, frame in counting_variants(_counting(case)).items():
        _check(f"simon_makuch | {case} | {name}", simon_makuch, frame)
        _check(f"simon_makuch | {case} | {name} | 0.9", simon_makuch, frame, conf_level=0.9)
        for variance in ("breslow", "hypergeometric"):
            _check(f"mantel_byar | {case} | {name} | {variance}", mantel_byar_test, frame, variance=variance)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", list(CASES))
def test_fit_cox_counting(case: str, ties: str) -> None:
    counting = _counting(case)
    for i, (covariates, options) in enumerate(COX_OPTIONS):
        key = f"fit_cox_counting | {case} | {ties} | {i}"
        _check(key, fit_cox_counting, counting, "start", "stop", "event", covariates, ties=ties, **options)


# ------------------------------------------------------------------ group handling of fit_km and logrank_test
def _failed(result: Any) -> bool:
    return isinstance(result, tuple) and len(result) == 2 and all(isinstance(v, str) for v in result)


@pytest.mark.parametrize("name", list(GROUP_COLUMNS))
def test_group_codes_give_the_groups_of_fit_km_and_logrank(name: str) -> None:
    """Where ``group_codes`` answers, its names and codes are the reference fit_km groups and rows and the
    reference logrank_test levels and codes; where it declines (None), the callers run the reference code."""
    new, _ = _outcome(group_codes, pd.DataFrame({"g": GROUP_COLUMNS[name]}), "g")
    (old_km, _), (old_lr, _) = TIMING[f"km_groups | {name}"], TIMING[f"logrank_groups | {name}"]
    if _failed(new):
        assert new == old_km == old_lr
    elif new is not None:
        names, codes = new
        (order, rows_of), (levels, lr_codes) = old_km, old_lr
        assert names == list(order) == list(levels)
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
