"""Toxicities of treatment (format 1.1 ``adverse_events``), drawn per line of therapy by regimen.

For every line of a simulated patient the events of its regimen (``toxicity_params.TOXICITY_RATES``)
are drawn: whether the patient has the event, its worst grade, and when it starts
(``toxicity_params.ONSET``): CRS within days of CAR-T infusion or blinatumomab start, ICANS a few
days after CRS, VOD/SOS within weeks of inotuzumab or within a month of a transplant given while the
line is the latest one, osteonecrosis over months to years of frontline therapy, infections and
febrile neutropenia (sometimes with a second, milder episode) on most regimens. An event is kept only
when it starts before the next line and before the death; the toxicities never move the disease
course, so every other table is exactly what it would be without them.

A death of cause INFECTION or TOXICITY within ``FATAL_WITHIN_DAYS`` of a grade 3-4 event of the
fitting kind makes the latest such event grade 5 (fatal), so a fatal event always has a death on or
after its onset with a cause that fits. ``observed_adverse_events`` then applies the observation
window of the extract (nothing after the last contact; grade 5 only when the death is observed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic_data import toxicity_params as T
from synthetic_data.cohort import Cohort
from synthetic_data.course import Course

__all__ = ["Toxicities", "observed_adverse_events", "simulate_toxicities"]

_BIG = 1.0e6  # more days than any date holds: pid * _BIG + day orders rows by patient, then day


@dataclass
class Toxicities:
    """Drawn adverse events of one chunk (before the observation window); dates in float days."""

    pid: np.ndarray
    line_no: np.ndarray
    event: np.ndarray
    grade: np.ndarray  # "1".."5", "UNK"
    grade_if_alive: np.ndarray  # the grade a grade-5 event has when its death is not observed
    onset: np.ndarray
    resolution: np.ndarray  # nan = not resolved / not recorded
    term: np.ndarray  # "" = none

    @property
    def n(self) -> int:
        return int(self.pid.shape[0])


@dataclass
class _Lines:
    """The lines of a chunk in (patient, line) order, with what their toxicities depend on."""

    pid: np.ndarray
    line_no: np.ndarray
    regimen: np.ndarray
    start: np.ndarray
    next_start: np.ndarray  # inf when it is the patient's last line
    end: np.ndarray  # the earlier of the next line's start and the death (inf = neither)
    hct: np.ndarray  # first transplant while this is the latest line (nan = none)
    rates: np.ndarray  # key of toxicity_params.TOXICITY_RATES: the regimen, CAR_T_CD19_YOUNG by age


def _lines(coh: Cohort, course: Course) -> _Lines:
    lines = course.log.table("lines")
    o = np.lexsort((lines["line_no"], lines["pid"]))
    pid, line_no = lines["pid"][o].astype(np.int64), lines["line_no"][o].astype(np.int64)
    start = lines["start"][o].astype(float)
    same = np.append(pid[1:] == pid[:-1], False)
    next_start = np.where(same, np.append(start[1:], np.inf), np.inf)
    hct = np.full(pid.shape[0], np.nan)
    h = course.log.table("transplants") if course.log.parts.get("transplants") else {"pid": np.array([])}
    if h["pid"].size:
        key = np.sort(h["pid"].astype(float) * _BIG + h["date"].astype(float))
        k = np.searchsorted(key, pid * _BIG + start, side="left")
        first = key[np.minimum(k, key.size - 1)]
        h_pid = np.floor(first / _BIG)
        h_day = first - h_pid * _BIG
        ok = (k < key.size) & (h_pid == pid) & (h_day < next_start) & (h_day < course.death[pid])
        hct = np.where(ok, h_day, np.nan)
    regimen = lines["regimen"][o].astype(object)
    young = coh.age[pid] + (start - coh.dx[pid]) / 365.25 <= T.CAR_T_YOUNG_MAX_AGE
    rates = np.where((regimen == "CAR_T_CD19") & young, "CAR_T_CD19_YOUNG", regimen).astype(object)
    end = np.minimum(next_start, course.death[pid])
    return _Lines(pid, line_no, regimen, start, next_start, end, hct, rates)


def _onset(rng: np.random.Generator, onset: T.Onset, base: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Onset dates ``base`` + the draw of ``onset``; within the line (before ``end``) when it says so."""
    n = base.shape[0]
    if onset.kind == "uniform":
        days = rng.integers(onset.low, onset.high + 1, size=n).astype(float)
    else:
        days = np.minimum(onset.low + np.floor(rng.gamma(onset.shape, onset.scale, size=n)), onset.high)
    u = rng.random(n)
    out = base + days
    if not onset.within_line:
        return out
    with np.errstate(invalid="ignore"):  # inf - inf where there is neither a death nor a next line
        again = base + np.floor(u * (end - base))
    return np.where(out < end, out, again)


def _grades(rng: np.random.Generator, event: str, severe: np.ndarray) -> np.ndarray:
    n = severe.shape[0]
    g4 = T.GRADE_4_SHARE.get(event, T.GRADE_4_SHARE["default"])
    u, v = rng.random(n), rng.random(n)
    mild = np.where(v < T.P_GRADE_UNK_AMONG_MILD, "UNK", np.where(u < T.P_GRADE_1_AMONG_MILD, "1", "2"))
    return np.where(severe, np.where(u < g4, "4", "3"), mild).astype(object)


def _solved(marginal: float, given: float, share: float) -> float:
    """The probability outside a subgroup (``share`` of the rows, probability ``given``) that makes the
    overall probability ``marginal``; clipped to [0, 1]."""
    if share >= 1.0:
        return 0.0
    return float(np.clip((marginal - given * share) / (1.0 - share), 0.0, 1.0))


def _draw_group(
    rng: np.random.Generator, lines: _Lines, rows: np.ndarray, rates: dict[str, T.Rate], out: list[dict]
) -> None:
    """Draw every event of ``rates`` for the lines ``rows`` (one regimen) and append them to ``out``."""
    n = rows.size
    start, end = lines.start[rows], lines.end[rows]
    crs_onset = np.full(n, np.nan)
    for event in sorted(rates, key=lambda e: e != "CRS"):  # CRS first: ICANS depends on it
        rate = rates[event]
        p = np.full(n, rate.any_grade)
        onset = _onset(rng, T.ONSET[event], start, end)
        if event == "VOD_SOS" and rate.after_hct is not None:
            hct = np.isfinite(lines.hct[rows])
            p = np.where(hct, rate.after_hct, _solved(rate.any_grade, rate.after_hct, float(hct.mean())))
            after = _onset(rng, T.ONSET["VOD_SOS_AFTER_HCT"], np.where(hct, lines.hct[rows], start), end)
            onset = np.where(hct, after, onset)
        if event == "ICANS" and "CRS" in rates:
            p_crs = rates["CRS"].any_grade
            q = min(T.ICANS_AFTER_CRS, T.ICANS_AFTER_CRS * rate.any_grade / p_crs)
            crs = np.isfinite(crs_onset)
            p = np.where(crs, q, _solved(rate.any_grade, q, p_crs))
            after = _onset(rng, T.ONSET["ICANS"], np.where(crs, crs_onset, start), end)
            onset = np.where(crs, after, _onset(rng, T.ONSET["ICANS_WITHOUT_CRS"], start, end))
        has = rng.random(n) < p
        severe = rng.random(n) < rate.grade_3_plus / rate.any_grade
        grade = _grades(rng, event, severe)
        if event == "CRS":
            crs_onset = np.where(has, onset, np.nan)
        out.append({"row": rows[has], "event": event, "grade": grade[has], "onset": onset[has]})
        if event in T.SECOND_EPISODE:
            again = has & (rng.random(n) < T.SECOND_EPISODE[event])
            gap = rng.integers(14, 61, size=n) * np.where(rng.random(n) < 0.5, -1, 1)
            second = np.where(onset + gap < start, onset - gap, onset + gap)  # kept when before the end
            # a milder episode (febrile neutropenia is grade 3 or worse by definition)
            fn = event == "FEBRILE_NEUTROPENIA"
            low = np.full(n, "3", dtype=object) if fn else _grades(rng, event, np.zeros(n, dtype=bool))
            out.append({"row": rows[again], "event": event, "grade": low[again], "onset": second[again]})


def _fatal(course: Course, pid: np.ndarray, event: np.ndarray, grade: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Index of the event each death of cause INFECTION or TOXICITY makes fatal (see the module)."""
    death, cause = course.death[pid], course.cause[pid]
    fits = np.zeros(pid.shape[0], dtype=bool)
    for c, events in T.FATAL_EVENTS.items():
        fits |= (cause == c) & np.isin(event, events)
    cand = np.flatnonzero(fits & np.isin(grade, ("3", "4")) & (death - onset <= T.FATAL_WITHIN_DAYS))
    if cand.size == 0:
        return cand
    o = cand[np.lexsort((onset[cand], pid[cand]))]
    last = np.append(pid[o][1:] != pid[o][:-1], True)  # the latest candidate of each patient
    return o[last]


def simulate_toxicities(rng: np.random.Generator, coh: Cohort, course: Course) -> Toxicities:
    """Draw the adverse events of every line of the chunk (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        A generator of its own (the caller spawns it), so the other tables do not change.
    coh : Cohort
    course : Course

    Returns
    -------
    Toxicities
        Every event that starts before its line's successor and before the death; not yet cut at
        the last contact.
    """
    lines = _lines(coh, course)
    parts: list[dict] = []
    for key in sorted(set(lines.rates)):
        _draw_group(rng, lines, np.flatnonzero(lines.rates == key), T.rates_for(key), parts)
    row = np.concatenate([p["row"] for p in parts]).astype(np.int64)
    event = np.concatenate([np.full(p["row"].size, p["event"], dtype=object) for p in parts])
    grade = np.concatenate([p["grade"] for p in parts]).astype(object)
    onset = np.concatenate([p["onset"] for p in parts]).astype(float)
    pid = lines.pid[row]
    keep = (onset < lines.next_start[row]) & (onset < course.death[pid])
    row, event, grade, onset, pid = row[keep], event[keep], grade[keep], onset[keep], pid[keep]
    o = np.lexsort((event, onset, lines.line_no[row], pid))
    row, event, grade, onset, pid = row[o], event[o], grade[o], onset[o], pid[o]
    grade_if_alive = grade.copy()
    grade[_fatal(course, pid, event, grade, onset)] = "5"
    n = pid.size
    lo = np.array([T.DURATION_DAYS[e][0] for e in event], dtype=float)
    hi = np.array([T.DURATION_DAYS[e][1] for e in event], dtype=float)
    unresolved = rng.random(n) < np.array([T.P_NO_RESOLUTION.get(e, T.P_NO_RESOLUTION["default"]) for e in event])
    resolution = np.where(unresolved | (grade == "5"), np.nan, onset + np.floor(lo + rng.random(n) * (hi - lo + 1)))
    none, which = rng.random(n) < T.P_NO_TERM, rng.random(n)
    term = np.array(
        ["" if u else T.TERMS[e][int(v * len(T.TERMS[e]))] for e, u, v in zip(event, none, which, strict=True)],
        dtype=object,
    )
    return Toxicities(pid, lines.line_no[row], event, grade, grade_if_alive, onset, resolution, term)


def observed_adverse_events(
    tox: Toxicities, last_contact: np.ndarray, observed: np.ndarray, true_death: np.ndarray
) -> dict[str, np.ndarray]:
    """The events the extract shows, as columns of the ``adverse_events`` table (dates in float days).

    Events up to the last contact; grade 5 only when the death is observed (else the event's grade
    3-4); a resolution only when it is seen (on or before the last contact, before the death).
    """
    keep = tox.onset <= last_contact[tox.pid]
    pid = tox.pid[keep]
    res = tox.resolution[keep]
    return {
        "pid": pid,
        "line_no": tox.line_no[keep],
        "event": tox.event[keep],
        "grade": np.where(observed[pid], tox.grade[keep], tox.grade_if_alive[keep]),
        "onset": tox.onset[keep],
        "resolution": np.where((res <= last_contact[pid]) & (res < true_death[pid]), res, np.nan),
        "term": tox.term[keep],
    }
