"""Synthetic AYA-ALL registry extracts (format 1.1) for tests, demos and benchmarks."""

from __future__ import annotations

from synthetic_data.calibration import TARGETS, TOXICITY_TARGETS, Target, ToxicityTarget
from synthetic_data.generate import DEFAULT_CUTOFF, GenerationSummary, generate_registry

__all__ = [
    "DEFAULT_CUTOFF",
    "TARGETS",
    "TOXICITY_TARGETS",
    "GenerationSummary",
    "Target",
    "ToxicityTarget",
    "generate_registry",
]
