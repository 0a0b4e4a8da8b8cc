"""The LR drops a loss-curve law sums over, binned by distance, shared by the laws that sum a
relaxation kernel over past LR decreases (multi-power law, Luo et al. 2025, Eq. 4; the power-anneal
law of :mod:`cltk.laws.power_anneal`).

For each logged step t the sum over drop steps k <= t is split into bins of distance t - k: width 1
(exact terms) for the last ``exact`` steps, then widths growing geometrically by ``rel_width`` of the
distance. Per bin, prefix sums give the summed LR decrease, its |dLR|-weighted position (the LR area
S1(k-1) at the drop) and mean log LR; each bin is evaluated at that weighted centre (a midpoint rule
whose error is checked against the exact O(points x steps) sum in the tests). The cost is
O(points x log(steps)) instead of O(points x steps)."""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class DropBins:
    """Per logged point (rows) and distance bin (columns); dead bins hold zeros."""

    Z: np.ndarray  # (n,) S1(t): LR area up to and including step t
    X: np.ndarray  # (n, b) LR area from the bin's drop position to t, S1(t) - S1(k - 1)
    D: np.ndarray  # (n, b) sum over the bin of eta_{k-1} - eta_k
    log_eta: np.ndarray  # (n, b) |dLR|-weighted mean of log eta_k
    eta_before: np.ndarray  # (n, b) eta just before the bin's first drop step (eta_{k_first - 1})
    eta_after: np.ndarray  # (n, b) eta at the bin's last step
    live: np.ndarray  # (n, b) the bin holds a drop


def bin_edges(max_dist: int, exact: int, rel_width: float) -> np.ndarray:
    """Bin edges in distance t - k: 0, 1, ..., exact, then geometric growth."""
    edges = list(range(exact + 1))
    while edges[-1] <= max_dist:
        edges.append(edges[-1] + max(1, int(rel_width * edges[-1])))
    return np.asarray(edges, dtype=np.int64)


# the O(steps) prefix sums of the last few LR histories: predicting a 10^6-step log in chunks of
# points would otherwise redo them for every chunk (the history is checked, not only its identity)
_HISTORY_CACHE: list[tuple] = []


def _history_sums(eta: np.ndarray, start: int):
    key = (len(eta), start, float(eta.sum()), float(eta[-1]))
    for cached, k, sums in _HISTORY_CACHE:
        if cached is eta and k == key:
            return sums
    d = np.zeros_like(eta)
    d[start + 1:] = eta[start:-1] - eta[start + 1:]
    if not np.any(np.abs(d) > 1e-12 * max(eta.max(), 1e-30)):
        sums = None
    else:
        S1 = np.cumsum(eta)
        a = np.abs(d)
        S1prev = np.concatenate([[0.0], S1[:-1]])  # S1(k-1)
        ell = np.log(np.maximum(eta, 1e-8 * eta.max()))

        def prefix(v):
            return np.concatenate([[0.0], np.cumsum(v)])

        sums = (S1, S1prev, ell, prefix(d), prefix(a), prefix(a * S1prev), prefix(a * ell))
    _HISTORY_CACHE.insert(0, (eta, key, sums))
    del _HISTORY_CACHE[4:]
    return sums


def drop_bins(eta: np.ndarray, steps, start: int, exact: int = 32, rel_width: float = 1 / 32) -> DropBins | None:
    """Bins of the LR changes ``eta[k-1] - eta[k]`` for ``k > start`` (``start``: the warmup's end,
    or 0 to sum the warmup's increases too) seen from each step of ``steps``; None when the LR never
    changes after ``start``."""
    steps = np.asarray(steps, dtype=np.int64)
    sums = _history_sums(eta, start)
    if sums is None:
        return None
    S1, S1prev, ell, cd, ca, caP, caL = sums
    Z = S1[steps]
    edges = bin_edges(int(steps.max()), exact, rel_width)
    # bin m of point j holds k in [t_j - edges[m+1] + 1, t_j - edges[m]]
    hi = steps[:, None] - edges[None, :-1]
    lo = steps[:, None] - edges[None, 1:] + 1
    hi_c, lo_c = np.clip(hi, -1, None) + 1, np.clip(lo, 0, None)
    lo_c = np.minimum(lo_c, hi_c)
    D = cd[hi_c] - cd[lo_c]
    A = ca[hi_c] - ca[lo_c]
    live = A > 0
    P = (caP[hi_c] - caP[lo_c]) / np.where(live, A, 1.0)
    L = (caL[hi_c] - caL[lo_c]) / np.where(live, A, 1.0)
    # width-1 bins hold a single step: take S1(k-1) and log eta_k directly, since a prefix-sum
    # difference divided by a tiny |dLR| loses the precision that small LRs amplify
    k_ex = np.clip(hi[:, :exact], 0, None)
    P[:, :exact], L[:, :exact] = S1prev[k_ex], ell[k_ex]
    # the bin's changes telescope: sum_k eta_{k-1} - eta_k = eta_{first - 1} - eta_last
    first = np.maximum(lo_c, start + 1)
    last = np.clip(hi_c - 1, 0, len(eta) - 1)
    before = eta[np.clip(first - 1, 0, len(eta) - 1)]
    after = eta[last]
    keep = np.flatnonzero(live.any(axis=0))
    live = live[:, keep]
    X = np.where(live, np.maximum(Z[:, None] - P[:, keep], 0.0), 0.0)
    return DropBins(Z=Z, X=X, D=D[:, keep], log_eta=np.where(live, L[:, keep], 0.0),
                    eta_before=np.where(live, before[:, keep], 0.0), eta_after=np.where(live, after[:, keep], 0.0),
                    live=live)
