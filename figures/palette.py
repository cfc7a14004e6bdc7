"""One colour-blind-safe palette for groups, the same style for the same group on every page and export.

Colours are the Okabe–Ito palette (Okabe M, Ito K (2008). Color Universal Design). A group's style
depends only on its column and label: codes listed in ``ayaall.contract`` take their position in the
code list; any other label (a numeric group, a new code) takes a position from a stable hash. Beyond
eight levels the colours repeat with a different line dash, so a figure never shows two groups alike.

The grayscale variant (for journals that print in black and white) gives each position a gray level,
a dash pattern and a marker shape; the three cycle with co-prime lengths (3, 5 and 7), so neighbouring
positions differ in all three and the first 105 positions are all different.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from ayaall import contract
from ayaall.endpoints import age_group_labels

__all__ = ["DASHES", "GRAYS", "GRAY_DASHES", "GRAY_SYMBOLS", "OKABE_ITO", "GroupStyle", "group_style", "rgba"]

# Black is kept for the single "all" curve; yellow is last because it is faint on white.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot")
_UNKNOWN = "#999999"  # UNK / missing, deliberately neutral
_SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "triangle-down", "cross", "x")

# Grayscale: levels dark enough for thin lines on white (the lightest is about 40% gray).
GRAYS: tuple[str, ...] = ("#000000", "#5A5A5A", "#969696")
GRAY_DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash")
GRAY_SYMBOLS: tuple[str, ...] = _SYMBOLS

_CODE_LISTS: dict[str, tuple[str, ...]] = {
    "sex": contract.SEX,
    "race": contract.RACE,
    "ethnicity": contract.ETHNICITY,
    "lineage": contract.LINEAGE,
    "subtype": contract.SUBTYPES,
    "cns_status": contract.CNS_STATUS,
    "frontline_regimen": (*contract.FRONTLINE_REGIMENS, "OTHER", "NONE"),
    "salvage_regimen": (*contract.SALVAGE_REGIMENS, "OTHER", "NONE"),
    "mrd_eoi": contract.MRD,
    "age_group": age_group_labels(),
    "cr1": ("True", "False"),
    "relapsed": ("True", "False"),
    "hct": ("True", "False"),
    "car_t": ("True", "False"),
    "induction_failure": ("True", "False"),
}


class GroupStyle(NamedTuple):
    color: str
    dash: str
    symbol: str = "circle"


def _position(column: str | None, label: str) -> int:
    codes = _CODE_LISTS.get(column or "", ())
    if label in codes:
        return codes.index(label)
    digest = hashlib.sha1(f"{column}:{label}".encode()).hexdigest()
    return int(digest[:8], 16) % (len(OKABE_ITO) * len(DASHES))


def group_style(column: str | None, label: str, *, grayscale: bool = False) -> GroupStyle:
    """Colour, line dash and marker of group ``label`` of ``column`` (``None`` or ``"all"`` for one curve).

    With ``grayscale`` the colour is a gray level; the dash and marker then tell groups apart too.
    """
    label = str(label)
    if column is None or label == "all":
        return GroupStyle("#000000", "solid", "circle")
    if label in {"UNK", "NA", "None"}:
        return GroupStyle(_UNKNOWN, "dot", "circle-open")
    pos = _position(column, label)
    if grayscale:
        return GroupStyle(
            GRAYS[pos % len(GRAYS)], GRAY_DASHES[pos % len(GRAY_DASHES)], GRAY_SYMBOLS[pos % len(GRAY_SYMBOLS)]
        )
    return GroupStyle(
        OKABE_ITO[pos % len(OKABE_ITO)],
        DASHES[(pos // len(OKABE_ITO)) % len(DASHES)],
        _SYMBOLS[pos % len(_SYMBOLS)],
    )


def rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` as a CSS ``rgba(...)`` string (for confidence bands)."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"
