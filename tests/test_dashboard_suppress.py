"""dashboard/suppress.py: what a figure draws of a suppressed Kaplan–Meier curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analyses.km import fit_km
from disclosure.display import curve_for_display
from disclosure.suppression import suppress_km


def _cohort() -> pd.DataFrame:
    """Two groups; the small one (8 patients) has no curve at min_cell 11; the big one has rows whose
    zero censored counts are masked by the run protection (rule 4), so a masked count is not "some"."""
    rng = np.random.default_rng(4)
    big = pd.DataFrame({"time": rng.integers(1, 60, 300), "status": rng.random(300) < 0.7, "group": "big"})
    small = pd.DataFrame({"time": np.arange(1, 9), "status": 1, "group": "small"})
    return pd.concat([big, small], ignore_index=True)


@pytest.mark.parametrize("min_cell", [0, 11])
def test_censor_flags_come_from_the_unsuppressed_fit(min_cell: int) -> None:
    full = fit_km(_cohort(), "time", "status", "group")
    shown, _ = suppress_km(full, min_cell)
    drawn = curve_for_display(shown, full)
    kept = full.curve[full.curve["at_risk"] >= min_cell].reset_index(drop=True)
    assert drawn.curve[["group", "time_days", "survival"]].equals(kept[["group", "time_days", "survival"]])
    assert drawn.curve["censored"].tolist() == (kept["censored"] > 0).tolist()
    assert drawn.curve["at_risk"].isna().all()
    assert drawn.curve["events"].isna().all()


def test_without_the_fit_a_masked_count_is_drawn_as_a_censoring() -> None:
    """The fallback reads the suppressed counts: None is drawn as a mark, which overstates censoring
    wherever a zero was masked (the case the ``full`` argument exists for)."""
    full = fit_km(_cohort(), "time", "status", "group")
    shown, _ = suppress_km(full, 11)
    masked_zero = shown.curve["censored"].isna().to_numpy() & (
        full.curve[full.curve["at_risk"] >= 11]["censored"].to_numpy() == 0
    )
    assert masked_zero.any(), "the cohort should have a masked zero"
    flags = curve_for_display(shown).curve["censored"].to_numpy()
    assert flags[masked_zero].all()
