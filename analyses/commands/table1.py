"""``ayaall analyze table1``: baseline characteristics by a group column, with tests and SMDs (JSON).

Counts are suppressed by ``analyses.baseline.suppress_table_one`` and then by :func:`_protect`, which
closes the ways a masked count could still be worked out from the table (see there).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pandas as pd

from analyses.baseline import MISSING, suppress_table_one, table_one
from analyses.commands._shared import check_min_cell, cohort_from_args, json_value, write_json
from analyses.commands.response import add_table_options
from analyses.suppression import is_small, mask_count, suppress_totals
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
    cohort = cohort_from_args(args)
    variables = [v for v in args.variables.split(",") if v] if args.variables else list(DEFAULT_VARIABLES)
    result = run(args.db, cohort, args.by, variables, min_cell=args.min_cell)
    return write_json(result)


def run(db: Any, cohort: Any, by: str, variables: list[str], *, min_cell: int = 11) -> dict[str, Any]:
    """The ``analyze table1`` JSON document as a dict."""
    from analyses.cohort import cohort_patients_sql, connect_readonly, read_frame

    check_min_cell(min_cell)
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
        frame = read_frame(con, f"SELECT {cols} FROM analysis_patients ap WHERE {where}", params)
    finally:
        con.close()
    raw = table_one(frame, by, [v for v in variables if v != by])
    result = _protect(raw, suppress_table_one(raw, min_cell), min_cell)
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


def _protect(raw: Any, shown: Any, min_cell: int) -> Any:
    """``shown`` (``suppress_table_one(raw)``) with the counts masked that would reveal a masked one.

    ``raw`` holds the true counts. On top of ``suppress_table_one``:

    1. The Overall n is masked when the groups' masking cannot protect it (rule 3's ``exposed``).
    2. A group whose n is masked (rule 3) has every count of its column masked: the column adds up
       to its n.
    3. An Overall cell is masked when the masked cells of its row add up to a small count (it is
       their sum plus the shown ones); within a variable the Overall cells add up to the Overall n,
       so rule 3 masks more of them.
    4. A percentage is of the non-missing values: where a group's missing count is masked (and not
       zero), the group's percentages for that variable are masked (cell / percent is the non-missing
       count, the group's n minus it the missing count).
    5. Continuous rows: non-missing plus missing is the group's n, so when one is masked (and not zero)
       so is the other. The Overall ones add up the groups'; given the groups' n they reveal the
       missing values of the groups whose counts are masked, all together: masked when that is small.
    """
    if not min_cell:
        return shown
    total = raw.groups["n"].iloc[-1]
    group_n, hide_total = suppress_totals(raw.groups["n"].iloc[:-1], min_cell)
    groups = shown.groups.copy()
    groups["n"] = pd.Series([*group_n, None if hide_total else mask_count(total, min_cell)], dtype=object)
    hidden_groups = set(groups.loc[groups["n"].isna(), "group"])
    overall = raw.groups["group"].iloc[-1]
    cat = shown.categorical.copy().astype({"n": object, "percent": object})
    cat.loc[cat["group"].isin(hidden_groups), ["n", "percent"]] = None
    true_n = raw.categorical["n"]
    for _, block in cat.groupby("variable", sort=False):
        in_groups = block[block["group"] != overall]
        for level, row in in_groups.groupby("level", sort=False):
            hidden_sum = true_n[row.index[row["n"].isna()]].sum()
            if is_small(hidden_sum, min_cell):
                cat.loc[block.index[(block["level"] == level) & (block["group"] == overall)], ["n", "percent"]] = None
        col = cat.loc[block.index[block["group"] == overall]]
        masked, exposed = suppress_totals(true_n[col.index], min_cell, also_mask=col["n"].isna())
        cat.loc[[i for i, m in zip(col.index, masked, strict=True) if m is None or exposed], ["n", "percent"]] = None
        for _, column in cat.loc[block.index].groupby("group", sort=False):
            missing = column.index[column["level"] == MISSING]
            if cat.loc[missing, "n"].isna().all() and true_n[missing].sum() > 0:
                cat.loc[column.index, "percent"] = None
    cont = shown.continuous.copy().astype({"n": object, "missing": object})
    true_cont = raw.continuous
    cont.loc[cont["group"].isin(hidden_groups), ["n", "missing"]] = None
    for col, other in (("n", "missing"), ("missing", "n")):
        reveal = cont[col].isna() & (true_cont[col] > 0)
        cont.loc[reveal, other] = None
    for _, block in cont.groupby("variable", sort=False):
        hidden = block.index[(block["group"] != overall) & block[["n", "missing"]].isna().any(axis=1)]
        if is_small(true_cont.loc[hidden, "missing"].sum(), min_cell):
            cont.loc[block.index[block["group"] == overall], ["n", "missing"]] = None
    return dataclasses.replace(shown, groups=groups, categorical=cat, continuous=cont)
