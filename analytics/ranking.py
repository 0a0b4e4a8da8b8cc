"""Ranking schedules by predicted final loss with *paired* differences against the best: each
bootstrap replicate of a law (:meth:`cltk.laws.LossLaw.predict_replicates`) predicts every
schedule, so the difference of two finals is taken replicate by replicate and the misfit the two
share cancels (select-schedule.md, "paired differences"). Shared by the fit-scaling and predict
reports (and their metrics)."""
from __future__ import annotations

import numpy as np

from cltk.analytics.report import Cell
from cltk.laws.intervals import paired_interval


def rank_by_final(rows: list[dict], replicates: dict[str, np.ndarray] | None, level: float,
                  key: str = "final_loss") -> list[dict]:
    """``rows`` (dicts with ``name`` and ``key``) sorted by ``key``, best (lowest) first, each
    updated with ``rank``, ``diff_vs_best`` (its final minus the best's) and, where ``replicates``
    maps every name to its replicates' final losses (one array, the same replicates in the same
    order for all), the ``level`` interval of the paired differences ``diff_lo``/``diff_hi``
    (:func:`cltk.laws.intervals.paired_interval`: it holds ``diff_vs_best``),
    ``diff_excludes_zero`` (the law separates it from the best) and ``share_best_lower`` (the
    share of replicates in which the best is lower). The best row and rows without replicates get
    None there."""
    rows = sorted(rows, key=lambda r: r[key])
    best = rows[0]
    for rank, r in enumerate(rows, 1):
        r.update(rank=rank, diff_vs_best=r[key] - best[key], diff_lo=None, diff_hi=None, diff_excludes_zero=None,
                 share_best_lower=None)
        if replicates and r is not best:
            d = np.asarray(replicates[r["name"]]) - np.asarray(replicates[best["name"]])
            lo, hi = paired_interval(r["diff_vs_best"], d, level)
            r.update(diff_lo=lo, diff_hi=hi, share_best_lower=float(np.mean(d > 0)))
            r["diff_excludes_zero"] = bool(r["diff_lo"] > 0 or r["diff_hi"] < 0)
    return rows


#: runs whose last steps lie within this fraction of each other have the same length (logs end a
# few steps apart: the 25M runs of one budget end at steps 23904-23936)
SAME_LENGTH = 0.02


def length_groups(rows: list[dict], key: str = "final_step") -> list[list[dict]]:
    """``rows`` split into runs of the same length (last steps within :data:`SAME_LENGTH` of the
    group's longest), longest first: only runs of one length compare schedules."""
    groups: list[list[dict]] = []
    for r in sorted(rows, key=lambda r: -r[key]):
        if groups and r[key] >= (1 - SAME_LENGTH) * groups[-1][0][key]:
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def short(name: str, width: int = 40) -> str:
    """A name cut to ``width`` characters for a table cell or a legend (an unnamed schedule is
    named by its spec, which can be kilobytes long; the report lists it in full elsewhere)."""
    return name if len(name) <= width else name[: width - 1] + "…"


def span(lo, hi, signed: bool = False) -> str:
    """An interval as one table cell (empty when there is none)."""
    if lo is None or hi is None:
        return ""
    return f"[{lo:+.4f}, {hi:+.4f}]" if signed else f"[{lo:.4f}, {hi:.4f}]"


def separation_cell(r: dict) -> Cell | str:
    """Whether the law tells a ranked row from the best, in words (coloured when it cannot)."""
    if r["diff_excludes_zero"] is None:
        return "best" if r["rank"] == 1 else ""
    if r["diff_excludes_zero"]:
        return Cell(f"yes ({r['share_best_lower']:.0%})", "ok")
    return Cell("no (holds 0)", "warn")


def tie_sentence(rows: list[dict], level: float) -> str | None:
    """The rows the law cannot separate from the best at ``level``, as a sentence (None if none)."""
    # rows may hold several rankings (one per run length, each starting at rank 1)
    best, bests = rows[0]["name"], {}
    for r in rows:
        if r["rank"] == 1:
            best = r["name"]
        bests[r["name"]] = best
    tied = [r["name"] for r in rows if r["diff_excludes_zero"] is False]
    if not tied:
        return None
    pairs = [f"{n} from {bests[n]}" for n in tied]
    return (f"At the {level:.0%} level the law cannot separate {', '.join(pairs)} (the best of its ranking): "
            "their paired differences' intervals include 0, so their order is not known.")
