"""Batched ReLU MLPs trained on phase-mixture rehearsal plans (Gandhi et al. 2024 setting).

The paper trains an MLP on domain-incremental permuted MNIST (Goodfellow et al. 2013, Sec. 4 design;
ten permutations, one shared 10-way head). MNIST cannot be downloaded here, so the stand-in is the
same design on scikit-learn's bundled 8x8 digits (:func:`cltk.models.rehearsal.mlp.load_digit_tasks`:
1797 images, 64 pixels, task 0 unpermuted): the same interference mechanism (one network, disjoint
pixel permutations, shared labels) at 1/40 of the data and 1/12 of the input size.

All (condition, seed) networks train at once as one batch of independent MLPs (batched matrix
products, one shared Python loop), with plain minibatch SGD; each condition's networks start from the
same per-seed initialisation and the same per-seed minibatch order *positions* (paired seeds).
"""
from __future__ import annotations

import numpy as np
import torch

from cltk.models.rehearsal.mlp import DigitTasks
from cltk.models.rehearsal.phases import PhasePlan
from cltk.runtime import torch_threads

__all__ = ["run_mlp_phases"]


def run_mlp_phases(plan: PhasePlan, data: DigitTasks, epochs: int = 3, hidden=(100, 100), batch: int = 32,
                   lr: float = 0.1, evals_per_phase: int = 4, seed: int = 0, threads: int | None = 1,
                   device: str = "cpu") -> dict:
    """Train one MLP (64-hidden...-10, ReLU) per (condition, seed) of ``plan`` for ``epochs`` passes
    over every phase's mixture (Gandhi et al. 2024 protocol, see :mod:`cltk.models.rehearsal.phases`),
    evaluating test accuracy on every task ``evals_per_phase`` times per phase (the last at its end).

    Returns ``curve`` (conditions, seeds, 1 + phases * evals_per_phase, K) -- evaluation 0 is the
    untrained network -- ``task_ends`` (evaluation index ending each phase) and ``steps`` (updates per
    phase)."""
    with torch_threads(threads):
        return _run(plan, data, epochs, tuple(hidden), batch, lr, evals_per_phase, seed, torch.device(device))


def _run(plan, data, epochs, hidden, batch, lr, evals_per_phase, seed, dev):
    C, N = len(plan.conditions), plan.seeds
    K = len(plan.task)
    M = C * N
    if data.perms.shape[0] < N or data.perms.shape[1] < K:
        raise ValueError(f"digit tasks hold {tuple(data.perms.shape[:2])} (seeds, tasks); need ({N}, {K})")
    g = torch.Generator().manual_seed(int(seed))
    sizes = (64, *hidden, 10)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        # one He initialisation per seed, repeated for every condition: paired comparisons
        w = torch.randn(N, a, b, generator=g) * (2.0 / a) ** 0.5
        params.append(w.expand(C, N, a, b).reshape(M, a, b).clone().to(dev).requires_grad_(True))
        params.append(torch.zeros(M, 1, b, device=dev, requires_grad=True))
    perms = data.perms[:N, :K].to(dev)
    seed_of = torch.arange(M, device=dev) % N
    x_train, y_train = data.x_train.to(dev), data.y_train.to(dev)
    n_test = len(data.y_test)
    # test inputs under every task permutation, per seed (shared by the conditions): (N, K * n_test, 64)
    xt = data.x_test.to(dev)[:, perms].permute(1, 2, 0, 3).reshape(N, K * n_test, 64)
    yt = data.y_test.to(dev).repeat(K)

    def forward(x):
        for i in range(0, len(params), 2):
            x = torch.baddbmm(params[i + 1], x, params[i])
            if i + 2 < len(params):
                x = torch.relu(x)
        return x

    n_eval = 1 + K * evals_per_phase
    curve = torch.empty(M, n_eval, K)

    def evaluate(j):
        with torch.no_grad():
            for c in range(C):  # one condition at a time bounds the memory of the test pass
                sl = slice(c * N, (c + 1) * N)
                x = xt
                for i in range(0, len(params), 2):
                    x = torch.baddbmm(params[i + 1][sl], x, params[i][sl])
                    if i + 2 < len(params):
                        x = torch.relu(x)
                curve[sl, j] = (x.argmax(-1) == yt).float().reshape(N, K, n_test).mean(-1).cpu()

    evaluate(0)
    steps = []
    rows = torch.arange(M, device=dev)[:, None]
    for p in range(K):
        tsk = torch.as_tensor(plan.task[p], device=dev)
        idx = torch.as_tensor(plan.index[p], device=dev)
        L = tsk.shape[1]
        per_epoch = max(1, L // batch)
        S = epochs * per_epoch
        if S < evals_per_phase:
            raise ValueError(f"phase {p} has {S} updates, fewer than the {evals_per_phase} evaluations per phase")
        marks = {int(round(k * S / evals_per_phase)): k for k in range(1, evals_per_phase + 1)}
        steps.append(S)
        t = 0
        for _ in range(epochs):
            order = torch.argsort(torch.rand(M, L, generator=g).to(dev), dim=1)
            for s in range(per_epoch):
                sel = order[:, s * batch:(s + 1) * batch]
                bt, bi = tsk[rows, sel], idx[rows, sel]  # (M, B)
                pv = perms[seed_of[:, None], bt]  # (M, B, 64): each item's pixel permutation
                xb = x_train[bi[..., None], pv]
                logits = forward(xb)
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), y_train[bi].reshape(-1),
                                                         reduction="sum") / sel.shape[1]
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    for q, gq in zip(params, grads):
                        q.sub_(lr * gq)
                t += 1
                if t in marks:
                    evaluate(1 + p * evals_per_phase + marks[t] - 1)
    task_ends = np.arange(1, K + 1) * evals_per_phase
    return {"curve": curve.reshape(C, N, n_eval, K).numpy().astype(np.float64), "task_ends": task_ends,
            "steps": np.asarray(steps)}
