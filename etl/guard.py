"""What a load may lose before it is stopped: the checks between staging a table and replacing the database.

Row-level problems are quarantined and the load goes on (registry-extract.md). But a file that is
wrong as a whole can look like a file of bad rows: a header column the rows lack puts every row in
quarantine, a header-only ``patients.csv`` leaves no patients, and every other row then becomes an
orphan. Such a load would "succeed" and replace the registry with an empty one. So, for each table
as soon as it is staged (in load order, so a parent table is judged before its orphans):

- a **required table** that ends up with no rows stops the load;
- a table of which more than ``max_quarantine`` (a share of its rows read; 20% by default, ``ayaall
  load --max-quarantine``) went to quarantine stops the load.

The sentence names the file, the share, and the reason of the first quarantined row, with its line.
The previous database is untouched: nothing has been moved into place yet.
"""

from __future__ import annotations

import duckdb

from ayaall.contract import TableSpec
from ayaall.errors import UserError

__all__ = ["DEFAULT_MAX_QUARANTINE", "check_max_quarantine", "check_staged"]

DEFAULT_MAX_QUARANTINE = 0.2
"""The share of a table's rows that may be quarantined before the load stops."""


def check_max_quarantine(value: float) -> float:
    """``value`` if it is a share from 0 to 1, else ``UserError``."""
    if not 0 <= value <= 1:
        raise UserError(f"--max-quarantine {value:g} must be a share of the rows, from 0 to 1 (e.g. 0.2 for 20%).")
    return value


def check_staged(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    source: object,
    rows_read: int,
    rows_loaded: int,
    rows_quarantined: int,
    max_quarantine: float,
    untouched: str,
) -> None:
    """Raise ``UserError`` if the table just staged would empty a required table or lose too much of it.

    ``source`` names the table's file (its path); ``untouched`` says what the stopped load leaves
    (``LoadTarget.untouched``).
    """
    kept = f"the load was stopped, {untouched}"
    if spec.required_table and rows_loaded == 0:
        if rows_read == 0:
            raise UserError(
                f"{source} has no rows (only its header) and {spec.name} is a required table, so {kept}; "
                "check the export."
            )
        raise UserError(
            f"none of the {rows_read:,} rows of {source} could be loaded ({_first_reason(con, spec.name)}) and "
            f"{spec.name} is a required table, so {kept}."
        )
    if rows_read and rows_quarantined > max_quarantine * rows_read:
        raise UserError(
            f"{rows_quarantined:,} of the {rows_read:,} rows of {source} would be quarantined "
            f"({rows_quarantined / rows_read:.0%}, more than the {max_quarantine:.0%} allowed by --max-quarantine; "
            f"{_first_reason(con, spec.name)}), so {kept}: fix the file, or raise --max-quarantine to load it anyway."
        )


def _first_reason(con: duckdb.DuckDBPyConnection, table: str) -> str:
    row = con.execute(
        "SELECT source_line, reason FROM quarantine WHERE table_name = ? ORDER BY source_line NULLS LAST LIMIT 1",
        [table],
    ).fetchone()
    if row is None:
        return "no row was quarantined"
    line, reason = row
    return f"the first, on line {line}: {reason}" if line is not None else f"the first: {reason}"
