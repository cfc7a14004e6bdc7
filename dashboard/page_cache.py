"""Whole callback outputs, cached: a figure of many thousand points costs ~100-300 ms to build, so a page
whose cohort and options were seen before answers from the service's LRU cache (as the survival page)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from ayaall.errors import UserError
from dashboard.context import PageContext
from reports.service import cohort_key

__all__ = ["cached_outputs", "cached_page"]


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


def cached_page(page: str) -> Callable[[Callable[..., tuple[Any, ...]]], Callable[..., tuple[Any, ...]]]:
    """Decorator for a page's ``outputs(page_ctx, values, control_ids, *options)``: :func:`cached_outputs`
    keyed on every option (a list as a tuple), so no option can be left out of the key."""

    def decorate(compute: Callable[..., tuple[Any, ...]]) -> Callable[..., tuple[Any, ...]]:
        @functools.wraps(compute)
        def outputs(
            page_ctx: PageContext, values: Sequence[Any], control_ids: Sequence[dict[str, str]], *options: Any
        ) -> tuple[Any, ...]:
            key = tuple(tuple(o) if isinstance(o, list) else o for o in options)
            return cached_outputs(
                page_ctx, page, values, control_ids, key, lambda: compute(page_ctx, values, control_ids, *options)
            )

        return outputs

    return decorate
