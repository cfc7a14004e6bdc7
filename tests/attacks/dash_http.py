"""The dashboard over HTTP, as a browser talks to it: ``POST /_dash-update-component`` on a running app
(Flask's test client, no browser), so an attack reads exactly the bytes the server sends."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attacks.harness import filter_ids, page_values, text_of

__all__ = ["DashHTTP"]


class DashHTTP:
    """A client of one app: :meth:`update` runs a callback by its output key, :meth:`live_count` the
    sidebar's patient count and :meth:`survival` the Survival page."""

    def __init__(self, db: Path, min_cell: int) -> None:
        from ayaall.settings import Settings
        from dashboard.app import create_app

        self.app = create_app(db, Settings(min_cell=min_cell))
        self.client = self.app.server.test_client()
        self.requests = 0

    def _key(self, contains: str) -> str:
        keys = [k for k in self.app.callback_map if contains in k]
        assert keys, f"no callback writes {contains}"
        return min(keys, key=len)

    @staticmethod
    def _outputs(key: str) -> Any:
        def one(text: str) -> dict[str, Any]:
            ident, _, prop = text.rpartition(".")
            return {"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop}

        if key.startswith(".."):
            return [one(part) for part in key.strip(".").split("...")]
        return one(key)

    def update(self, contains: str, inputs: Sequence[Any], state: Sequence[Any] = ()) -> dict[str, Any]:
        """The JSON response of the callback whose output key contains ``contains``."""
        key = self._key(contains)
        body = {
            "output": key,
            "outputs": self._outputs(key),
            "inputs": list(inputs),
            "state": list(state),
            "changedPropIds": [],
        }
        response = self.client.post("/_dash-update-component", json=body)
        self.requests += 1
        assert response.status_code == 200, f"{contains}: HTTP {response.status_code}"
        return json.loads(response.get_data(as_text=True))["response"]

    @staticmethod
    def _filters(filters: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
        ids, values = filter_ids(), page_values(filters)
        inputs = [{"id": i, "property": "value", "value": v} for i, v in zip(ids, values, strict=True)]
        state = [{"id": i, "property": "id", "value": i} for i in ids]
        return inputs, state

    def live_count(self, filters: Mapping[str, Any]) -> str:
        """The sidebar's count text for the cohort of ``filters`` (e.g. "2,992 patients in the cohort")."""
        inputs, state = self._filters(filters)
        response = self.update("cohort-count.children", [inputs], [state])
        return text_of(response["cohort-count"]["children"])

    def survival(self, filters: Mapping[str, Any], endpoint: str, by: str | None, unit: str = "days") -> list[Any]:
        """The Survival page's outputs in the callback's order (message, figure, style, summary, tests,
        warning), as sent."""
        inputs, state = self._filters(filters)
        options = [
            {"id": {"name": name, "type": "view-option"}, "property": "value", "value": value}
            for name, value in (("endpoint", endpoint), ("by", by or "none"), ("unit", unit))
        ]
        key = self._key("survival-figure.figure")
        response = self.update("survival-figure.figure", [inputs, *options], [state])
        return [response[o["id"]][o["property"]] for o in self._outputs(key)]
