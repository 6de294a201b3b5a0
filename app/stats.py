"""Order statistics the figures share (referrals, KPIs), worked out the same way on SQLite
and PostgreSQL."""

import math


def percentile(values, q: float) -> float | None:
    """The q-quantile (0 <= q <= 1) by linear interpolation between the closest ranks, as
    PostgreSQL's percentile_cont and numpy's default: position p = (n - 1) * q in the sorted
    values, then v[floor p] + (v[ceil p] - v[floor p]) * (p - floor p). None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values) -> float | None:
    return percentile(values, 0.5)
