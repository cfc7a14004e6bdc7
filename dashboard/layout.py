"""The page shell: navigation bar, the always-visible cohort builder and the current page."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ayaall.settings import Settings
from dashboard import ids
from dashboard.pages import PAGES

__all__ = ["shell"]


def shell(settings: Settings) -> html.Div:
    nav = dbc.Nav(
        [dbc.NavItem(dbc.NavLink(page.TITLE, id=ids.nav_id(page.PATH), href=page.PATH)) for page in PAGES],
        pills=True,
        className="page-nav",
        id=ids.NAV,
    )
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            html.Header(
                [
                    html.H1(settings.title, className="app-title"),
                    html.Span(
                        f"disclosure control: counts shifted and rounded to blocks of {settings.min_cell}, "
                        f"1 to {settings.min_cell} not shown"
                        if settings.min_cell > 1
                        else "disclosure control is off: exact counts",
                        className="suppression-badge",
                    ),
                ],
                className="app-header",
            ),
            html.Nav(nav, **{"aria-label": "pages"}),  # type: ignore[arg-type]
            html.Div(
                [
                    html.Aside(id="cohort-sidebar", className="sidebar", **{"aria-label": "cohort builder"}),  # type: ignore[arg-type]
                    html.Main(id=ids.PAGE, className="page"),
                ],
                className="app-body",
            ),
        ]
    )
