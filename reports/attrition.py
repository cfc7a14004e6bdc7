"""The Cohort page's attrition flow, released: each step's patients removed and remaining through
``ReleasePolicy.count`` with the cell keys of those patients (``etl.read.attrition``)."""

from __future__ import annotations

import pandas as pd

from ayaall.cohort import CohortSpec
from disclosure.policy import policy_for
from reports.service import RegistryService

__all__ = ["attrition_view"]


def attrition_view(service: RegistryService, cohort: CohortSpec, min_cell: int) -> pd.DataFrame:
    """step, label, removed, remaining (released: ints, None where masked) of the cohort's attrition."""
    frame = service.attrition(cohort)
    policy = policy_for(min_cell)
    return pd.DataFrame(
        {
            "step": frame["step"],
            "label": frame["label"],
            "removed": policy.count_column(frame["removed"], frame.index, frame["removed_key"]),
            "remaining": policy.count_column(frame["remaining"], frame.index, frame["remaining_key"]),
        }
    )
