"""One module per page. Each exposes ``PATH``, ``TITLE``, ``OPTIONS`` (URL key -> default),
``layout(query, page_ctx)`` building the page from the parsed URL query, and ``register(app, page_ctx)``
adding its callbacks."""

from __future__ import annotations

from dashboard.pages import cohort, competing, cox, quality, response, survival, timing, toxicity, weighting

__all__ = ["PAGES"]

PAGES = (cohort, survival, cox, competing, timing, weighting, response, toxicity, quality)
