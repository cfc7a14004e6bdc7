"""The app factory: ``create_app(db_path, settings)`` builds a Dash app on a loaded database, read-only.

Nothing is read at import time. The page is chosen by the URL path and the whole view state (cohort,
endpoint, grouping, options) lives in the URL query string: a callback writes every control's value
there, and a pasted URL rebuilds the controls from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc  # noqa: F401  (components used by the pages)
from dash import Input, Output, State, no_update

from ayaall.settings import Settings
from dashboard import audit, auth, exposures, guard, ids, sidebar
from dashboard.context import PageContext
from dashboard.layout import shell
from dashboard.pages import PAGES
from dashboard.state import encode_search, filter_values_from_query, parse_search, values_from_cohort
from reports.service import RegistryService

__all__ = ["create_app"]

_PAGES_BY_PATH = {page.PATH: page for page in PAGES}
_HOME = PAGES[0].PATH


def create_app(db_path: str | Path, settings: Settings | None = None) -> dash.Dash:
    """A Dash app serving the database at ``db_path`` (opened read-only) with ``settings``.

    Raises ``ayaall.errors.UserError`` when the database is missing or was not written by ``ayaall load``.
    """
    settings = settings or Settings()
    service = RegistryService(db_path, cache_size=settings.cache_size)
    page_ctx = PageContext(service, settings)
    app = dash.Dash(
        __name__,
        title=settings.title,
        suppress_callback_exceptions=True,
        assets_folder=str(Path(__file__).parent / "assets"),
        update_title=None,  # type: ignore[arg-type]  # None turns the 'Updating...' title off (Dash docs)
    )
    app.layout = shell(settings)
    _register_shell(app, page_ctx)
    sidebar.register(app, page_ctx)
    exposures.register(app)
    for page in PAGES:
        page.register(app, page_ctx)
    audit.install(app.server, settings)  # first: it times and logs every request, refused ones included
    auth.install(app.server, settings)
    _install_guard(app, page_ctx, settings)
    app.server.config["AYAALL_SERVICE"] = service  # for tests and the benchmark
    return app


def _install_guard(app: dash.Dash, page_ctx: PageContext, settings: Settings) -> None:
    """``dashboard.guard`` over the values the shell, the sidebar and every page offer."""
    outputs = set(app.callback_map)
    dynamic = set()
    for key in outputs:
        for part in key.strip(".").split("..."):
            component, _, prop = part.rpartition(".")
            if prop == "options":
                dynamic.add(component)
    built: dict[int, dict[str, guard.Allowed]] = {}

    def allowed() -> dict[str, guard.Allowed]:
        """The values the pages offer on the load the service reads (rebuilt after a new load)."""
        page_ctx.service.load_info()  # notices a new load
        generation = page_ctx.service.generation
        if generation not in built:
            layouts = [shell(settings), sidebar.sidebar({}, page_ctx), *(page.layout({}, page_ctx) for page in PAGES)]
            built.clear()
            built[generation] = guard.allowed_values(layouts, dynamic)
        return built[generation]

    allowed()
    guard.install(app.server, allowed, outputs)


def _register_shell(app: dash.Dash, page_ctx: PageContext) -> None:
    @app.callback(
        Output("cohort-sidebar", "children"),
        Output(ids.PAGE, "children"),
        Input(ids.URL, "pathname"),
        State(ids.URL, "search"),
        State("cohort-sidebar", "children"),
    )
    def render(pathname: str | None, search: str | None, current_sidebar: Any) -> Any:
        query = parse_search(search)
        page = _PAGES_BY_PATH.get(pathname or _HOME, _PAGES_BY_PATH[_HOME])
        side = no_update if current_sidebar else sidebar.sidebar(filter_values_from_query(query), page_ctx)
        return side, page.layout(query, page_ctx)

    @app.callback(
        Output(ids.URL, "search"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.OPTION_ALL, "value"),
        State(ids.FILTER_ALL, "id"),
        State(ids.OPTION_ALL, "id"),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def sync_url(
        filter_values: list[Any],
        option_values: list[Any],
        filter_ids: list[dict[str, str]],
        option_ids: list[dict[str, str]],
        current: str | None,
    ) -> Any:
        if not filter_ids:  # the sidebar is not there yet
            return no_update
        cohort = page_ctx.cohort(filter_values, filter_ids)
        options = [(oid["name"], v) for oid, v in zip(option_ids, option_values, strict=True)]
        search = encode_search(values_from_cohort(cohort), options)
        return no_update if search == (current or "") else search

    @app.callback(
        Output(ids.nav_id_all(), "href"),
        Output(ids.nav_id_all(), "active"),
        Input(ids.URL, "search"),
        Input(ids.URL, "pathname"),
        State(ids.nav_id_all(), "id"),
    )
    def nav_links(search: str | None, pathname: str | None, nav_ids: list[dict[str, str]]) -> Any:
        # Moving between pages keeps the cohort and the shared options (endpoint, grouping, units).
        current = pathname if pathname in _PAGES_BY_PATH else _HOME
        return ([nid["path"] + (search or "") for nid in nav_ids], [nid["path"] == current for nid in nav_ids])
