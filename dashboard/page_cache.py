"""Whole callback outputs, cached: a figure of many thousand points costs ~100-300 ms to build, so a page
whose cohort and options were seen before answers from the service's LRU cache (as the survival page)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from ayaall.errors import UserError
from dashboard.context import PageContext
from dashboard.data import cohort_key

__all__ = ["cached_outputs"]


def cached_outputs(
    page_ctx: PageContext,
    page: str,
    values: Sequence[Any],
    control_ids: Sequence[dict[str, str]],
    options: Hashable,
    compute: Callable[[], tuple[Any, ...]],
) -> tuple[Any, ...]:
    """``compute()``, cached under the page, the cohort of the filter controls, ``options`` and the
    server's threshold; computed without the cache when the controls do not make a cohort (its message)."""
    try:
        cohort = cohort_key(page_ctx.cohort(values, control_ids))
    except UserError:
        return compute()
    return page_ctx.service.cached((f"{page}-outputs", cohort, options, page_ctx.min_cell), compute)
