"""The inputs of the stored reference outputs: seeded patient data and named edge cases.

``generate.py`` runs the reference code on these and stores what it returned; the tests
(``tests/test_reference_outputs.py``) run today's code on the same inputs and compare exactly. The
inputs are built here, from seeds, so neither side stores them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CASES",
    "EDGE_KM_COHORTS",
    "GROUP_COLUMNS",
    "LANDMARKS",
    "LANDMARK_SETS",
    "counting_variants",
    "protect_runs_inputs",
    "random_km_cohort",
    "random_patients",
]

LANDMARKS = [0.0, 5.0, 10.0, 20.0, 100.0]
#: the landmark days of each fit_landmark reference: a list, one number, repeated and unsorted days
LANDMARK_SETS = (LANDMARKS, 10.0, [3.0, 3.0, 0.0])


def counting_variants(counting: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Counting-process rows as numbers, with text exposure groups, and without the patient's row id."""
    return {
        "numbers": counting,
        "texts": counting.assign(exposed=np.where(counting["exposed"] == 1, "yes", "no")),
        "no_ids": counting.drop(columns="row_id"),
    }


def random_patients(seed: int, n: int = 300) -> pd.DataFrame:
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
    base = random_patients(99, 120)
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


#: patient data of the treatment-timing references: 8 seeded cohorts and 9 named edge cases
CASES: dict[str, pd.DataFrame] = {**{f"seed{s}": random_patients(s) for s in range(8)}, **_edge_patients()}


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


#: grouping columns of every kind, for the group handling of fit_km and logrank_test
GROUP_COLUMNS: dict[str, pd.Series] = _group_columns()


def random_km_cohort(seed: int, max_groups: int = 4, max_size: int = 300) -> pd.DataFrame:
    """Integer times on a short range (many ties), mixed censoring, uneven group sizes (some below 11)."""
    rng = np.random.default_rng(seed)
    frames = []
    for g in range(int(rng.integers(1, max_groups + 1))):
        size = int(rng.integers(1, max_size))
        frames.append(
            pd.DataFrame(
                {
                    "time": rng.integers(0, int(rng.integers(5, 400)), size),
                    "status": (rng.random(size) < rng.uniform(0.0, 1.0)).astype(int),
                    "group": f"g{g}",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


#: Kaplan–Meier cohorts of the small-cell suppression references
EDGE_KM_COHORTS: dict[str, pd.DataFrame] = {
    "single_group": pd.DataFrame({"time": np.arange(60) % 17, "status": np.arange(60) % 3 == 0, "group": "a"}),
    "all_censored": pd.DataFrame({"time": np.arange(80) % 23, "status": 0, "group": np.repeat(["a", "b"], 40)}),
    "all_events": pd.DataFrame({"time": np.arange(50) % 9 + 1, "status": 1, "group": np.repeat(["a", "b"], 25)}),
    "group_smaller_than_min_cell": pd.DataFrame(
        {
            "time": np.r_[np.arange(70) % 31, [3, 8, 8, 12]],
            "status": np.r_[np.arange(70) % 2, [1, 0, 1, 1]],
            "group": ["big"] * 70 + ["tiny"] * 4,
        }
    ),
    "ties_at_one_time": pd.DataFrame({"time": np.full(40, 7), "status": np.arange(40) % 2, "group": "a"}),
    "events_at_time_zero": pd.DataFrame({"time": np.r_[np.zeros(6), np.arange(1, 45)], "status": 1, "group": "a"}),
    "one_patient": pd.DataFrame({"time": [5], "status": [1], "group": ["a"]}),
}


def protect_runs_inputs(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int], int]:
    """Random curves' count cells: shown rows, small and NaN counts, remainders, 1-3 count columns."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols, min_cell = int(rng.integers(0, 60)), int(rng.integers(1, 4)), int(rng.choice([2, 5, 11]))
    counts = rng.choice([0, 0, 1, 2, 3, 5, 8, 12, 20], size=(n_rows, n_cols)).astype(float)
    counts[rng.random((n_rows, n_cols)) < 0.05] = np.nan
    shown = rng.random(n_rows) < rng.uniform(0.05, 0.9)
    hidden = np.isnan(counts) | ((counts > 0) & (counts < min_cell))
    return shown, counts, hidden, [0, int(rng.integers(1, 15))], min_cell
