"""``ayaall analyze table1``: baseline characteristics by a group column, with tests and SMDs (JSON).

Counts are suppressed by ``analyses.baseline.suppress_table_one``, which also closes the ways a masked
count could still be worked out from the table; the dashboard and the export use the same function.
"""

from __future__ import annotations

import argparse
from typing import Any

from analyses.baseline import table_one
from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.table1 import suppress_table_one
from reports.analyze.common import check_min_cell, cohort_from_args, json_value, write_json
from reports.analyze.response import add_table_options

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
    cohort = cohort_from_args(args)
    variables = [v for v in args.variables.split(",") if v] if args.variables else list(DEFAULT_VARIABLES)
    result = run(args.db, cohort, args.by, variables, min_cell=args.min_cell)
    return write_json(result)


def run(db: Any, cohort: Any, by: str, variables: list[str], *, min_cell: int = DEFAULT_MIN_CELL) -> dict[str, Any]:
    """The ``analyze table1`` JSON document as a dict."""
    from etl.read import cohort_patients_sql, connect_readonly, read_frame

    check_min_cell(min_cell)
    con = connect_readonly(db)
    try:
        from etl.read import analysis_columns

        known = analysis_columns(con)
        unknown = [c for c in [by, *variables] if c not in known]
        if unknown:
            raise UserError(
                f"{', '.join(map(repr, unknown))} not a column of analysis_patients (columns: {', '.join(known)})."
            )
        where, params = cohort_patients_sql(con, cohort)
        cols = ", ".join(f'ap."{c}"' for c in dict.fromkeys([by, *variables]))
        frame = read_frame(con, f"SELECT {cols} FROM analysis_patients ap WHERE {where}", params)
    finally:
        con.close()
    raw = table_one(frame, by, [v for v in variables if v != by])
    result = suppress_table_one(raw, min_cell)
    rows = []
    for var in [v for v in variables if v != by]:
        test = result.tests.set_index("variable").loc[var]
        entry: dict[str, Any] = {
            "variable": var,
            "kind": test["kind"],
            "test": test["test"],
            "statistic": json_value(test["statistic"]),
            "df": json_value(test["df"]),
            "p": json_value(test["p"]),
            "smd": json_value(test["smd"]),
            "note": test["note"] or None,
        }
        if test["kind"] == "categorical":
            cat = result.categorical[result.categorical["variable"] == var]
            entry["levels"] = [
                {"level": r["level"], "group": r["group"], "n": json_value(r["n"]), "percent": json_value(r["percent"])}
                for r in cat.to_dict("records")
            ]
        else:
            cont = result.continuous[result.continuous["variable"] == var]
            entry["summaries"] = [
                {k: json_value(v) for k, v in r.items() if k != "variable"} for r in cont.to_dict("records")
            ]
        rows.append(entry)
    return {
        "by": by,
        "min_cell": min_cell,
        "groups": [
            {"group": g, "n": json_value(n)} for g, n in zip(result.groups["group"], result.groups["n"], strict=True)
        ],
        "smd": "continuous: pooled SD; categorical: Yang & Dalton; max over pairs with 3+ groups",
        "variables": rows,
    }
