"""What a page's callbacks need: the data service, the server's settings and the cohort from the controls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ayaall.cohort import CohortSpec
from ayaall.settings import Settings
from dashboard.state import cohort_from_values
from disclosure.policy import ReleasePolicy, policy_for
from reports.service import RegistryService

__all__ = ["PageContext"]


@dataclass(frozen=True)
class PageContext:
    service: RegistryService
    settings: Settings

    @property
    def min_cell(self) -> int:
        return self.settings.min_cell

    def cohort(self, values: Sequence[Any], control_ids: Sequence[dict[str, str]]) -> CohortSpec:
        """The cohort selected by the filter controls (values and ids of ``ids.FILTER_ALL``)."""
        by_column = {cid["column"]: v for cid, v in zip(control_ids, values, strict=True)}
        return cohort_from_values(by_column, self.service.full_ranges())

    @property
    def policy(self) -> ReleasePolicy:
        """The server's release policy (``--min-cell``)."""
        return policy_for(self.min_cell)

    def release(self, count: int, key: int | None = None) -> int | None:
        """``count`` (of the patients whose cell key is ``key``) as it may be shown (``ReleasePolicy.count``)."""
        return self.policy.count(count, key)
