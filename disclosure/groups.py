"""How many groups a result shows: the smallest are combined, so no partition has too many parts.

A partition (the groups of a grouping, the levels of a Table 1 variable) whose parts are all rounded can
pin a part only when it has ``min_cell`` parts or more (``disclosure.policy``); a page with more than
``READABLE_GROUPS`` curves or columns is unreadable anyway. So the largest groups are kept, by their
released size (ties by name), and the others become one group, ``OTHER_GROUPS``.
"""

from __future__ import annotations

import pandas as pd

from disclosure.cellkey import key_sums, text_codes
from disclosure.policy import ReleasePolicy

__all__ = ["OTHER_GROUPS", "READABLE_GROUPS", "combine_groups", "group_limit"]

#: the most groups a figure or a table compares before the smallest are combined
READABLE_GROUPS = 8
#: the name of the combined group
OTHER_GROUPS = "Other groups"


def group_limit(policy: ReleasePolicy) -> int:
    """The most groups a result shows under ``policy``: the readable number, or fewer when the policy says."""
    return min(READABLE_GROUPS, policy.max_parts) if policy.max_parts is not None else READABLE_GROUPS


def combine_groups(
    labels: pd.Series, policy: ReleasePolicy, limit: int | None = None, keys: pd.Series | None = None
) -> tuple[pd.Series, list[str]]:
    """``labels`` with all but the ``limit - 1`` largest groups (by released size, ties by name) renamed
    ``OTHER_GROUPS`` when there are more than ``limit`` groups; and the names combined (sorted). ``keys``
    (the rows' record keys) perturb the sizes as they are released.

    Missing labels stay missing.
    """
    limit = group_limit(policy) if limit is None else limit
    present = labels.dropna().astype(str)
    sizes = present.value_counts()
    if len(sizes) <= limit:
        return labels, []
    group_keys: dict[str, int] = {}
    row_keys = keys.reindex(present.index) if keys is not None else None
    if row_keys is not None and not row_keys.isna().any():
        codes, names = text_codes(present)
        group_keys = dict(zip(names, key_sums(codes, len(names), row_keys).tolist(), strict=True))
    released = {name: policy.rounded(size, group_keys.get(name)) for name, size in sizes.items()}
    order = sorted(released, key=lambda name: (-released[name], name))
    keep = set(order[: limit - 1])
    combined = sorted(set(order) - keep)
    out = labels.where(labels.isna() | labels.astype(str).isin(keep), OTHER_GROUPS)
    return out, combined
