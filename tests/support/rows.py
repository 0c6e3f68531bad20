"""Comparing the rows of two builds of a table."""

from __future__ import annotations

import math

# relative tolerance for floats: an average summed in another order differs in its last bit
FLOAT_REL_TOL = 1e-9


def same_rows(got: list[tuple], want: list[tuple]) -> bool:
    """Equal row by row (both in the same order); floats to ``FLOAT_REL_TOL`` relative."""

    def same(a, b) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=1e-12)
        return a == b

    return len(got) == len(want) and all(
        len(g) == len(w) and all(same(a, b) for a, b in zip(g, w, strict=True))
        for g, w in zip(got, want, strict=True)
    )
