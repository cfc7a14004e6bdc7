"""Treatment timing page (being built)."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.context import PageContext

__all__ = ["OPTIONS", "PATH", "TITLE", "layout", "register"]

PATH = "/timing"
TITLE = "Treatment timing"
OPTIONS: dict[str, Any] = {}


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    return html.Div([html.H2(TITLE), html.P("This page is not available yet.")])


def register(app: Any, page_ctx: PageContext) -> None:
    return None
