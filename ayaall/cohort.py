"""Cohorts, declared as data: the cohort file of cli.md and its filters on ``analysis_patients``.

A ``CohortSpec`` holds filters on ``analysis_patients`` columns: a list keeps rows whose value is
in it, ``{"min": a, "max": b}`` keeps an inclusive range. ``where`` turns them into SQL conditions with
bound parameters; only column names, checked against the table's columns, appear in the SQL text.
Reading a cohort from the database is ``etl.read``'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ayaall.errors import UserError

__all__ = ["CohortSpec"]

_RANGE_KEYS = {"min", "max"}


@dataclass(frozen=True)
class CohortSpec:
    """Filters on ``analysis_patients``, applied in the order given.

    ``filters`` maps a column to a tuple of allowed values or to a ``(min, max)`` range given as a
    dict with keys ``min`` and/or ``max``. Build one with ``CohortSpec.from_dict`` or
    ``from_file``; ``CohortSpec()`` is the whole registry.
    """

    filters: tuple[tuple[str, tuple[Any, ...] | dict[str, Any]], ...] = field(default=())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "cohort") -> CohortSpec:
        if not isinstance(data, Mapping) or set(data) - {"filters", "name", "description"}:
            raise UserError(f"{source} must be a JSON object with a 'filters' object (see cli.md).")
        filters = data.get("filters", {})
        if not isinstance(filters, Mapping):
            raise UserError(f"{source}: 'filters' must be an object mapping columns to values.")
        items: list[tuple[str, tuple[Any, ...] | dict[str, Any]]] = []
        for column, value in filters.items():
            if isinstance(value, list):
                for v in value:
                    if not isinstance(v, str | int | float | bool) or v is None:
                        raise UserError(
                            f"{source}: filter {column!r} has the value {v!r}, "
                            "which is not a text, number or true/false."
                        )
                items.append((column, tuple(value)))
            elif isinstance(value, Mapping):
                if not value or set(value) - _RANGE_KEYS:
                    raise UserError(f'{source}: filter {column!r} must be a list or {{"min": ..., "max": ...}}.')
                for k, v in value.items():
                    if not isinstance(v, int | float | str) or isinstance(v, bool):
                        raise UserError(
                            f"{source}: filter {column!r} has {k} {v!r}, which is not a number or ISO date."
                        )
                items.append((column, dict(value)))
            else:
                raise UserError(
                    f"{source}: filter {column!r} must be a list of values or a min/max range, not {value!r}."
                )
        return cls(tuple(items))

    @classmethod
    def from_file(cls, path: str | Path) -> CohortSpec:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UserError(f"cohort file {path} does not exist.") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"cohort file {path} is not valid JSON ({exc}).") from exc
        return cls.from_dict(data, source=f"cohort file {path}")

    def to_dict(self) -> dict[str, Any]:
        return {"filters": {c: (list(v) if isinstance(v, tuple) else dict(v)) for c, v in self.filters}}

    def where(self, columns: Mapping[str, str], alias: str = "ap") -> list[tuple[str, str, list[Any]]]:
        """One ``(column, SQL condition, parameters)`` per filter; ``columns`` maps names to DuckDB types."""
        clauses: list[tuple[str, str, list[Any]]] = []
        for column, value in self.filters:
            if column not in columns:
                raise UserError(
                    f"the cohort filters on {column!r}, which is not a column of analysis_patients "
                    f"(columns: {', '.join(sorted(columns))})."
                )
            ref = f'{alias}."{column}"'
            kind = columns[column]
            if isinstance(value, tuple):
                _check_list_types(column, kind, value)
                if not value:
                    clauses.append((column, "false", []))
                else:
                    clauses.append((column, f"{ref} IN ({', '.join('?' * len(value))})", list(value)))
            else:
                conds, params = [], []
                for key, op in (("min", ">="), ("max", "<=")):
                    if key in value:
                        conds.append(f"{ref} {op} ?")
                        params.append(_range_value(column, kind, value[key]))
                clauses.append((column, " AND ".join(conds), params))
        return clauses


def _check_list_types(column: str, kind: str, values: tuple[Any, ...]) -> None:
    for v in values:
        ok = (
            (kind == "BOOLEAN" and isinstance(v, bool))
            or (kind == "VARCHAR" and isinstance(v, str))
            or (
                kind in {"INTEGER", "BIGINT", "DOUBLE", "TINYINT"}
                and isinstance(v, int | float)
                and not isinstance(v, bool)
            )
            or (kind == "DATE" and isinstance(v, str))
        )
        if not ok:
            raise UserError(
                f"the cohort filter {column!r} has the value {v!r}, but {column} holds {kind.lower()} values."
            )


def _range_value(column: str, kind: str, v: Any) -> Any:
    if kind == "DATE":
        try:
            return date.fromisoformat(str(v))
        except ValueError as exc:
            raise UserError(f"the cohort filter {column!r} needs ISO dates (YYYY-MM-DD), not {v!r}.") from exc
    if kind in {"INTEGER", "BIGINT", "DOUBLE", "TINYINT"} and isinstance(v, int | float) and not isinstance(v, bool):
        return v
    raise UserError(f"the cohort filter {column!r} is a range, but {column} holds {kind.lower()} values.")
