"""How the staging reads one value: blanks cut from both ends, then a date or whole number
(registry-extract.md: dates are ISO YYYY-MM-DD; counts and line numbers are whole numbers).

Each case is a named edge: the expected value is what the contract says, written out here, so a
faster expression in ``etl.validate`` cannot quietly accept a different set of texts.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ayaall.contract import TABLES
from etl.validate import _parse, _trim

DATE = TABLES["diagnoses"].column("dx_date")
LINE_NO = TABLES["treatment_lines"].column("line_no")  # a whole number of at least 1


def _value(column: object, text: str) -> object:
    sql = _parse(column, TABLES["diagnoses"])  # type: ignore[arg-type]
    (value,) = duckdb.execute(f"SELECT {sql} FROM (SELECT CAST(? AS VARCHAR) AS t_{column.name})", [text]).fetchone()  # type: ignore[attr-defined,misc]
    return value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2019-12-31", dt.date(2019, 12, 31), id="iso"),
        pytest.param("2020-02-29", dt.date(2020, 2, 29), id="leap_day"),
        pytest.param("0999-01-01", dt.date(999, 1, 1), id="four_digit_year_below_1000"),
        pytest.param("2019-02-29", None, id="not_a_leap_year"),
        pytest.param("2019-13-45", None, id="impossible_month_and_day"),
        pytest.param("2019-1-05", None, id="one_digit_month"),
        pytest.param("2019-01-5", None, id="one_digit_day"),
        pytest.param("19-01-05", None, id="two_digit_year"),
        pytest.param("-019-01-05", None, id="negative_year"),
        pytest.param("+2019-01-05", None, id="signed_year"),
        pytest.param("2019/01/05", None, id="slashes"),
        pytest.param("31/12/2019", None, id="day_first"),
        pytest.param("2019-01-05 00:00:00", None, id="with_a_time"),
        pytest.param("2019-01-05T00:00", None, id="iso_datetime"),
        pytest.param("20190105", None, id="no_separators"),
        pytest.param("２０１９-01-05", None, id="fullwidth_digits"),
        pytest.param("2019-0a-05", None, id="letter"),
    ],
)
def test_a_date_is_read_only_in_iso_form(text: str, expected: dt.date | None) -> None:
    assert _value(DATE, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1", 1, id="one_digit"),
        pytest.param("12", 12, id="two_digits"),
        pytest.param("123", 123, id="three_digits"),
        pytest.param("07", 7, id="leading_zero"),
        pytest.param("+2", 2, id="plus_sign"),
        pytest.param("2.0", 2, id="point_zero"),
        pytest.param("2.00", 2, id="point_zeros"),
        pytest.param("0", None, id="zero_below_minimum"),
        pytest.param("-1", None, id="negative_below_minimum"),
        pytest.param("2.5", None, id="fraction"),
        pytest.param("2.", None, id="trailing_point"),
        pytest.param("1e2", None, id="exponent"),
        pytest.param("1_000", None, id="underscore"),
        pytest.param("one", None, id="word"),
        pytest.param("٣", None, id="arabic_indic_digit"),
        pytest.param("1234567890123456", None, id="sixteen_digits"),
    ],
)
def test_a_whole_number_is_read_only_in_plain_form(text: str, expected: int | None) -> None:
    assert _value(LINE_NO, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("P1", "P1", id="nothing_to_cut"),
        pytest.param(" P1", "P1", id="leading_space"),
        pytest.param("P1 ", "P1", id="trailing_space"),
        pytest.param("\tP1\r\n", "P1", id="tab_cr_lf"),
        pytest.param("P 1", "P 1", id="inner_space_kept"),
        pytest.param("", None, id="empty"),
        pytest.param("  \t ", None, id="only_blanks"),
        pytest.param("!", "!", id="exclamation_mark"),
        pytest.param("!P1 ", "!P1", id="starts_with_exclamation_mark"),
        pytest.param(" é", "é", id="non_ascii_after_a_space"),
        pytest.param("é ", "é", id="non_ascii_before_a_space"),
        pytest.param("\x01P1", "\x01P1", id="control_character_not_a_blank"),
    ],
)
def test_blanks_are_cut_from_both_ends(text: str, expected: str | None) -> None:
    (value,) = duckdb.execute(f"SELECT {_trim('t')} FROM (SELECT CAST(? AS VARCHAR) AS t)", [text]).fetchone()  # type: ignore[misc]
    assert value == expected
