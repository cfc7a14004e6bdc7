"""``ayaall analyze table1``: baseline characteristics by a group column, with tests and SMDs (JSON).

The numbers are the Cohort page's Table 1 (``reports.table1``: the same rows, small categories and
groups combined and every count released by ``disclosure.table1``; ``release`` says how); the export
writes the same table.
"""

from __future__ import annotations

import argparse
from typing import Any

from ayaall.filters import TABLE_ONE
from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.policy import policy_for
from reports.analyze.common import check_min_cell, cohort_from_args, json_value, write_json
from reports.analyze.response import add_table_options
from reports.service import RegistryService
from reports.table1 import table_one_result, table_one_variables

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``table1`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "table1",
        help="baseline characteristics by group (Table 1)",
        description="n (%) per level, median [IQR] and mean (SD), tests and "
        "standardized differences by a group column. Prints JSON.",
    )
    add_table_options(parser)
    parser.add_argument("--by", help="analysis_patients column whose groups are the columns (default: one column)")
    parser.add_argument(
        "--variables", help=f"comma-separated columns (default {','.join(c for c, _ in TABLE_ONE)}: Table 1's rows)"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    variables = [v for v in args.variables.split(",") if v] if args.variables else []
    result = run(args.db, cohort, args.by, variables, min_cell=args.min_cell)
    return write_json(result)


def run(
    db: Any, cohort: Any, by: str | None, variables: list[str], *, min_cell: int = DEFAULT_MIN_CELL
) -> dict[str, Any]:
    """The ``analyze table1`` JSON document as a dict: ``reports.table1.table_one_result``, the Cohort page's
    Table 1 (``variables`` empty: the rows of ``ayaall.filters.TABLE_ONE``)."""
    check_min_cell(min_cell)
    service = RegistryService(db, blas_threads=None)
    try:
        result = table_one_result(service, cohort, by, min_cell, variables)
    finally:
        service.close()
    rows = []
    for var in table_one_variables(by, variables):
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
        "release": policy_for(min_cell).to_dict(),
        "groups": [
            {"group": g, "n": json_value(n)} for g, n in zip(result.groups["group"], result.groups["n"], strict=True)
        ],
        "smd": "continuous: pooled SD; categorical: Yang & Dalton; max over pairs with 3+ groups",
        "variables": rows,
    }
