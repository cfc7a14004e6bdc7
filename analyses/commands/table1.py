"""``ayaall analyze table1``: baseline characteristics by a group column, with tests and SMDs (JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from analyses.commands.response import add_table_options
from ayaall.errors import UserError

__all__ = ["DEFAULT_VARIABLES", "register", "run"]

DEFAULT_VARIABLES = (
    "age_at_dx",
    "sex",
    "race",
    "ethnicity",
    "lineage",
    "subtype",
    "wbc_at_dx",
    "cns_status",
    "frontline_regimen",
)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``table1`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "table1",
        help="baseline characteristics by group (Table 1)",
        description="n (%) per level, median [IQR] and mean (SD), tests and "
        "standardized differences by a group column. Prints JSON.",
    )
    add_table_options(parser)
    parser.add_argument("--by", required=True, help="analysis_patients column defining the columns")
    parser.add_argument("--variables", help=f"comma-separated columns (default {','.join(DEFAULT_VARIABLES)})")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from analyses.cohort import CohortSpec

    cohort = CohortSpec.from_file(args.cohort) if args.cohort else CohortSpec()
    variables = [v for v in args.variables.split(",") if v] if args.variables else list(DEFAULT_VARIABLES)
    result = run(args.db, cohort, args.by, variables, min_cell=args.min_cell)
    sys.stdout.write(json.dumps(result, indent=2, allow_nan=False) + "\n")
    return 0


def _clean(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    return int(v) if isinstance(v, np.integer) else v


def run(db: Any, cohort: Any, by: str, variables: list[str], *, min_cell: int = 11) -> dict[str, Any]:
    """The ``analyze table1`` JSON document as a dict."""
    from analyses.baseline import suppress_table_one, table_one
    from analyses.cohort import cohort_patients_sql, connect_readonly

    if min_cell < 0:
        raise UserError(f"--min-cell must be 0 or more, not {min_cell}.")
    con = connect_readonly(db)
    try:
        from analyses.cohort import analysis_columns

        known = analysis_columns(con)
        unknown = [c for c in [by, *variables] if c not in known]
        if unknown:
            raise UserError(
                f"{', '.join(map(repr, unknown))} not a column of analysis_patients (columns: {', '.join(known)})."
            )
        where, params = cohort_patients_sql(con, cohort)
        cols = ", ".join(f'ap."{c}"' for c in dict.fromkeys([by, *variables]))
        frame = con.execute(f"SELECT {cols} FROM analysis_patients ap WHERE {where}", params).df()
    finally:
        con.close()
    result = suppress_table_one(table_one(frame, by, [v for v in variables if v != by]), min_cell)
    rows = []
    for var in [v for v in variables if v != by]:
        test = result.tests.set_index("variable").loc[var]
        entry: dict[str, Any] = {
            "variable": var,
            "kind": test["kind"],
            "test": test["test"],
            "statistic": _clean(test["statistic"]),
            "df": _clean(test["df"]),
            "p": _clean(test["p"]),
            "smd": _clean(test["smd"]),
            "note": test["note"] or None,
        }
        if test["kind"] == "categorical":
            cat = result.categorical[result.categorical["variable"] == var]
            entry["levels"] = [
                {"level": r["level"], "group": r["group"], "n": _clean(r["n"]), "percent": _clean(r["percent"])}
                for r in cat.to_dict("records")
            ]
        else:
            cont = result.continuous[result.continuous["variable"] == var]
            entry["summaries"] = [
                {k: _clean(v) for k, v in r.items() if k != "variable"} for r in cont.to_dict("records")
            ]
        rows.append(entry)
    return {
        "by": by,
        "min_cell": min_cell,
        "groups": [
            {"group": g, "n": _clean(n)} for g, n in zip(result.groups["group"], result.groups["n"], strict=True)
        ],
        "smd": "continuous: pooled SD; categorical: Yang & Dalton; max over pairs with 3+ groups",
        "variables": rows,
    }
