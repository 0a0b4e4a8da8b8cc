"""Critical learning periods in deep linear networks (Kleinman, Achille, Soatto 2024, "Critical
learning periods emerge even in deep linear networks", ICLR).

Multi-pathway model (their per-mode pathway equations): two depth-D linear pathways a, b see the same
input and their outputs are summed. Along a mode of strength S with balanced layers, pathway x has
per-layer weight p_x and end-to-end strength K_x = p_x^D, and gradient descent with step dt is

    p_x <- p_x + dt |p_x|^{D-1} (S - K_a - K_b).

A deficit (pathway b deprived for ``length`` steps from ``onset``) stops b from learning; an early
deficit lets a take the whole mode for D >= 2 (winner take all), a late one changes nothing.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pathway_ode"]


def pathway_ode(depth, onset, length, *, strength: float = 10.0, k0: float = 0.01, dt: float = 0.01,
                steps: int = 1000, remove_output: bool = False, record_every: int = 0):
    """Integrate the two-pathway mode dynamics (Kleinman et al. 2024: gradient descent on the
    per-layer weight of one pathway mode) by the forward-Euler
    map above, for every combination of the broadcast arrays ``depth``, ``onset``, ``length`` at once.

    onset < 0 means no deficit. ``remove_output`` also removes pathway b's output during the deficit
    (its input is zero), instead of only blocking its learning. Returns (K_a, K_b) at the end, and
    with ``record_every`` > 0 also the trajectories, shape (..., R) with R = steps // record_every + 1."""
    depth, onset, length = np.broadcast_arrays(np.asarray(depth, float), np.asarray(onset, float),
                                               np.asarray(length, float))
    if np.any(depth < 1):
        raise ValueError("pathway depth must be >= 1")
    pa = np.full(depth.shape, k0) ** (1.0 / depth)
    pb = pa.copy()
    traj_a, traj_b = [], []
    for t in range(steps):  # Euler recursion: each step needs the previous one
        if record_every and t % record_every == 0:
            traj_a.append(pa**depth)
            traj_b.append(pb**depth)
        gated = (onset >= 0) & (onset <= t) & (t < onset + length)
        ka, kb = pa**depth, pb**depth
        resid = strength - ka - np.where(gated & remove_output, 0.0, kb)
        new_a = pa + dt * np.abs(pa) ** (depth - 1) * resid
        pb = np.where(gated, pb, pb + dt * np.abs(pb) ** (depth - 1) * resid)
        pa = new_a
    ka, kb = pa**depth, pb**depth
    if not record_every:
        return ka, kb
    traj_a.append(ka)
    traj_b.append(kb)
    return ka, kb, np.stack(traj_a, -1), np.stack(traj_b, -1)
