"""Read each extract file once, in pieces, before it is loaded: its checksum and, for CSV, its records.

DuckDB's CSV reader lands the tables (``etl.raw``), but it is not left to judge what a file holds:
an unclosed quote makes it read the rest of the file as one value (and count one row), a file
without line breaks keeps it reading for minutes, and a row with tens of thousands of fields too
many costs it one reject row, holding the whole line, per extra field. So every CSV file is read
here first, 256 KB at a time (memory stays bounded whatever the file holds), and

- its **records** are counted as RFC 4180 reads them: a line break inside a quoted value does not
  end a record, and an empty line is not a record (DuckDB skips it). The load then checks that the
  reader read exactly that many rows (kept or rejected), so no row goes uncounted;
- a file that cannot be read row by row stops the load with one sentence naming the line: a
  quoted value that is never closed, or closed in a later line by a quote that does not end a
  field (an unbalanced quote); a line longer than ``max_line_bytes``; a row with more than
  ``max_extra_fields`` fields beyond the header's; a carriage return alone outside a quoted value;
  line endings mixing CR LF and LF.

Quote rules are DuckDB's (strict mode): a quote opens a quoted value only at the start of a field
(after a comma or a line break); elsewhere it is an ordinary character. Inside a quoted value two
quotes are one quote; the next lone quote closes the value. Most pieces hold no quote at all and
are counted with a few vectorised passes; a piece with quotes is parsed by pairing its quotes,
checked against those rules, and only a piece that breaks them (a stray quote) is walked quote by
quote.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ayaall.errors import UserError

__all__ = ["MAX_EXTRA_FIELDS", "MAX_LINE_BYTES", "FileScan", "ScanCancelled", "scan_csv", "scan_parquet"]

MAX_LINE_BYTES = 1 << 20
"""The longest line a table may hold (bytes); DuckDB's reader is given the same bound."""

MAX_EXTRA_FIELDS = 100
"""Fields a row may have beyond the header's before the file is taken as not that table. A row
with a few extra fields is quarantined; each extra field costs the reader a reject row holding
the line, so the number is bounded."""

# Bytes read at a time: at most MAX_LINE_BYTES (a line within a piece is then short enough), and
# small enough for a piece and the masks made from it to stay in the processor's cache: the
# counting passes over a 1 MB piece wait on memory (0.45 s for the 1M extract's 255 MB, checksum
# included, against 0.26 s in 256 KB pieces; the checksum alone takes 0.19 s).
_PIECE = 1 << 18
_BOM = b"\xef\xbb\xbf"
_QUOTE, _COMMA, _LF, _CR, _SPACE = 34, 44, 10, 13, 32
_FIELD_START = (_COMMA, _LF, _CR)  # a quote after one of these opens a quoted value
# What may stand before an opening quote and after a closing one: a field boundary, or a quote (two
# quotes in a row inside a value are an escaped quote), as a table indexed by byte.
_BESIDE_QUOTE = np.isin(np.arange(256), (*_FIELD_START, _QUOTE))


class ScanCancelled(Exception):
    """The load was stopped while the file was being read."""


@dataclass(frozen=True)
class FileScan:
    """What reading a file once found.

    ``records`` is the number of data records (CSV: the header and empty lines not counted;
    Parquet: the row count of its metadata). ``line_ending`` is ``"LF"`` or ``"CRLF"`` (CSV only);
    ``quoted_line_breaks`` counts the line breaks inside quoted values (each makes a record one
    physical line longer). ``stray_quote_line`` is the first line where a quoted value's closing
    quote is followed by more text in the same field (0 when none): the reader rejects that row,
    and where quotes are that broken its count of rows may differ from this one.
    """

    sha256: str
    records: int
    line_ending: str | None = None
    quoted_line_breaks: int = 0
    stray_quote_line: int = 0


def scan_parquet(path: Path, cancel: threading.Event | None = None) -> FileScan:
    """Checksum a Parquet file and read its row count from the file's metadata."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while piece := handle.read(_PIECE):
                if cancel is not None and cancel.is_set():
                    raise ScanCancelled
                digest.update(piece)
    except OSError as exc:
        raise UserError(f"{path} could not be read ({exc.strerror}).") from exc
    try:
        rows = pq.read_metadata(path).num_rows
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise UserError(f"{path} is not a readable Parquet file ({exc}).") from exc
    return FileScan(digest.hexdigest(), int(rows))


def scan_csv(
    path: Path,
    n_columns: int,
    *,
    cancel: threading.Event | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_extra_fields: int = MAX_EXTRA_FIELDS,
    piece_bytes: int = _PIECE,
) -> FileScan:
    """Checksum a CSV file and count its records; raise ``UserError`` if it cannot be read row by row.

    Parameters
    ----------
    path
        The file.
    n_columns
        Fields in its header.
    cancel
        Set to stop reading (``ScanCancelled`` is raised).
    max_line_bytes, max_extra_fields
        The bounds on one line and one row (see the module's docstring).
    piece_bytes
        Bytes read at a time (at most ``max_line_bytes``); the counts do not depend on it.

    Returns
    -------
    FileScan
        Checksum, records (data rows), line ending, line breaks inside quoted values.
    """
    piece_size = min(piece_bytes, max_line_bytes)
    digest = hashlib.sha256()
    counter = _Counter(path, n_columns, max_extra_fields)
    rest = b""  # the part of a line after the last break read so far

    def take(piece: bytes) -> None:
        """Count the whole lines ``rest + piece`` holds; keep what follows the last break in ``rest``.

        The line that ``rest`` begins is counted as a line of its own, so the piece is not copied.
        """
        nonlocal rest
        first_break = piece.find(b"\n")
        if first_break < 0:
            rest += piece
            if len(rest) > max_line_bytes:
                _too_long(path, counter.lines + 1, max_line_bytes)
            return
        if len(rest) + first_break > max_line_bytes:
            _too_long(path, counter.lines + 1, max_line_bytes)
        start = 0
        if rest:
            line = rest + piece[: first_break + 1]
            counter.feed(line, 0, len(line))
            start = first_break + 1
        end = piece.rfind(b"\n") + 1
        if end > start:
            counter.feed(piece, start, end)
        rest = piece[end:]

    try:
        with path.open("rb") as handle:
            head = handle.read(len(_BOM))
            digest.update(head)
            take(head.removeprefix(_BOM))  # a byte-order mark is no part of the header
            while piece := handle.read(piece_size):
                if cancel is not None and cancel.is_set():
                    raise ScanCancelled
                digest.update(piece)
                take(piece)
    except OSError as exc:
        raise UserError(f"{path} could not be read ({exc.strerror}).") from exc
    last_line = counter.lines
    if rest:  # a last line without a line break
        counter.feed(rest + b"\n", 0, len(rest) + 1, virtual_break=True)
        last_line += 1
    return counter.finish(digest.hexdigest(), last_line)


def _too_long(path: Path, line: int, limit: int) -> None:
    raise UserError(
        f"{path} has a line longer than {_size(limit)} (line {line}, with no line break in it), "
        "which is no registry row: check that it is the right file, exported with line breaks between rows."
    )


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MB" if n >= 1 << 20 else f"{n / 1024:g} KB"


def _pairs(data: bytes, start: int, end: int, pair: bytes) -> int:
    """How often the two bytes ``pair`` occur in ``data[start:end]`` (read as 16-bit words at even and
    at odd offsets: two vectorised comparisons, where a search for two bytes in a row is ten times
    slower)."""
    value = int.from_bytes(pair, "little")
    n = end - start
    even = np.frombuffer(data, np.uint16, count=n // 2, offset=start)
    odd = np.frombuffer(data, np.uint16, count=(n - 1) // 2, offset=start + 1) if n > 1 else even[:0]
    return int(np.count_nonzero(even == value)) + int(np.count_nonzero(odd == value))


def _starts_field(a: np.ndarray, p: int) -> bool:
    """Whether the quote at ``p`` opens a quoted value: it starts a field, or follows one space that does
    (DuckDB's reader, in strict mode, takes a quote after one blank as opening the value; after two
    blanks, or anything else, a quote is an ordinary character)."""
    if p == 0 or a[p - 1] in _FIELD_START:
        return True
    return bool(a[p - 1] == _SPACE and (p == 1 or a[p - 2] in _FIELD_START))


class _Counter:
    """Counts the records of whole lines fed to it, carrying an open quoted value across pieces."""

    def __init__(self, path: Path, n_columns: int, max_extra_fields: int) -> None:
        self.path = path
        self.n_columns = n_columns
        self.max_extra = max_extra_fields
        self.blank_is_record = n_columns == 1  # DuckDB skips an empty line, unless it is one empty field
        self.lines = 0  # line breaks before the current piece
        self.records = 0  # records ended so far, the header included
        self.endings = {"LF": 0, "CRLF": 0}  # records by line ending
        self.first_line = {"LF": 0, "CRLF": 0}  # the first line with each ending
        self.quoted_breaks = 0  # line breaks inside quoted values
        # A record under way across pieces (inside a quoted value holding the piece's last break):
        self.in_quote = False
        self.quote_line = 0  # the line where the open quoted value starts
        self.carry_commas = 0  # field separators of the record under way so far
        self.record_line = 0  # the line where the record under way starts
        self.stray_quote_line = 0  # the first line where a quoted value is followed by more text

    def feed(self, data: bytes, start: int, end: int, *, virtual_break: bool = False) -> None:
        """Count the records of the whole lines ``data[start:end]`` (it ends with a line break)."""
        a = np.frombuffer(data, np.uint8, count=end - start, offset=start)
        is_lf = a == _LF
        n_breaks = int(np.count_nonzero(is_lf))
        if self.in_quote or data.find(b'"', start, end) >= 0:
            self._precise(a, is_lf, np.flatnonzero(a == _QUOTE))
        elif not self._fast(data, start, a, is_lf, n_breaks):
            self._precise(a, is_lf, None)
        self.lines += n_breaks - int(virtual_break)

    def _fast(self, data: bytes, start: int, a: np.ndarray, is_lf: np.ndarray, n_breaks: int) -> bool:
        """Count lines without quotes by totals alone; False when they need the precise count."""
        end = start + a.size
        if data.find(b"\r", start, end) < 0:
            ending, blank = "LF", a[0] == _LF or _pairs(data, start, end, b"\n\n") > 0
        else:
            # Every CR must end a line (CR LF); a CR after a line feed starts an empty line.
            if int(np.count_nonzero(a == _CR)) != n_breaks or _pairs(data, start, end, b"\r\n") != n_breaks:
                return False  # a CR alone, or both endings: find where
            ending, blank = "CRLF", a[0] == _CR or _pairs(data, start, end, b"\n\r") > 0
        if blank and not self.blank_is_record:
            return False  # empty lines are not records: count them out one by one
        # Each record has n_columns - 1 separators; a piece off by more than the extra fields one row
        # may have is counted row by row, to find a row that is too wide.
        if abs(int(np.count_nonzero(a == _COMMA)) - (self.n_columns - 1) * n_breaks) > self.max_extra:
            return False
        self._count_ending(ending, n_breaks, lambda: self.lines + 1)
        self.records += n_breaks
        return True

    def _precise(self, a: np.ndarray, is_lf: np.ndarray, quotes: np.ndarray | None) -> None:
        """Count records one by one: where each ends, its fields, its line ending."""
        breaks = np.flatnonzero(is_lf)
        commas = np.flatnonzero(a == _COMMA)
        crs = np.flatnonzero(a == _CR)
        continued = self.in_quote
        if quotes is not None and (quotes.size or self.in_quote):
            inside = self._quoted(a, is_lf, quotes, breaks)
            breaks_inside = inside(breaks)
            self.quoted_breaks += int(np.count_nonzero(breaks_inside))
            breaks, commas, crs = breaks[~breaks_inside], commas[~inside(commas)], crs[~inside(crs)]
        lone = crs[a[crs + 1] != _LF]
        if lone.size:
            raise UserError(
                f"{self.path} has a carriage return (CR) without a line feed on line {self._line_of(is_lf, lone[0])}, "
                "outside any quoted value; re-export it with CR LF or LF line endings only."
            )
        if not breaks.size:  # the piece is all inside one quoted value
            if not continued:
                self.record_line = self.lines + 1
            self.carry_commas += int(commas.size)
            return
        self._count_records(a, is_lf, breaks, commas, continued)
        if self.in_quote:  # a record under way after the last break
            self.carry_commas = int(np.count_nonzero(commas > breaks[-1]))
            self.record_line = self._line_of(is_lf, breaks[-1] + 1)

    def _count_records(
        self, a: np.ndarray, is_lf: np.ndarray, ends: np.ndarray, commas: np.ndarray, continued: bool
    ) -> None:
        starts = np.concatenate(([-1], ends[:-1]))
        crlf = (ends > 0) & (a[np.maximum(ends - 1, 0)] == _CR)
        kept = (ends - starts - 1 - crlf > 0) | self.blank_is_record  # an empty line is no record
        fields = np.diff(np.searchsorted(commas, ends), prepend=0) + 1
        if continued:  # the first record began in an earlier piece
            kept[0] = True
            fields[0] += self.carry_commas

        def line(k: int) -> int:
            return self.record_line if continued and k == 0 else self._line_of(is_lf, starts[k] + 1)

        wide = np.flatnonzero((fields > self.n_columns + self.max_extra) & kept)
        if wide.size:
            k = int(wide[0])
            raise UserError(
                f"{self.path} line {line(k)} has {int(fields[k]):,} fields where the header has {self.n_columns}; "
                "a row so wide is not a row of this table: check the file's delimiter and how it was exported."
            )
        for ending, mask in (("CRLF", crlf & kept), ("LF", ~crlf & kept)):
            n = int(np.count_nonzero(mask))
            if n:
                self._count_ending(ending, n, functools.partial(line, int(np.argmax(mask))))
        self.records += int(np.count_nonzero(kept))

    def _count_ending(self, ending: str, n: int, first_line: Callable[[], int]) -> None:
        self.endings[ending] += n
        if not self.first_line[ending]:
            self.first_line[ending] = first_line()

    def _line_of(self, is_lf: np.ndarray, position: int | np.integer) -> int:
        """The line number of the byte at ``position`` of the piece."""
        return self.lines + int(np.count_nonzero(is_lf[: int(position)])) + 1

    def _quoted(
        self, a: np.ndarray, is_lf: np.ndarray, quotes: np.ndarray, breaks: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        """Find the piece's quoted values; return a test of whether positions lie inside one.

        Also raises on an unbalanced quote that closes in this piece, and leaves ``in_quote`` and
        ``quote_line`` saying whether a value is still open at the piece's end, and where it opened.
        """
        carried = int(self.in_quote)  # the first quote closes the value carried in
        opens, closes = quotes[carried::2], quotes[1 - carried :: 2]
        # The byte before each opening quote; before a quote at 0 that is a[-1], the piece's last byte,
        # a line break, which is what precedes a piece.
        before = a[opens - 1]
        after = a[closes + 1]  # a piece ends with a line break: a quote is never its last byte
        if _BESIDE_QUOTE[before].all() and _BESIDE_QUOTE[after].all():
            # Well formed: the quotes pair up in order (two adjacent quotes inside a value pair as a
            # close and an open), so a position is inside a value when an odd number of quotes precede it.
            self.in_quote = bool((quotes.size + carried) & 1)
            real = opens[before != _QUOTE]  # the quotes that open a value (the others are escapes)
            if self.in_quote and real.size:
                # The open value started at the last real opening quote (when every opening quote here
                # is an escaped one, the value is the one carried in, and keeps its line).
                self.quote_line = self._line_of(is_lf, real[-1])
            # Counted in bytes, which wrap at 256 and so keep the parity.
            preceding = np.cumsum(a == _QUOTE, dtype=np.uint8)
            return lambda positions: ((preceding[positions] + carried) & 1).astype(bool)
        return self._walk(a, is_lf, quotes.tolist(), breaks)

    def _walk(
        self, a: np.ndarray, is_lf: np.ndarray, quotes: list[int], breaks: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The same, quote by quote, for a piece with a quote that opens no value (a stray quote)."""
        starts: list[int] = []
        ends: list[int] = []
        inside, start, i = self.in_quote, -1, 0
        while i < len(quotes):
            p = quotes[i]
            if not inside:
                if _starts_field(a, p):
                    inside, start = True, p
                i += 1  # else an ordinary character of an unquoted value
                continue
            if i + 1 < len(quotes) and quotes[i + 1] == p + 1:
                i += 2  # an escaped quote
                continue
            j = p + 1
            while a[j] == _SPACE:
                j += 1
            holds_break = start < 0 or bool(np.count_nonzero(is_lf[start:p]))
            if a[j] not in _FIELD_START:  # more text after the closing quote, in the same field
                if holds_break:
                    opened = self.quote_line if start < 0 else self._line_of(is_lf, start)
                    self._unbalanced(opened, f"has its closing quote on line {self._line_of(is_lf, p)} inside a field")
                self.stray_quote_line = self.stray_quote_line or self._line_of(is_lf, p)
            starts.append(start)
            ends.append(p)
            inside, i = False, i + 1
        if inside:
            starts.append(start)
            ends.append(a.size)
            if start >= 0:
                self.quote_line = self._line_of(is_lf, start)
        self.in_quote = inside
        s, e = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)

        def within(positions: np.ndarray) -> np.ndarray:
            if not s.size:
                return np.zeros(positions.size, dtype=bool)
            k = np.searchsorted(s, positions, side="right") - 1
            return (k >= 0) & (positions < e[np.maximum(k, 0)])

        return within

    def _unbalanced(self, line: int, how: str) -> None:
        raise UserError(
            f"{self.path} has an unbalanced quote: a quoted value opens on line {line} and {how}, so the rows "
            f"after it would be read as part of that value; close or remove the quote on line {line}."
        )

    def finish(self, sha256: str, last_line: int) -> FileScan:
        if self.in_quote:
            self._unbalanced(self.quote_line, f"is never closed (the file ends on line {last_line})")
        if self.endings["LF"] and self.endings["CRLF"]:
            raise UserError(
                f"{self.path} could not be read as CSV (its line endings are mixed: {self.endings['CRLF']:,} lines "
                f"end with CR LF and {self.endings['LF']:,} with LF, the first of each on lines "
                f"{self.first_line['CRLF']} and {self.first_line['LF']}); re-export it with one kind."
            )
        ending = "CRLF" if self.endings["CRLF"] else "LF"
        return FileScan(sha256, max(self.records - 1, 0), ending, self.quoted_breaks, self.stray_quote_line)
