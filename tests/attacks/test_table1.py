"""Attack 4: Table 1 sums.

One exact integer programme per Table 1 variable: the unknowns are the true counts of every level
(missing included) in every group, and a column for patients without a group. What is shown is linear in
them: each level × group cell and its percentage of the group's known values (session start: computed
from exact counts), the Overall column (the sum across groups), each group's size in its header, the
missing row (absent: no missing value anywhere), the Overall size, and the cohort's live count. Each
cell's least and greatest value (``scipy.optimize.milp``) against the truth (the same Table 1 at
``--min-cell 0``): recovered when they are equal, the true value and 1 to k - 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

from attacks.harness import Release, Score, parse_count
from attacks.payloads import table1_page
from attacks.solvers import IntegerModel

K = 11
OVERALL = "Overall"


@dataclass
class Variable:
    name: str
    levels: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], str] = field(default_factory=dict)  # (level, column) -> text
    continuous: bool = False


def parse_table1(frame: pd.DataFrame) -> tuple[dict[str, int | None], list[Variable]]:
    """Group sizes (by column name; Overall last) and the variables of a Table 1 as shown."""
    columns = [c for c in frame.columns if "(n=" in c]
    sizes = {c.split(" (n=")[0]: parse_count(c.split("(n=")[1].rstrip(")")) for c in columns}
    variables: list[Variable] = []
    for row in frame.itertuples(index=False):
        record = dict(zip(frame.columns, row, strict=True))
        if record["Characteristic"]:
            variables.append(Variable(str(record["Characteristic"])))
        var = variables[-1]
        level = str(record["Level"])
        if level in ("median (IQR)", "mean (SD)"):
            var.continuous = True
            continue
        var.levels.append(level)
        for c in columns:
            var.cells[(level, c.split(" (n=")[0])] = str(record[c])
    return sizes, variables


def _percent(text: str) -> float | None:
    if "(" not in text or "%" not in text:
        return None
    try:
        return float(text.split("(")[1].split("%")[0])
    except ValueError:
        return None


Terms = Callable[[str, str], list[str]]


def add_table(
    m: IntegerModel,
    var: Variable,
    sizes: dict[str, int | None],
    live: tuple[int, int] | None,
    release: Release,
    terms: Terms,
) -> list[str]:
    """The constraints one Table 1 variable's rows give: ``terms(level, column)`` names the unknowns whose
    sum is the true count of a level in a column (a group, "_none" for patients without one, or Overall);
    the levels, "missing" included, are returned."""
    groups = [g for g in sizes if g != OVERALL]
    levels = (
        ["known", "missing"] if var.continuous else [*var.levels, *([] if "missing" in var.levels else ["missing"])]
    )
    for g in groups:
        lo, hi = release.bounds(sizes[g])
        m.add([t for lv in levels for t in terms(lv, g)], lo, hi)
    total = [t for lv in levels for t in terms(lv, OVERALL)]
    m.add(total, *release.bounds(sizes.get(OVERALL)))
    if live is not None:  # the bounds the live count gives
        m.add(total, *live)
    if "missing" not in var.levels:
        m.add(terms("missing", OVERALL), 0, 0)
    for (level, column), text in var.cells.items():
        lv = "missing" if level == "missing" else ("known" if var.continuous else level)
        shown = parse_count(text)
        if shown is not None or release.rounded:
            m.add(terms(lv, column), *release.bounds(shown))
        pct = _percent(text)
        if pct is not None and not release.rounded and level != "missing" and not var.continuous:
            known = [t for other in levels if other != "missing" for t in terms(other, column)]
            # pct - 0.5 <= 100 n / known <= pct + 0.5, in integers: linear in the cells
            for bound, lo_hi in ((pct + 0.5, (-float("inf"), 0.0)), (pct - 0.5, (0.0, float("inf")))):
                coef: dict[str, float] = {}
                for t in terms(lv, column):
                    coef[t] = coef.get(t, 0.0) + 100.0
                for k in known:
                    coef[k] = coef.get(k, 0.0) - bound
                m.add(coef, *lo_hi)
    return levels


def single_terms(sizes: dict[str, int | None]) -> Terms:
    """x[level|group] per group and one for patients without a group; Overall is their sum (an ungrouped
    table: one column)."""
    groups = [g for g in sizes if g != OVERALL]
    cols = [*groups, "_none"] if groups else ["_all"]

    def terms(level: str, column: str) -> list[str]:
        if column == OVERALL:
            return [f"x[{level}|{g}]" for g in cols]
        return [f"x[{level}|{column}]"]

    return terms


def linked_terms(groups1: list[str], groups2: list[str], levels: list[str], side: int, row_of: str | None) -> Terms:
    """Three-way unknowns n[level|g1|g2]: a variable's cells in the table by the first grouping (side 1)
    or by the second (side 2) sum over the other grouping; ``row_of`` 'g1' or 'g2': the rows of the other
    grouping's variable in a table (their levels are that grouping's groups, "missing" its "_none")."""
    cols1, cols2 = [*groups1, "_none"], [*groups2, "_none"]

    def cell(a: str, g1: str, g2: str) -> str:
        return f"n[{a}|{g1}|{g2}]"

    def terms(level: str, column: str) -> list[str]:
        mine = cols1 if side == 1 else cols2
        picked = mine if column == OVERALL else [column]
        out = []
        for c in picked:
            if row_of is None:
                others = cols2 if side == 1 else cols1
                out += [cell(level, c, o) if side == 1 else cell(level, o, c) for o in others]
            else:
                g = "_none" if level == "missing" else level
                out += [cell(a, c, g) if side == 1 else cell(a, g, c) for a in levels]
        return out

    return terms


@pytest.mark.parametrize(
    ("case", "by"),
    [
        ("whole", "lineage"),
        ("whole", "frontline_regimen"),
        ("random 0", "sex"),
        ("random 1", None),
        ("random 2", "lineage"),
        ("random 3", "age_group"),
    ],
)
def test_table1_sums(case: str, by: str | None, ctx, truth_ctx, cohorts, release, scoreboard) -> None:
    """Every level × group cell of a Table 1, with its margins and the live count."""
    filters = {} if case == "whole" else cohorts[int(case.split()[1])]
    score = Score(f"Table 1 sums: {case} by {by}", K)
    sizes, variables = parse_table1(table1_page(ctx, filters, by))
    true_sizes, true_vars = parse_table1(table1_page(truth_ctx, filters, by))
    truth = {v.name: v for v in true_vars}
    live = (
        ctx.release(ctx.service.cohort_size(_spec(filters)))
        if hasattr(ctx, "release")
        else ctx.mask(ctx.service.cohort_size(_spec(filters)))
    )
    groups = [g for g in sizes if g != OVERALL]
    for var in variables:
        model = IntegerModel()
        terms = single_terms(sizes)
        levels = add_table(model, var, sizes, release.bounds(live), release, terms)
        assert model.feasible(), f"{case} {var.name}: the attack's reading of Table 1 is inconsistent"
        score_cells(score, model, truth.get(var.name), levels, [*groups, OVERALL], terms, f"{case} by {by}: {var.name}")
    assert true_sizes
    scoreboard(score)
    assert score.recovered == 0, score.message()


def _spec(filters: dict[str, Any]) -> Any:
    from attacks.harness import cohort_spec

    return cohort_spec(filters)


def score_cells(
    score: Score,
    model: IntegerModel,
    truth: Variable | None,
    levels: list[str],
    columns: list[str],
    terms: Terms,
    where: str,
) -> None:
    """Each shown cell's least and greatest value against the same cell at min cell 0."""
    if truth is None:
        return
    for level in levels:
        for column in columns:
            key = (level if level != "known" else "", column)
            if key not in truth.cells:
                continue
            true = parse_count(truth.cells[key])
            if true is None:
                continue
            found = model.interval(terms(level, column))
            assert found is not None
            score.add(true, found[0], found[1], f"{where} {level} {column}")


@pytest.mark.parametrize(
    ("case", "first", "second"),
    [("whole", "lineage", "sex"), ("random 0", "lineage", "sex"), ("random 3", "sex", "lineage")],
)
def test_linked_tables(case: str, first: str, second: str, ctx, truth_ctx, cohorts, release, scoreboard) -> None:
    """Two Table 1s of one cohort (by two groupings, each a row of the other's table): one programme over
    the three-way counts level × first group × second group of each variable, with both tables' cells."""
    filters = {} if case == "whole" else cohorts[int(case.split()[1])]
    score = Score(f"Table 1 sums, two linked tables: {case} by {first} and by {second}", K)
    sizes1, vars1 = parse_table1(table1_page(ctx, filters, first))
    sizes2, vars2 = parse_table1(table1_page(ctx, filters, second))
    truth1 = {v.name: v for v in parse_table1(table1_page(truth_ctx, filters, first))[1]}
    truth2 = {v.name: v for v in parse_table1(table1_page(truth_ctx, filters, second))[1]}
    from ayaall.filters import column_label

    by2 = {v.name: v for v in vars2}
    row_second = next((v for v in vars1 if v.name == column_label(second)), None)
    row_first = by2.get(column_label(first))
    groups1, groups2 = [g for g in sizes1 if g != OVERALL], [g for g in sizes2 if g != OVERALL]
    for var in vars1:
        other = by2.get(var.name)
        if other is None or var.continuous or row_second is None or row_first is None:
            continue
        levels = sorted({*var.levels, *other.levels, "missing"})
        model = IntegerModel()
        t1 = linked_terms(groups1, groups2, levels, 1, None)
        t2 = linked_terms(groups1, groups2, levels, 2, None)
        add_table(model, var, sizes1, None, release, t1)
        add_table(model, other, sizes2, None, release, t2)
        add_table(model, row_second, sizes1, None, release, linked_terms(groups1, groups2, levels, 1, "g2"))
        add_table(model, row_first, sizes2, None, release, linked_terms(groups1, groups2, levels, 2, "g1"))
        assert model.feasible(), f"{case} {var.name}: the attack's reading of the two tables is inconsistent"
        where = f"{case} {var.name}"
        score_cells(score, model, truth1.get(var.name), levels, [*groups1, OVERALL], t1, f"{where} by {first}")
        score_cells(score, model, truth2.get(var.name), levels, [*groups2, OVERALL], t2, f"{where} by {second}")
    scoreboard(score)
    assert score.recovered == 0, score.message()
