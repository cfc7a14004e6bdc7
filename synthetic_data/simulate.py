"""Vectorized multi-state simulation of AYA ALL, one chunk of patients at a time.

The model
---------
Each patient moves through::

    diagnosis -> induction (line 1) -> CR1 | induction failure | induction death
    CR1 -> first relapse | death in remission | allo-HCT in CR1
    HCT in CR1 -> first relapse | death without relapse           (aGVHD / cGVHD recorded)
    first relapse -> salvage (line 2) -> CR2 -> allo-HCT -> second relapse (line 3) -> death
    induction failure -> salvage (line 2) -> remission / HCT -> death

Transitions out of CR1 and after HCT in CR1 are competing proportional-hazards risks with
piecewise-exponential baselines (``params.RELAPSE_IN_CR1``, ``NRM_IN_CR1``, ``RELAPSE_AFTER_HCT``,
``NRM_AFTER_HCT``); allo-HCT in CR1 is a logistic choice (high-risk disease, MRD) with a uniform date.

**Death after the first relapse** is drawn *directly* from one proportional-hazards model
(``params.DEATH_AFTER_RELAPSE``): time from ``REL1`` to death, baseline piecewise exponential, log
hazard ratios on covariates that are recorded in the extract: salvage regimen (line 2; reference
SALVAGE_CHEMO), ``(age_at_dx - 25) / 10``, lineage T, subtype PH_LIKE, early relapse
(``REL1 - CR1 < 365`` days, ``CR1`` = the end-of-induction remission assessment date) and
cns_status CNS3. The salvage regimen is chosen at relapse by a multinomial logit (confounded by
lineage, relapse year, age, Ph-like subtype and early relapse) *before* the death time is drawn. Everything after the
relapse — start of line 2, response, CR2, allo-HCT, GVHD, second relapse, line 3, cause of death —
is drawn conditional on that death time and never moves it, so a Cox model on OS from REL1 with
these covariates recovers the true log hazard ratios. Primary refractory patients (no remission
after induction) never get a relapse row, so they are not in the REL1 population.

Censoring is independent of the disease course: loss to follow-up is exponential from diagnosis
(``params.LTFU_HAZARD``), administrative censoring is at the data cutoff minus a uniform jitter
(last contact of patients alive at the cutoff). Nothing dated after a patient's censoring date is
written; a death is written when it happens on or before it. (A line-2 start falling between an
observed relapse and the last contact is moved to the last contact, so an observed first relapse
always has its salvage line and ``salvage_regimen`` is never NONE in the REL1 population.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic_data import params as P
from synthetic_data.cohort import Cohort, draw_cohort
from synthetic_data.course import Course, simulate_course
from synthetic_data.sampling import sample_pw_exponential, uniform_days
from synthetic_data.tables import build_tables
from synthetic_data.toxicity import Toxicities, simulate_toxicities

__all__ = ["Chunk", "simulate_chunk"]


@dataclass
class Chunk:
    """The extract tables of one chunk of patients, plus latent truth for calibration checks."""

    tables: dict[str, pl.DataFrame]
    cohort: Cohort
    course: Course
    last_contact: np.ndarray  # float days
    death_observed: np.ndarray  # bool
    toxicities: Toxicities


def simulate_chunk(
    rng: np.random.Generator, n: int, first_number: int, first_day: float, last_day: float, cutoff_day: float
) -> Chunk:
    """Simulate ``n`` patients numbered from ``first_number`` and return their extract tables.

    Parameters
    ----------
    rng : numpy.random.Generator
        The one generator of the run (chunks draw from it in order, so output is deterministic).
    n : int
        Patients in this chunk.
    first_number : int
        Number of the first patient (patient ids are ``P`` + zero-padded number).
    first_day, last_day : float
        Range of diagnosis dates, days since 1970-01-01.
    cutoff_day : float
        Data cutoff, days since 1970-01-01.

    Returns
    -------
    Chunk
    """
    coh = draw_cohort(rng, n, first_day, last_day)
    course = simulate_course(rng, coh)
    # The toxicities draw from a generator of their own (a child of ``rng``, which spawning does not
    # advance), so every other table is what it would be without them.
    tox_rng = rng.spawn(1)[0]
    tox = simulate_toxicities(tox_rng, coh, course)
    ltfu = coh.dx + np.ceil(sample_pw_exponential(rng, P.LTFU_HAZARD, np.zeros(n)))
    admin = cutoff_day - uniform_days(rng, 0, P.ADMIN_JITTER_DAYS, n)
    censor = np.maximum(np.minimum(ltfu, admin), coh.l1_start)
    observed = course.death <= censor
    last_contact = np.where(observed, course.death, censor)
    tables = build_tables(rng, coh, course, last_contact, observed, first_number, tox, tox_rng)
    return Chunk(tables, coh, course, last_contact, observed, tox)
