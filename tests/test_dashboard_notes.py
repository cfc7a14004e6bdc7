"""Notes under a result quote no patient or event count: the analyses word their warnings without them
(``fit_cox``, ``fit_cox_counting``), ``reports.notes.count_free`` rewords the sentences of other modules
that still quote one, and the Cox and Competing risks views (and so their exports) pass every warning
through it.

Cases: the demo registry of tests/conftest.py (3,000 patients, seed 11), patients aged 40+, whose counts
each test takes from the database before checking; synthetic frames built as their docstrings say.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.results import AnalysisError, AnalysisWarning
from ayaall.cohort import CohortSpec
from etl.read import load_analysis_frame

MIN_CELL = 11
OLDER = CohortSpec.from_dict({"filters": {"age_group": ["40+"]}})
# what a note may quote: thresholds and the number of coefficients, not counts of patients or events
_SETTINGS = re.compile(
    r"Fewer than 10 events per coefficient \(\d+ coefficients\)"
    r"|For disclosure control, every count is .*reported on the time grid\."
    r"|drawn for groups of at least \d+ patients"
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w.])")


def _quotes_a_count(note: str) -> bool:
    text = _SETTINGS.sub("", note)
    return bool(_NUMBER.search(text) or re.search(r"\bone patient", text))


def _caught(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        fn()
    return [str(w.message) for w in caught if issubclass(w.category, AnalysisWarning)]


def test_cox_warnings_quote_no_counts() -> None:
    """[few_events] 40 patients, 6 events, 4 numeric covariates (1.5 events per coefficient): ``fit_cox``
    and ``fit_cox_counting`` warn without the events (6) or their ratio to the coefficients (1.5)."""
    from analyses.cox import fit_cox
    from analyses.cox_counting import fit_cox_counting

    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.normal(size=(40, 4)), columns=["a", "b", "c", "d"])
    df["time"] = np.arange(1.0, 41.0)
    df["event"] = [1] * 6 + [0] * 34
    df["start"] = 0.0
    for fit in (
        lambda: fit_cox(df, "time", "event", ["a", "b", "c", "d"]),
        lambda: fit_cox_counting(df, "start", "time", "event", ["a", "b", "c", "d"]),
    ):
        (message,) = _caught(fit)
        assert "Fewer than 10 events per coefficient (4 coefficients)" in message
        assert not _quotes_a_count(message), message


def test_safe_note_rewords_the_counts_other_modules_quote() -> None:
    """[cif_missing, cif_one_patient, missing_values] The real messages of ``analyses.cif`` (3 of 30
    patients with a missing covariate; a group of one patient) and of ``analyses.results.group_labels``
    (a column with 2 missing values), reworded without the counts."""
    from analyses.cif import cumulative_incidence
    from analyses.competing import fit_fine_gray
    from analyses.results import group_labels
    from reports.notes import count_free

    df = pd.DataFrame(
        {
            "time": np.arange(1.0, 31.0),
            "code": [1, 2, 0] * 10,
            "x": [np.nan] * 3 + list(np.linspace(0, 1, 27)),
            "g": ["A"] * 29 + ["B"],
        }
    )
    (missing,) = _caught(lambda: fit_fine_gray(df, "time", "code", ["x"]))
    assert missing.startswith("3 of 30 patients")
    assert count_free(missing) == "Patients with a missing value in x were left out."
    one = [m for m in _caught(lambda: cumulative_incidence(df, "time", "code", "g")) if "one patient" in m]
    assert one
    assert count_free(one[0]) == "Group 'B' has very few patients; its curve is a single step."
    with pytest.raises(AnalysisError) as error:
        group_labels(df.assign(g=[None, None, *df["g"][2:]]), "g")
    assert "2 missing" in str(error.value)
    assert count_free(str(error.value)) == "Column 'g' has missing values."
    assert count_free("Gray's test needs at least one event (code 1); there are none.").endswith("there are none.")


def test_cox_view_notes_quote_no_count(service, demo_db: Path) -> None:
    """[few_events_per_coefficient] Patients aged 40+, OS from diagnosis, four covariates: fewer than 10
    events per coefficient (counted here), so the Cox page warns, without the number of events."""
    from reports.cox import cox_view

    covariates = ["sex", "cns_status", "wbc_at_dx", "salvage_regimen"]
    view = cox_view(service, OLDER, "OS", "DX", covariates, {}, MIN_CELL)
    frame = load_analysis_frame(demo_db, OLDER, "OS", "DX", covariates)
    coefficients = int((view.terms["model"] == "Adjusted").sum())
    assert (frame["event_code"] == 1).sum() / coefficients < 10
    assert any("events per coefficient" in note for note in view.notes)
    assert not [note for note in view.notes if _quotes_a_count(note)]


def test_competing_view_notes_quote_no_count(service, demo_db: Path) -> None:
    """[one_patient_group] Patients aged 40+, CIR from CR1 by salvage regimen: one group has a single
    patient (counted here); the page says it has very few, not how many."""
    from reports.competing import competing_view

    frame = load_analysis_frame(demo_db, OLDER, "CIR", "CR1", ["salvage_regimen"])
    assert (frame["salvage_regimen"].value_counts() == 1).any()
    view = competing_view(service, OLDER, "CIR", "CR1", "salvage_regimen", MIN_CELL)
    assert any("very few patients" in note for note in view.notes)
    assert not [note for note in view.notes if _quotes_a_count(note)]
