"""Critical learning periods in deep linear networks (Kleinman, Achille, Soatto 2024, "Critical
learning periods emerge even in deep linear networks", ICLR).

Multi-pathway model (their per-mode pathway equations): two depth-D linear pathways a, b see the same
input and their outputs are summed. Along a mode of strength S with balanced layers, pathway x has
per-layer weight p_x and end-to-end strength K_x = p_x^D, and gradient descent with step dt is

    p_x <- p_x + dt |p_x|^{D-1} (S - K_a - K_b).

A deficit (pathway b deprived for ``length`` steps from ``onset``) stops b from learning; an early
deficit lets a take the whole mode for D >= 2 (winner take all), a late one changes nothing.

:func:`window_sweep` trains an ensemble in which member i sees a deficit task during its own window
[onset_i, onset_i + duration_i) and the normal task otherwise, for ``after`` steps past the window:
their protocol of a deficit of varying duration from step 0 followed by long training, vectorised
over durations and seeds.

How steps are counted (here, in :func:`cltk.models.dln.train` and in :class:`cltk.models.dln.Deficit`):
update k (0-based) takes the state at step k to step k + 1 and is a deficit update iff
onset <= k < onset + duration, so a deficit of duration d is exactly d updates and duration 0 is the
control. The authors' code counts otherwise (github.com/mjkleinman/CriticalPeriodDeepLinearNets):
their pathway ODE (``multipath/analytical_and_sgd_final.py``, ``k_trajectory``) freezes ``py[t] =
py[t-1]`` for def_start <= t < def_end with t from 1, i.e. updates def_start - 1 ... def_end - 2: a
deficit "from 0 of length 150" freezes only 149 updates (from onset o > 0 the 150 updates start one
step early), so their curves are ours with a 149-step deficit; their SGD (``train_mcn``) gates updates
def_start ... def_end - 1 as we do. Their matrix completion (``matrixcompletion/main.py``,
``main-num-examples.py``) uses the deficit loss for iterations T <= T_critical, i.e. T_critical + 1
updates ("T_critical = 0" is a one-step deficit, not a control), then T_critical + epoch_continue
iterations in all, and logs the test loss before the last update (after epoch_continue - 2 normal
updates).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from cltk.models.dln.sim import end_to_end, train
from cltk.models.dln.tasks import Task

__all__ = ["WindowSweep", "pathway_ode", "window_sweep"]


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


@dataclasses.dataclass
class WindowSweep:
    """What :func:`window_sweep` records: ``steps`` (R,) the record grid; ``evals`` (E, K, R) the
    losses of the eval tasks, NaN where a member had already stopped; ``final`` (E, K) each member's
    losses at its own stop step; ``stop`` (E,) = onset + duration + after."""

    steps: np.ndarray
    evals: np.ndarray
    final: np.ndarray
    stop: np.ndarray


def _member(task: Task, idx: torch.Tensor, n_members: int):
    """Rows ``idx`` of a task's teacher and mask (shared ones are broadcast to every member)."""
    def rows(a):
        if a is None:
            return None
        return (a if a.dim() == 3 else a.expand(n_members, *a.shape))[idx]
    return rows(task.teacher), rows(task.mask)


def window_sweep(weights: list[torch.Tensor], deficit: Task, task: Task, onsets, durations, after: int, *,
                 lr: float, eval_tasks=(), record_every: int = 100) -> WindowSweep:
    """Train member i of the ensemble on ``deficit`` for onset_i <= step < onset_i + duration_i and on
    ``task`` otherwise, until ``after`` steps past its window (Kleinman, Achille, Soatto 2024: a deficit
    of varying duration, then long training; their matrix-completion deficits swap the target or the
    observed entries). Full-batch GD (:func:`cltk.models.dln.train`) between the grid points (every
    ``record_every`` steps, window edges and stops), where the eval tasks are measured; a member that
    has stopped leaves the ensemble, so the cost is the sum of the members' lengths. Task teachers and
    masks are shared (n, n) or per member (E, n, n). ``weights`` are trained in place (members that
    stop keep their final weights)."""
    e = weights[0].shape[0]
    if (deficit.mask is None) != (task.mask is None) or deficit.basis is not None or task.basis is not None:
        raise ValueError("window_sweep takes two masked (completion) tasks or two whitened full-rank tasks")
    onsets = np.asarray(onsets, np.int64).reshape(e)
    durations = np.asarray(durations, np.int64).reshape(e)
    if np.any(onsets < 0) or np.any(durations < 0) or after < 0:
        raise ValueError("onsets, durations and after must be >= 0")
    ends = onsets + durations
    stop = ends + int(after)
    grid = np.unique(np.concatenate([np.arange(0, stop.max() + 1, max(1, int(record_every))), onsets, ends, stop]))
    evals = np.full((e, len(eval_tasks), len(grid)), np.nan)
    final = np.full((e, len(eval_tasks)), np.nan)
    dev = weights[0].device
    ids = np.arange(e)

    def measure(j, step):
        live = torch.as_tensor(ids, device=dev)
        with torch.no_grad():
            maps = end_to_end([w[live] for w in weights]).sum(1)
            for k, t in enumerate(eval_tasks):
                teacher, mask = _member(t, live, e)
                evals[ids, k, j] = Task(teacher, mask=mask).loss(maps).double().cpu().numpy()
        done = stop[ids] == step
        final[ids[done]] = evals[ids[done], :, j]

    measure(0, 0)
    for j in range(1, len(grid)):
        ids = ids[stop[ids] > grid[j - 1]]
        b0, b1 = int(grid[j - 1]), int(grid[j])
        live = torch.as_tensor(ids, device=dev)
        inside = torch.as_tensor((onsets[ids] <= b0) & (b0 < ends[ids]), device=dev)[:, None, None]
        (td, md), (tn, mn) = _member(deficit, live, e), _member(task, live, e)
        teacher = torch.where(inside, td, tn)
        mask = None if mn is None else torch.where(inside, md, mn)
        sub = [w[live] for w in weights]
        train(sub, Task(teacher, mask=mask), lr=lr, steps=b1 - b0, start_step=b0, record=False)
        for w, s in zip(weights, sub):
            w[live] = s
        measure(j, b1)
    return WindowSweep(grid, evals, final, stop)
