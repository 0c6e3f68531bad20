"""Ranking measures for scores checked against outcomes."""

from __future__ import annotations


def auc(rows: list[tuple[float, bool]]) -> float:
    """Area under the ROC curve: the chance a converted lead outscores one that did not
    (ties count half), by the Mann-Whitney rank sum."""
    ordered = sorted(rows, key=lambda r: r[0])
    ranks: list[float] = [0.0] * len(ordered)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1][0] == ordered[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(1 for _, y in ordered if y)
    neg = len(ordered) - pos
    if not pos or not neg:
        raise ValueError("AUC needs converted and unconverted leads")
    rank_sum = sum(r for r, (_, y) in zip(ranks, ordered, strict=True) if y)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)
