"""A small MLP learner for rehearsal environments: domain-incremental permuted 8x8 digits.

Permuted digits follow the permuted-MNIST design (Goodfellow et al. 2013, "An Empirical
Investigation of Catastrophic Forgetting in Gradient-Based Neural Networks", Sec. 4; used by
Gandhi et al. 2024 for power-law environments) on scikit-learn's bundled ``load_digits`` (1797
8x8 images, no download): task ``k`` applies a fixed pixel permutation (task 0: identity) and
shares the 10-way output head with every other task.

One MLP per (kernel, seed) pair, all trained at once as a batch of independent networks (batched
matrix products), so a whole comparison costs one training loop.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from cltk.models.rehearsal import Environment, task_per_step
from cltk.runtime import torch_threads

__all__ = ["DigitTasks", "load_digit_tasks", "run_mlp"]


@dataclasses.dataclass
class DigitTasks:
    """Train/test digits (features in [0, 1]) and one pixel permutation per (seed, task)."""

    x_train: torch.Tensor  # (n_train, 64)
    y_train: torch.Tensor
    x_test: torch.Tensor  # (n_test, 64)
    y_test: torch.Tensor
    perms: torch.Tensor  # (seeds, K, 64)


def load_digit_tasks(n_tasks: int, seeds: int = 5, test_per_task: int = 300, seed: int = 0) -> DigitTasks:
    """Permuted 8x8 digits (Goodfellow et al. 2013, Sec. 4 design) from sklearn's bundled data."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError("the MLP learner needs scikit-learn (pip install scikit-learn)") from e
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_test = min(int(test_per_task), len(y) // 3)
    te, tr = order[:n_test], order[n_test:]
    perms = np.empty((seeds, n_tasks, 64), dtype=np.int64)
    for n in range(seeds):
        perms[n, 0] = np.arange(64)
        for k in range(1, n_tasks):
            perms[n, k] = rng.permutation(64)
    def f(a):
        return torch.as_tensor(a / 16.0, dtype=torch.float32)
    return DigitTasks(f(X[tr]), torch.as_tensor(y[tr]), f(X[te]), torch.as_tensor(y[te]), torch.as_tensor(perms))


def run_mlp(env: Environment, data: DigitTasks, block_steps: int, lrs: np.ndarray, eval_every: int = 5,
            hidden: int = 64, batch: int = 32, seed: int = 0, threads: int | None = 1) -> np.ndarray:
    """Train a one-hidden-layer ReLU MLP (64-``hidden``-10) per kernel and seed with SGD on its block
    sequence (Goodfellow et al. 2013 permuted-digits protocol) and evaluate test accuracy on every
    task every ``eval_every`` updates. Returns ``perf`` (kernels, seeds, n_eval, K). Runs on
    ``threads`` torch threads.
    """
    with torch_threads(threads):
        return _run_mlp(env, data, block_steps, lrs, eval_every, hidden, batch, seed)


def _run_mlp(env, data, block_steps, lrs, eval_every, hidden, batch, seed):
    E, N, nb = env.tasks.shape
    K = data.perms.shape[1]
    T = nb * block_steps
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.shape != (T,):
        raise ValueError(f"lrs must have one value per update ({T}), got shape {lrs.shape}")
    M = E * N
    g = torch.Generator().manual_seed(int(seed))

    def init(*shape, fan_in):
        # one draw per seed, repeated for every kernel: paired comparison from the same start
        w = torch.randn(N, *shape, generator=g) * (2.0 / fan_in) ** 0.5
        return w.expand(E, N, *shape).reshape(M, *shape).clone().requires_grad_(True)

    W1, W2 = init(64, hidden, fan_in=64), init(hidden, 10, fan_in=hidden)
    b1 = torch.zeros(M, 1, hidden, requires_grad=True)
    b2 = torch.zeros(M, 1, 10, requires_grad=True)
    params = (W1, b1, W2, b2)
    step_task = torch.as_tensor(task_per_step(env.tasks, block_steps)).reshape(M, T)
    perm_m = data.perms.expand(E, N, K, 64).reshape(M, K, 64)
    # test inputs under every task permutation, per model: (M, K * n_test, 64)
    xt = data.x_test[:, perm_m].permute(1, 2, 0, 3).reshape(M, -1, 64)
    yt = data.y_test.repeat(K)
    n_test = len(data.y_test)
    n_eval = T // eval_every + 1
    perf = torch.empty(M, n_eval, K)
    # the batch indices depend on the seed only, shared by the kernels
    idx_all = torch.randint(len(data.y_train), (T, N, batch), generator=g)

    def forward(x):
        return torch.baddbmm(b2, torch.relu(torch.baddbmm(b1, x, W1)), W2)

    def evaluate(j):
        with torch.no_grad():
            pred = forward(xt).argmax(-1)
            perf[:, j] = (pred == yt).float().reshape(M, K, n_test).mean(-1)

    evaluate(0)
    for t in range(T):
        idx = idx_all[t].expand(E, N, batch).reshape(M, batch)
        perm = perm_m[torch.arange(M), step_task[:, t]]  # (M, 64)
        xb = data.x_train[idx[..., None], perm[:, None, :]]  # (M, batch, 64), permuted pixels
        logits = forward(xb)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), data.y_train[idx].reshape(-1),
                                                 reduction="sum") / batch
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gp in zip(params, grads):
                p.sub_(lrs[t] * gp)
        if (t + 1) % eval_every == 0:
            evaluate((t + 1) // eval_every)
    return perf.reshape(E, N, n_eval, K).numpy().astype(np.float64)
