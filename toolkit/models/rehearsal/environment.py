"""Power-law rehearsal environments and continual-learning metrics.

Environment (Anderson & Schooler 1991, "Reflections of the environment in memory", Psychol. Sci.:
the odds that an item recurs fall as a power of the time since it last occurred, exponent ~0.5;
used as a learning environment by Gandhi et al. 2024, "Catastrophic interference is mitigated in
naturalistic power-law learning environments"). Training is a sequence of blocks, one task per
block. Task ``k`` is introduced at block ``intro[k]``; an ordinary block trains the newest task;
a *rehearsal* block revisits one earlier task ``j`` chosen with probability proportional to the
recurrence kernel of its lag ``d_j`` (blocks since it last occurred):

    power:        w(d) = d^(-exponent)           (Anderson & Schooler 1991, Fig. 1-2)
    exponential:  w(d) = exp(-d / tau)
    uniform:      w(d) = 1                         (i.i.d. replay)

Equal rehearsal budget: for each seed the rehearsal blocks sit at the same positions under every
kernel, and the draws use common random numbers, so the kernels differ only in *which* old task is
rehearsed (a paired comparison).

Metrics from a per-iteration performance matrix ``perf[eval, task]`` (higher is better): the
standard ones of :mod:`cltk.continual_metrics` (accuracy matrix, ACC, BWT, FWT, Chaudhry forgetting,
De Lange min-ACC / WC-ACC / stability gap) plus knowledge accumulation. For the regression learners
the score is the explained variance ``1 - L/L(0)``, not an accuracy: it can be negative.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from cltk import continual_metrics as CM
from cltk.runtime import torch_threads

__all__ = [
    "KERNELS",
    "Environment",
    "LinearTasks",
    "continual_metrics",
    "make_environment",
    "make_linear_tasks",
    "recurrence_weights",
    "run_linear",
    "task_per_step",
]

KERNELS = ("power", "uniform", "exponential")


def recurrence_weights(lag, kernel: str, exponent: float = 0.5, tau: float = 10.0) -> np.ndarray:
    """Unnormalised recurrence odds of a task last seen ``lag`` blocks ago (Anderson & Schooler 1991:
    power ``lag^-exponent``; baselines exponential ``exp(-lag/tau)`` and uniform)."""
    lag = np.asarray(lag, dtype=np.float64)
    if kernel == "power":
        return np.maximum(lag, 1.0) ** -exponent
    if kernel == "exponential":
        # shifted by the smallest lag so that exp() cannot underflow to all zeros
        return np.exp(-(lag - np.min(lag, axis=-1, keepdims=True)) / tau)
    if kernel == "uniform":
        return np.ones_like(lag)
    raise ValueError(f"unknown recurrence kernel {kernel!r} (choose from {', '.join(KERNELS)})")


@dataclasses.dataclass
class Environment:
    """Task sequences of several kernels and seeds: ``tasks[e, n, b]`` is the task of block ``b`` for
    kernel ``kernels[e]`` and seed ``n``; ``rehearse[n, b]`` marks rehearsal blocks (shared by
    kernels); ``intro[k]`` is the block at which task ``k`` first appears."""

    kernels: tuple
    tasks: np.ndarray
    rehearse: np.ndarray
    intro: np.ndarray
    n_tasks: int
    budget: float
    exponent: float
    tau: float

    @property
    def n_blocks(self) -> int:
        return self.tasks.shape[-1]

    def lags(self, e: int) -> np.ndarray:
        """Blocks between consecutive occurrences of the same task (all seeds) under kernel ``e``."""
        out = []
        for seq in self.tasks[e]:
            for k in range(self.n_tasks):
                pos = np.flatnonzero(seq == k)
                out.append(np.diff(pos))
        return np.concatenate(out) if out else np.zeros(0, int)


def make_environment(n_tasks: int = 5, n_blocks: int = 50, budget: float = 0.3, kernels=KERNELS,
                     exponent: float = 0.5, tau: float | None = None, seeds: int = 5, seed: int = 0) -> Environment:
    """Power-law / uniform / exponential rehearsal environments at equal budget (see module doc;
    Anderson & Schooler 1991 recurrence odds). ``budget`` is the fraction of the blocks that may
    rehearse (those after task 1 appears, other than introduction blocks) that do rehearse.
    ``tau`` (exponential kernel) defaults to the blocks between introductions."""
    if n_tasks < 2 or n_blocks < n_tasks:
        raise ValueError(f"need n_tasks >= 2 and n_blocks >= n_tasks (got {n_tasks}, {n_blocks})")
    if not 0 <= budget <= 1:
        raise ValueError(f"budget must be in [0, 1], got {budget}")
    if exponent < 0 or seeds < 1:
        raise ValueError("exponent must be >= 0 and seeds >= 1")
    for k in kernels:
        recurrence_weights(1.0, k)
    tau = float(tau or n_blocks / n_tasks)
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    intro = np.round(np.arange(n_tasks) * n_blocks / n_tasks).astype(int)
    newest = np.searchsorted(intro, np.arange(n_blocks), side="right") - 1  # newest task at each block
    eligible = np.flatnonzero((np.arange(n_blocks) > intro[1]) & ~np.isin(np.arange(n_blocks), intro))
    rng = np.random.default_rng(seed)
    n_reh = round(budget * len(eligible))
    rehearse = np.zeros((seeds, n_blocks), dtype=bool)
    for n in range(seeds):
        rehearse[n, rng.choice(eligible, n_reh, replace=False)] = True
    u = rng.random((seeds, n_blocks))  # common random numbers for every kernel
    E = len(kernels)
    tasks = np.empty((E, seeds, n_blocks), dtype=np.int64)
    last = np.full((E, seeds, n_tasks), -1, dtype=np.int64)
    for b in range(n_blocks):
        cur = np.full((E, seeds), newest[b])
        reh = rehearse[:, b]
        if reh.any():
            past = np.arange(n_tasks) < newest[b]  # tasks older than the newest one
            lag = np.where(past, b - last, np.inf)  # inf: not yet a past task, weight 0
            w = np.stack([np.where(past, recurrence_weights(lag[e], k, exponent, tau), 0.0)
                          for e, k in enumerate(kernels)])
            cdf = np.cumsum(w, axis=-1)
            pick = (cdf < u[None, :, b, None] * cdf[..., -1:]).sum(-1)
            cur = np.where(reh[None, :], np.minimum(pick, newest[b] - 1), cur)
        tasks[:, :, b] = cur
        np.put_along_axis(last, cur[..., None], b, axis=-1)
    return Environment(tuple(kernels), tasks, rehearse, intro, n_tasks, budget, exponent, tau)


def task_per_step(tasks: np.ndarray, block_steps: int) -> np.ndarray:
    """The task of every update: each block's task repeated ``block_steps`` times (last axis), the
    per-iteration view of the block sequence used for continual evaluation (De Lange et al. 2023)."""
    return np.repeat(tasks, block_steps, axis=-1)


def continual_metrics(perf: np.ndarray, tasks: np.ndarray, intro: np.ndarray, block_steps: int,
                      eval_every: int) -> dict:
    """Continual-learning metrics per run from ``perf[..., eval, task]`` (evaluations after
    ``0, eval_every, ...`` updates) and the block sequence ``tasks[..., block]``, by the standard
    definitions of :mod:`cltk.continual_metrics`. Task ``i``'s row of the accuracy matrix is the
    evaluation just before task ``i + 1`` is introduced (the last row: the end of the run).

    Returns arrays over the leading (run) axes: ``final_acc`` (= ``avg_acc``, ACC of Lopez-Paz &
    Ranzato 2017), ``knowledge`` (mean over evaluations of the mean score over the tasks introduced
    so far), ``forgetting`` (Chaudhry et al. 2018, Eq. 5: first K-1 tasks), ``bwt`` and ``fwt``
    (Lopez-Paz & Ranzato 2017; FWT against the untrained network), ``min_acc`` and ``wc_acc`` (De
    Lange et al. 2023, Eqs. 4-5: per task the minimum over every evaluation after its first block),
    ``stability_gap`` and ``worst_after_switch`` (De Lange et al. 2023, Sec. 3: over every task switch
    and every older task, the drop to the worst score in the next block, and that worst score).
    """
    if block_steps % eval_every:
        raise ValueError("eval_every must divide block_steps (switches must fall on evaluations)")
    n_eval, K = perf.shape[-2:]
    per_block = block_steps // eval_every
    eval_step = np.arange(n_eval) * eval_every
    seen = eval_step[:, None] >= (intro * block_steps)[None, :]  # (n_eval, K): introduced before this evaluation
    knowledge = (np.where(seen, perf, 0.0).sum(-1) / np.maximum(seen.sum(-1), 1)).mean(-1)
    ends = np.append(intro[1:] * per_block, n_eval - 1)
    R = CM.accuracy_matrix(perf, ends)
    out = CM.standard_metrics(R, baseline=perf[..., 0, :], curve=perf, learned_at=(intro + 1) * per_block)
    # stability gap: windows after each block boundary where the task changes, over the older tasks
    nb = tasks.shape[-1]
    blocks = np.arange(1, nb)
    switch = tasks[..., 1:] != tasks[..., :-1]  # (..., nb-1)
    old = (intro[None, :] < blocks[:, None])  # (nb-1, K) introduced before the switch
    mask = switch[..., None] & old & (np.arange(K) != tasks[..., 1:, None])
    at, worst = CM.worst_after_switch(perf, blocks * per_block, per_block)
    cnt = np.maximum(mask.sum((-1, -2)), 1)
    return {"final_acc": out["avg_acc"], "knowledge": knowledge, **out,
            "worst_after_switch": np.where(mask, worst, 0.0).sum((-1, -2)) / cnt,
            "stability_gap": np.where(mask, at - worst, 0.0).sum((-1, -2)) / cnt}


# --- linear / deep-linear regression learner ----------------------------------------------------------
@dataclasses.dataclass
class LinearTasks:
    """Per-seed regression tasks: inputs of task ``k`` span a random ``rank``-dim subspace (covariance
    ``cov[n, k]``), targets come from teacher ``teach[n, k]``."""

    cov: torch.Tensor  # (seeds, K, d, d)
    teach: torch.Tensor  # (seeds, K, d)
    base: torch.Tensor  # (seeds, K): loss of the zero predictor, for the explained-variance score


def make_linear_tasks(n_tasks: int, dim: int = 32, rank: int = 16, similarity: float = 0.5, seeds: int = 5,
                      seed: int = 0) -> LinearTasks:
    """Domain-incremental linear regression in the spirit of Lee et al. (2021, "Continual learning in
    the teacher-student setup", Sec. 2): teachers ``sqrt(s) w* + sqrt(1 - s) n_k`` share a component
    of weight ``similarity``; task ``k`` draws inputs ``x = U_k z`` from a random rank-``rank``
    subspace (isotropic within it, total variance ``dim``)."""
    if not (1 <= rank <= dim) or not 0 <= similarity <= 1:
        raise ValueError(f"need 1 <= rank <= dim and 0 <= similarity <= 1 (rank={rank}, dim={dim})")
    g = torch.Generator().manual_seed(int(seed) + 7919)
    shared = torch.randn(seeds, 1, dim, generator=g, dtype=torch.float64) / dim ** 0.5
    own = torch.randn(seeds, n_tasks, dim, generator=g, dtype=torch.float64) / dim ** 0.5
    teach = similarity ** 0.5 * shared + (1 - similarity) ** 0.5 * own
    U, _ = torch.linalg.qr(torch.randn(seeds, n_tasks, dim, rank, generator=g, dtype=torch.float64))
    cov = (dim / rank) * U @ U.transpose(-1, -2)
    base = 0.5 * torch.einsum("nkd,nkde,nke->nk", teach, cov, teach)
    return LinearTasks(cov, teach, base)


def run_linear(env: Environment, lt: LinearTasks, block_steps: int, lrs: np.ndarray, eval_every: int = 1,
               depth: int = 1, hidden: int = 16, init_scale: float = 1e-2, seed: int = 0,
               threads: int | None = 1) -> np.ndarray:
    """Train one linear (``depth=1``) or two-layer deep linear (``depth=2``, width ``hidden``; Saxe et
    al. 2014, "Exact solutions to the nonlinear dynamics of learning in deep linear neural
    networks", Eq. 2) regressor per kernel and seed on its task sequence with the exact population
    gradient ``cov_k (w - w_k)``, and evaluate every task every ``eval_every`` updates.

    Returns ``perf`` (kernels, seeds, n_eval, K): explained variance ``1 - L_k(w) / L_k(0)``.
    """
    E, N, nb = env.tasks.shape
    K, d = lt.teach.shape[1], lt.teach.shape[2]
    T = nb * block_steps
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.shape != (T,):
        raise ValueError(f"lrs must have one value per update ({T}), got shape {lrs.shape}")
    if depth not in (1, 2):
        raise ValueError(f"depth must be 1 or 2, got {depth}")
    step_task = torch.as_tensor(task_per_step(env.tasks, block_steps))  # (E, N, T)
    seed_idx = torch.arange(N).expand(E, N)
    g = torch.Generator().manual_seed(int(seed))
    # one initialisation per seed, shared by the kernels (paired comparison)
    if depth == 1:
        w = (init_scale * torch.randn(N, d, generator=g, dtype=torch.float64)).expand(E, N, d).clone()
    else:
        W1 = (init_scale * torch.randn(N, hidden, d, generator=g, dtype=torch.float64)).expand(E, N, hidden, d).clone()
        a = (init_scale * torch.randn(N, hidden, generator=g, dtype=torch.float64)).expand(E, N, hidden).clone()
        w = torch.einsum("enh,enhd->end", a, W1)
    if depth == 1:
        a = W1 = None
    n_eval = T // eval_every + 1
    perf = torch.empty(E, N, n_eval, K, dtype=torch.float64)
    cov_all, teach_all, base = lt.cov, lt.teach, lt.base

    def evaluate(j, w):
        diff = w[:, :, None, :] - teach_all[None]  # (E, N, K, d)
        loss = 0.5 * torch.einsum("enkd,nkdf,enkf->enk", diff, cov_all, diff)
        perf[:, :, j] = 1.0 - loss / base[None]

    with torch_threads(threads):
        evaluate(0, w)
        for t in range(T):
            w, a, W1 = _linear_step(w, a, W1, step_task[:, :, t], seed_idx, cov_all, teach_all, lrs[t])
            if (t + 1) % eval_every == 0:
                evaluate((t + 1) // eval_every, w)
    return perf.numpy()


def _linear_step(w, a, W1, k, seed_idx, cov_all, teach_all, lr):
    """One population-gradient step of every (kernel, seed) regressor on its current task."""
    grad = torch.einsum("enij,enj->eni", cov_all[seed_idx, k], w - teach_all[seed_idx, k])
    if a is None:
        return w - lr * grad, None, None
    ga = torch.einsum("enhd,end->enh", W1, grad)
    gW = a[..., None] * grad[:, :, None, :]
    a, W1 = a - lr * ga, W1 - lr * gW
    return torch.einsum("enh,enhd->end", a, W1), a, W1

