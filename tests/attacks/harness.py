"""What a determined reader sees, and what is true: the shared machinery of the disclosure attacks.

The attacks (issue 12) read only what leaves the server: Dash callback outputs serialized as the browser
receives them (``plotly.utils.PlotlyJSONEncoder``), export files, ``ayaall analyze`` JSON. This module

* turns those payloads into numbers (:func:`plain`, :func:`figures`, :func:`curves`, :func:`risk_table`,
  :func:`tables`, :func:`parse_count`);
* says what a released number tells about the true one (:class:`Release`: exact below the session-start
  code, blocks of k under a stated rounding policy, read from the release parameters the server publishes);
* computes the truth from the database (:class:`Subjects`: entry, exit, status and group of every row an
  analysis uses), to score each attack;
* scores (:class:`Score`): a cell is *recovered* when the attack leaves exactly one possible value and it
  is the true one; a value pinned to something else is counted as *wrong* (the attack's reasoning would be
  unsound), never as recovered.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BIG",
    "MASKED_TEXTS",
    "Curve",
    "Release",
    "Score",
    "Subjects",
    "cohort_spec",
    "curves",
    "decode",
    "figures",
    "filter_ids",
    "page_values",
    "parse_count",
    "plain",
    "random_cohorts",
    "risk_table",
    "tables",
    "text_of",
]

#: an upper bound for any count of this registry (no cell can exceed the number of rows)
BIG = 10**6
#: how a masked count is written in tables and figures
MASKED_TEXTS = frozenset({"—", "–", "-", "", "NR", "masked", "suppressed"})
_DAYS_PER = {"days": 1.0, "months": 365.25 / 12, "years": 365.25}


# ------------------------------------------------------------------------------------------- payloads
def plain(value: Any) -> Any:
    """``value`` as the browser (or a JSON reader) receives it: Dash components and figures through
    ``PlotlyJSONEncoder``; a DataFrame as its rows of cell values."""
    import plotly.utils

    if isinstance(value, pd.DataFrame):
        return {"columns": [str(c) for c in value.columns], "rows": json.loads(value.to_json(orient="values"))}
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


def decode(value: Any) -> Any:
    """A plotly array as numbers: typed arrays (``{"dtype", "bdata"}``) decoded, lists as they are."""
    if isinstance(value, Mapping) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(s) for s in shape.split(",")]
        return array.reshape(shape) if shape else array.copy()
    return value


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, Mapping):
        for key, child in node.items():
            if key != "layout":
                yield from _walk(child)
    elif isinstance(node, list | tuple):
        for child in node:
            yield from _walk(child)


def figures(payload: Any) -> list[dict[str, Any]]:
    """Every plotly figure (``{"data": [...], "layout": {...}}``) in a serialized payload."""
    return [
        n
        for n in _walk(payload)
        if isinstance(n, Mapping) and isinstance(n.get("data"), list) and isinstance(n.get("layout"), Mapping)
    ]


def text_of(node: Any) -> str:
    """The text a component shows (its children's strings, joined)."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return "".join(text_of(n) for n in node)
    if isinstance(node, Mapping):
        if "props" in node:
            return text_of(node["props"].get("children"))
        return ""
    return ""


def _components(node: Any, kind: str) -> Iterator[Mapping[str, Any]]:
    for n in _walk(node):
        if isinstance(n, Mapping) and n.get("type") == kind and "props" in n:
            yield n


def tables(payload: Any) -> list[list[list[str]]]:
    """Every table of a component tree as rows of cell texts (header rows included)."""
    out = []
    for table in _components(payload, "Table"):
        rows = []
        for tr in _components(table, "Tr"):
            children = tr["props"].get("children") or []
            children = children if isinstance(children, list) else [children]
            rows.append([text_of(c) for c in children if isinstance(c, Mapping)])
        out.append(rows)
    return out


def parse_count(text: Any) -> int | None:
    """A count as shown (``"1,234"``, ``"12 (34%)"``, ``12``): its value; None when masked."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    if isinstance(text, int | float | np.integer | np.floating):
        return int(text)
    head = str(text).strip().split(" ")[0].replace(",", "")
    if head in MASKED_TEXTS:
        return None
    try:
        return int(float(head))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------- curves
@dataclass
class Curve:
    """One drawn curve: its panel (axes and title), group, x in days, y, and its band and censor marks."""

    panel: str
    group: str
    x: np.ndarray
    y: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    marks: np.ndarray | None = None  # None: the payload does not say where censorings are


def _panel_titles(fig: Mapping[str, Any]) -> dict[str, str]:
    """Subplot titles by x axis ("x", "x2", ...): the paper annotations over each axis' domain."""
    layout = fig["layout"]
    titles: dict[str, str] = {}
    notes = [a for a in layout.get("annotations", []) if a.get("xref") == "paper" and a.get("yref") == "paper"]
    for key, axis in layout.items():
        if not key.startswith("xaxis") or not isinstance(axis, Mapping) or "domain" not in axis:
            continue
        lo, hi = axis["domain"]
        name = "x" + key[5:]
        yaxis = layout.get("yaxis" + key[5:], {})
        y_hi = (yaxis.get("domain") or [0, 1])[1]
        near = [a for a in notes if lo - 1e-6 <= a.get("x", -1) <= hi + 1e-6 and abs(a.get("y", 0) - y_hi) < 0.08]
        if near:
            titles[name] = str(near[0].get("text", ""))
    return titles


def curves(fig: Mapping[str, Any], unit: str = "days") -> list[Curve]:
    """The curves of a figure: each visible line (``mode`` lines, a line width other than 0), with the
    invisible band lines drawn just before it on its axes (upper, then lower) and the censor marks
    (``line-ns-open`` markers) drawn just after it. x is converted to days from ``unit``."""
    scale = _DAYS_PER[unit]
    traces = fig["data"]
    titles = _panel_titles(fig)
    out: list[Curve] = []

    def axes(t: Mapping[str, Any]) -> tuple[str, str]:
        return t.get("xaxis", "x"), t.get("yaxis", "y")

    def is_band(t: Mapping[str, Any]) -> bool:
        return t.get("mode") == "lines" and (t.get("line") or {}).get("width") == 0

    for i, t in enumerate(traces):
        if t.get("mode") != "lines" or is_band(t) or t.get("type", "scatter") != "scatter":
            continue
        x = np.asarray(decode(t.get("x")), dtype=float) * scale
        y = np.asarray(decode(t.get("y")), dtype=float)
        if len(x) < 2:
            continue
        curve = Curve(
            panel="", group=str(t.get("name") or t.get("legendgroup") or ""), x=np.round(x, 6), y=y, marks=np.zeros(0)
        )
        xa = axes(t)
        curve.panel = titles.get(xa[0], xa[0])
        before = [b for b in traces[max(0, i - 2) : i] if is_band(b) and axes(b) == xa]
        if len(before) == 2:
            a, b = (np.asarray(decode(tr.get("y")), dtype=float) for tr in before)
            if len(a) == len(b) == len(y):
                curve.lower, curve.upper = np.fmin(a, b), np.fmax(a, b)
        for m in traces[i + 1 : i + 2]:
            if m.get("mode") == "markers" and axes(m) == xa and "line-ns" in str((m.get("marker") or {}).get("symbol")):
                curve.marks = np.round(np.asarray(decode(m.get("x")), dtype=float) * scale, 6)
        out.append(curve)
    return out


def risk_table(fig: Mapping[str, Any], unit: str = "days") -> dict[str, dict[str, list[tuple[float, str]]]]:
    """The KMunicate table under a figure: group -> row title ("At risk", "Censored", "Events") -> (time
    in days, text shown), from the text traces marked ``meta == "risk-table"``."""
    scale = _DAYS_PER[unit]
    out: dict[str, dict[str, list[tuple[float, str]]]] = {}
    for t in fig["data"]:
        if t.get("meta") != "risk-table" or t.get("mode") != "text":
            continue
        labels = decode(t.get("y")) or []
        texts = t.get("text") or []
        if not len(labels) or not texts or not any(texts):
            continue
        label = str(labels[0])
        group, _, title = label.rpartition(" · ")
        if not group:  # print style: the trace's name is "group title"
            name = str(t.get("name") or "")
            title = next((r for r in ("At risk", "Censored", "Events") if name.endswith(r)), label)
            group = name[: -len(title)].strip()
        x = np.asarray(decode(t.get("x")), dtype=float) * scale
        out.setdefault(group, {})[title] = [(round(float(v), 6), str(s)) for v, s in zip(x, texts, strict=True)]
    return out


# -------------------------------------------------------------------------------------------- release
@dataclass(frozen=True)
class Release:
    """What a released number says about the true one.

    ``base`` 1 means counts are shown exactly (the session-start code: small counts masked, the rest
    exact); a larger base means counts are rounded to the midpoints of blocks of ``base`` (the stated
    policy), after a shift of at most ``noise`` patients (the cell key perturbation, stated as
    ``perturbation_max``). ``grid`` is the time grid in days (1: exact days). Read from the release parameters a result
    carries (its ``release`` block, ``disclosure.policy.ReleasePolicy.to_dict``): :meth:`from_block`.
    """

    k: int
    base: int = 1
    grid: float = 1.0
    noise: int = 0

    @classmethod
    def from_block(cls, block: Mapping[str, Any] | None, min_cell: int) -> Release:
        if not block:
            return cls(k=min_cell)
        base = int(block.get("rounding_base") or (min_cell if str(block.get("rounding", "none")) != "none" else 1))
        return cls(
            k=int(block.get("min_cell", min_cell)),
            base=max(base, 1),
            grid=float(block.get("time_grid_days") or 1),
            noise=int(block.get("perturbation_max") or 0),
        )

    @property
    def rounded(self) -> bool:
        return self.base > 1

    def bounds(self, shown: int | float | None) -> tuple[int, int]:
        """The true values a shown count allows (a masked one: None)."""
        if shown is None or (isinstance(shown, float) and math.isnan(shown)):
            # session start: a secondary mask may hide 0; a perturbed count of 1 or more stays 1 or more
            return (1, self.base + self.noise) if self.rounded else (0, BIG)
        v = float(shown)
        if v <= 0:
            return (0, 0)
        if not self.rounded:
            return (round(v), round(v))
        block = math.ceil(v / self.base - 1e-9)
        return (max(1, self.base * (block - 1) + 1 - self.noise), self.base * block + self.noise)

    def derived_bounds(self, shown: int | float | None, terms: int) -> tuple[int, int]:
        """The true values of a number computed from ``terms`` rounded counts (a number at risk: the group
        size minus cumulative events and censorings); masked: anything below k."""
        if shown is None or (isinstance(shown, float) and math.isnan(shown)):
            return (0, self.k + terms * (self.base // 2 + self.noise)) if self.rounded else (0, BIG)
        v = round(float(shown))
        if not self.rounded:
            return (v, v)
        half = terms * (self.base // 2 + self.noise)
        return (max(0, v - half), v + half)


# -------------------------------------------------------------------------------------------- cohorts
def filter_ids() -> list[dict[str, str]]:
    """The ids of the cohort builder's controls, in the sidebar's order."""
    from ayaall.filters import FILTERS

    return [{"type": "cohort-filter", "column": s.column} for s in FILTERS]


def cohort_spec(filters: Mapping[str, Any]) -> Any:
    from ayaall.cohort import CohortSpec

    return CohortSpec.from_dict({"filters": dict(filters)})


def page_values(filters: Mapping[str, Any]) -> list[Any]:
    """The controls' values (in ``filter_ids`` order) that select the cohort of ``filters``."""
    from ayaall.filters import FILTERS
    from dashboard.state import values_from_cohort

    values = values_from_cohort(cohort_spec(filters))
    return [values[s.column] for s in FILTERS]


def random_cohorts(service: Any, seed: int, count: int, lo: int = 60, hi: int = 700) -> list[dict[str, Any]]:
    """``count`` cohorts of ``lo`` to ``hi`` patients, each one to three filters drawn at random (seeded)."""
    from ayaall.filters import FILTERS

    rng = np.random.default_rng(seed)
    choices = service.filter_choices()
    multi = [s.column for s in FILTERS if s.kind == "multi" and s.column != "center_id"]
    out: list[dict[str, Any]] = []
    for _ in range(200 * count):
        if len(out) == count:
            break
        filters: dict[str, Any] = {}
        for column in rng.choice(multi, size=int(rng.integers(1, 4)), replace=False):
            options = list(choices[column])
            take = rng.choice(options, size=int(rng.integers(1, max(2, len(options) // 2 + 1))), replace=False)
            filters[str(column)] = sorted(str(v) for v in take)
        if rng.random() < 0.4:
            y0, y1 = choices["dx_year"]
            a = int(rng.integers(y0, y1))
            filters["dx_year"] = {"min": a, "max": int(rng.integers(a, y1 + 1))}
        n = service.cohort_size(cohort_spec(filters))
        if lo <= n <= hi and filters not in out:
            out.append(filters)
    return out


# ---------------------------------------------------------------------------------------------- truth
@dataclass
class Subjects:
    """The rows behind a curve: entry (days; -inf from the origin, as R's counting process), exit, status
    (0 censored, 1 the event, 2 a competing event) and group label. The truth of any window of a released
    curve: :meth:`counts`."""

    entry: np.ndarray
    stop: np.ndarray
    status: np.ndarray
    group: np.ndarray

    @classmethod
    def of(
        cls,
        frame: pd.DataFrame,
        group: str | None,
        *,
        time: str = "time_days",
        status: str = "event_code",
        entry: str | None = None,
    ) -> Subjects:
        labels = frame[group].map(_label) if group else pd.Series(["all"] * len(frame), index=frame.index)
        keep = labels.notna().to_numpy()
        return cls(
            entry=(frame[entry].to_numpy(float) if entry else np.full(len(frame), -np.inf))[keep],
            stop=frame[time].to_numpy(float)[keep],
            status=frame[status].to_numpy(int)[keep],
            group=labels.to_numpy(dtype=object)[keep],
        )

    def groups(self) -> list[str]:
        return sorted(set(self.group))

    def size(self, group: str) -> int:
        return int((self.group == group).sum())

    def counts(self, group: str, a: float, b: float) -> dict[str, int]:
        """Window (a, b]: at risk at its start (entered by a, not out by a), events, competing events and
        censorings in it."""
        m = self.group == group
        entry, stop, status = self.entry[m], self.stop[m], self.status[m]
        inside = (stop > a) & (stop <= b) & (entry < stop)
        return {
            "at_risk": int(((entry <= a) & (stop > a)).sum()),
            "events": int((inside & (status == 1)).sum()),
            "competing": int((inside & (status == 2)).sum()),
            "censored": int((inside & (status != 1) & (status != 2)).sum()),
        }

    def window_counts(self, group: str, times: np.ndarray, grid: float) -> pd.DataFrame:
        """:meth:`counts` for each released time t of a curve, over (max(previous time, t - grid), t] (over
        (t - grid, t] for a time repeated: the step at the origin after its time-0 row)."""
        times = np.asarray(times, dtype=float)
        prev = np.r_[-np.inf, times[:-1]]
        rows = [
            self.counts(group, t - grid if p >= t else max(p, t - grid), t) for p, t in zip(prev, times, strict=True)
        ]
        return pd.DataFrame(rows, index=times)


def _label(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


# ---------------------------------------------------------------------------------------------- score
@dataclass
class Score:
    """Cells an attack tried: how many were small (true value 1 to k - 1), how many of those it recovered
    (exactly one possible value, the true one), and how many values it pinned wrongly."""

    name: str
    k: int
    small: int = 0
    recovered: int = 0
    wrong: int = 0
    tried: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, truth: int, lo: float, hi: float, where: str = "") -> bool:
        """Score one cell whose possible values are ``lo`` to ``hi``; True when it is recovered."""
        self.tried += 1
        small = 0 < truth < self.k
        self.small += small
        pinned = math.isclose(lo, hi, abs_tol=1e-9)
        if pinned and abs(lo - truth) > 1e-9:
            self.wrong += 1
            if len(self.examples) < 6:
                self.examples.append(f"WRONG {where}: pinned {lo:g}, true {truth}")
            return False
        hit = small and pinned
        self.recovered += hit
        if hit and len(self.examples) < 6:
            self.examples.append(f"{where}: {truth}")
        return hit

    def merge(self, other: Score) -> None:
        for name in ("small", "recovered", "wrong", "tried"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.examples += other.examples[: max(0, 6 - len(self.examples))]

    def message(self) -> str:
        text = (
            f"{self.name}: recovered {self.recovered} of {self.small} small true cells (1-{self.k - 1}) "
            f"[{self.tried} cells tried, {self.wrong} pinned to a wrong value]"
        )
        return text + ("; e.g. " + "; ".join(self.examples) if self.examples else "")

    def __str__(self) -> str:
        return self.message()
