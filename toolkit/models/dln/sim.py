"""Batched simulation of ensembles of deep linear networks in torch.

Every tensor carries an ensemble axis E (seeds x initialisations x learning rates x deficit onsets
...) and a pathway axis P (P > 1: several deep linear pathways whose outputs are summed, the
multi-pathway model of Kleinman, Achille, Soatto 2024 and Saxe et al. 2022). Layer i of every
member and pathway is one slice of a (E, P, n_i, n_{i-1}) tensor, so a training step is a handful
of batched matrix products (bmm) whatever the ensemble size. Gradients are written out by hand
(backprop through a linear chain) rather than through autograd: the graph bookkeeping would cost
more than the small products themselves.
"""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import torch

from cltk.models.dln.tasks import Task, Teacher

__all__ = [
    "INIT_KINDS",
    "Deficit",
    "Trace",
    "end_to_end",
    "init_weights",
    "train",
    "train_flops",
]

INIT_KINDS = ("small", "gaussian", "orthogonal", "balanced", "lowrank")
_SINGLE_THREAD_FLOPS = 4e6  # below this many FLOPs per batched product, one CPU thread is faster


def _haar(shape, n: int, m: int, gen: torch.Generator) -> torch.Tensor:
    """Batched n x m matrices with orthonormal columns (or rows when m > n), Haar-distributed."""
    big, small = max(n, m), min(n, m)
    g = torch.randn(*shape, big, small, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)  # Mezzadri's sign fix
    return q if n >= m else q.transpose(-1, -2)


def init_weights(kind: str, widths, n_members: int, *, pathways: int = 1, scale: float = 1.0,
                 rank: int | None = None, teacher: Teacher | None = None, seed: int = 0,
                 dtype=torch.float32, device="cpu") -> list[torch.Tensor]:
    """Initial weights of ``n_members`` x ``pathways`` networks with layer sizes ``widths`` =
    [n_in, n_1, ..., n_out]; returns D tensors of shape (E, P, n_i, n_{i-1}).

    kinds (Saxe et al. 2014, random orthogonal vs scaled Gaussian inits; Liu et al. 2024, "How
    connectivity structure shapes rich and lazy learning in neural circuits", for low rank):
    ``small`` iid N(0, scale^2); ``gaussian`` scaled Gaussian iid N(0, scale^2 / fan_in);
    ``orthogonal`` scale x Haar (semi-)orthogonal; ``balanced`` decoupled and balanced along the
    teacher's modes, end-to-end mode strength ``scale`` in every mode (each layer scale^{1/D}, random
    hidden bases); ``lowrank`` rank-``rank`` Gaussian rescaled to the Frobenius norm scale x
    sqrt(n_i) that ``gaussian`` has on average. Sampled on CPU in float64 so a seed gives the same
    network on every device."""
    widths = [int(w) for w in widths]
    depth = len(widths) - 1
    if kind not in INIT_KINDS:
        raise ValueError(f"unknown init '{kind}' (choose from {', '.join(INIT_KINDS)})")
    if depth < 1 or min(widths) < 1:
        raise ValueError(f"need at least one layer and positive widths, got {widths}")
    gen = torch.Generator().manual_seed(int(seed))
    shape = (n_members, pathways)
    ws = []
    if kind == "balanced":
        if teacher is None:
            raise ValueError("init 'balanced' needs the teacher")
        m = len(teacher.s)
        if min(widths) < m:
            raise ValueError(f"init 'balanced' needs every width >= {m} (the teacher's modes)")
        a = float(scale) ** (1.0 / depth)
        u = torch.as_tensor(teacher.u, dtype=torch.float64)
        v = torch.as_tensor(teacher.v, dtype=torch.float64)
        bases = [v.expand(*shape, *v.shape)] + [_haar(shape, n, m, gen) for n in widths[1:-1]] \
            + [u.expand(*shape, *u.shape)]
        for i in range(depth):
            ws.append(a * bases[i + 1] @ bases[i].transpose(-1, -2))
    else:
        for n_prev, n in itertools.pairwise(widths):
            if kind == "small":
                w = scale * torch.randn(*shape, n, n_prev, generator=gen, dtype=torch.float64)
            elif kind == "gaussian":
                w = scale / np.sqrt(n_prev) * torch.randn(*shape, n, n_prev, generator=gen, dtype=torch.float64)
            elif kind == "orthogonal":
                w = scale * _haar(shape, n, n_prev, gen)
            else:
                r = min(n, n_prev) if rank is None else int(rank)
                if r < 1:
                    raise ValueError(f"init rank must be >= 1, got {r}")
                w = torch.randn(*shape, n, r, generator=gen, dtype=torch.float64) \
                    @ torch.randn(*shape, r, n_prev, generator=gen, dtype=torch.float64)
                w = w * (scale * np.sqrt(n) / torch.linalg.matrix_norm(w)[..., None, None])
            ws.append(w)
    return [w.to(dtype=dtype, device=device).contiguous() for w in ws]


def end_to_end(weights: list[torch.Tensor]) -> torch.Tensor:
    """Per-pathway end-to-end maps W_D ... W_1, shape (E, P, n_out, n_in)."""
    prod = weights[0]
    for w in weights[1:]:
        prod = w @ prod
    return prod


@dataclasses.dataclass
class Deficit:
    """A temporary deficit, per ensemble member: for start <= step < start + length, pathway
    ``pathway`` stops learning, None: no pathway is deprived (the multi-pathway deficit of
    Kleinman, Achille, Soatto 2024: the deprived pathway gets no gradient); with ``remove_output``
    its output is also removed (its input set to zero). ``mask`` replaces the task's observation
    weights during the window (their matrix-completion deficit: fewer observed entries)."""

    start: torch.Tensor
    length: torch.Tensor
    pathway: int | None = 1
    remove_output: bool = False
    mask: torch.Tensor | None = None


@dataclasses.dataclass
class Trace:
    """What :func:`train` records every ``record_every`` steps (and after the last step).

    steps (R,); loss (E, R) population loss of the training task; evals (E, K, R) of the eval tasks;
    modes (E, P, R, m) per-pathway mode strengths u_a^T W_p v_a (or None); change (E, R) relative
    weight change sqrt(sum |W_i - W_i(0)|^2 / sum |W_i(0)|^2)."""

    steps: np.ndarray
    loss: np.ndarray
    evals: np.ndarray
    modes: np.ndarray | None
    change: np.ndarray

    @staticmethod
    def concat(traces: list[Trace]) -> Trace:
        """Join traces of consecutive phases (dropping each later phase's duplicate first record)."""
        first, rest = traces[0], traces[1:]
        pick = [first] + [dataclasses.replace(
            t, steps=t.steps[1:], loss=t.loss[:, 1:], evals=t.evals[..., 1:],
            modes=None if t.modes is None else t.modes[:, :, 1:], change=t.change[:, 1:]) for t in rest]
        modes = None if first.modes is None else np.concatenate([t.modes for t in pick], axis=2)
        return Trace(np.concatenate([t.steps for t in pick]), np.concatenate([t.loss for t in pick], axis=1),
                     np.concatenate([t.evals for t in pick], axis=-1), modes,
                     np.concatenate([t.change for t in pick], axis=1))


def train_flops(widths, n_members: int, pathways: int = 1, batch: int | None = None) -> float:
    """Floating-point operations of one training step of :func:`train` (multiply-add = 2): the
    forward chain, the backward chain and the weight updates, whitened full batch when ``batch`` is
    None (the first layer's input is the identity and costs nothing)."""
    widths = list(widths)
    b = widths[0] if batch is None else batch
    per = 0
    for i, (n_prev, n) in enumerate(itertools.pairwise(widths)):
        first_free = batch is None and i == 0
        per += 0 if first_free else 2 * n * n_prev * b  # forward
        per += 0 if first_free else 2 * n * n_prev * b  # weight gradient
        per += 2 * n * n_prev * b if i > 0 else 0  # backward delta
    return float(per * n_members * pathways)


def train(weights: list[torch.Tensor], task: Task, *, lr, steps: int, batch_size: int | None = None,
          seed: int = 0, record_every: int = 1, eval_tasks=(), modes: tuple | None = None,
          deficit: Deficit | None = None, start_step: int = 0, weights0: list[torch.Tensor] | None = None,
          record: bool = True) -> Trace | None:
    """Train every member of the ensemble in place by gradient descent on ``task``.

    Full-batch GD (``batch_size`` None) follows the population loss 1/2 |(W - T) Q|^2 of whitened
    inputs exactly, the discrete-time version of the gradient-flow equations of Saxe et al. 2014 with tau = 1/lr; SGD
    draws ``batch_size`` Gaussian inputs per member and step (x = Q z) and targets T x + noise.
    ``lr`` is a float or one value per member. ``modes`` = (U, V) tensors whose column pairs give
    the mode strengths to record. Steps are numbered from ``start_step`` (deficit windows use it)."""
    threads = torch.get_num_threads()
    widths = [weights[0].shape[-1]] + [w.shape[-2] for w in weights]
    per_product = train_flops(widths, weights[0].shape[0], weights[0].shape[1], batch_size) / (3 * len(weights))
    if weights[0].device.type == "cpu" and per_product < _SINGLE_THREAD_FLOPS:
        # small products: thread hand-offs cost more than the arithmetic, and on a shared machine
        # a busy second core can stall every product (measured 100x slowdowns)
        torch.set_num_threads(1)
    try:
        return _train(weights, task, lr=lr, steps=steps, batch_size=batch_size, seed=seed,
                      record_every=record_every, eval_tasks=eval_tasks, modes=modes, deficit=deficit,
                      start_step=start_step, weights0=weights0, record=record)
    finally:
        torch.set_num_threads(threads)


def _train(weights, task, *, lr, steps, batch_size, seed, record_every,  # noqa: C901 - one readable loop
           eval_tasks, modes, deficit, start_step, weights0, record):
    e, p = weights[0].shape[:2]
    dev, dt = weights[0].device, weights[0].dtype
    depth = len(weights)
    flat = [w.view(e * p, *w.shape[2:]) for w in weights]
    lr_t = torch.as_tensor(lr, dtype=dt, device=dev).expand(e).reshape(e, 1, 1)
    teacher = task.teacher.to(dev, dt)
    basis = None if task.basis is None else task.basis.to(dev, dt)
    if task.mask is not None and (batch_size is not None or basis is not None):
        raise ValueError("masked (matrix-completion) tasks train by full-batch GD on whitened inputs")
    w0 = [w.clone() for w in weights] if weights0 is None else weights0
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    if batch_size is None:
        x_full = basis  # None = identity input, whose first product is skipped
        y_full = teacher if basis is None else teacher @ basis
        norm = 1.0
    else:
        norm = 1.0 / batch_size
        r = teacher.shape[-1] if basis is None else basis.shape[1]
    coef = lr_t * norm
    if deficit is not None:
        d_start = deficit.start.to(dev).reshape(e)
        d_stop = d_start + deficit.length.to(dev).reshape(e)
        base_mask = task.mask
        d_mask = None if deficit.mask is None else deficit.mask.to(dev, dt)
    evals = [task] + list(eval_tasks)
    rec_steps, rec_loss, rec_modes, rec_change = [], [], [], []

    def snapshot(step):
        with torch.no_grad():
            maps = end_to_end(weights)
            total = maps.sum(1)
            rec_steps.append(step)
            rec_loss.append(torch.stack([t.loss(total) for t in evals], dim=1))
            if modes is not None:
                u, v = modes
                rec_modes.append(torch.einsum("om,epoi,im->epm", u, maps, v))
            num = sum(((w - w_0) ** 2).sum((1, 2, 3)) for w, w_0 in zip(weights, w0))
            den = sum((w_0**2).sum((1, 2, 3)) for w_0 in w0)
            rec_change.append(torch.sqrt(num / den.clamp_min(1e-300)))

    with torch.no_grad():
        for k in range(steps):
            t = start_step + k
            if record and k % record_every == 0:
                snapshot(t)
            if batch_size is None:
                x, y = x_full, y_full
            else:
                z = torch.randn(e, r, batch_size, generator=gen, device=dev, dtype=dt)
                x = z if basis is None else basis @ z
                y = teacher @ x
                if task.noise:
                    y = y + task.noise * torch.randn(y.shape, generator=gen, device=dev, dtype=dt)
            gate = out_gate = mask = None
            if deficit is not None:
                inside = (d_start <= t) & (t < d_stop)
                if deficit.pathway is not None:
                    gate = torch.ones(e, p, device=dev, dtype=dt)
                    gate[:, deficit.pathway] = (~inside).to(dt)
                    out_gate = gate if deficit.remove_output else None
                if d_mask is not None:
                    mask = torch.where(inside.reshape(e, 1, 1), d_mask, base_mask)
            elif task.mask is not None:
                mask = task.mask
            if x is not None:  # shared (n, B) or per-member (E, n, B) inputs, fed to every pathway
                x = x.expand(e, *x.shape[-2:]).unsqueeze(1).expand(e, p, *x.shape[-2:]).reshape(e * p, *x.shape[-2:])
            hs = [x]
            h = flat[0] if x is None else torch.bmm(flat[0], x)
            hs.append(h)
            for w in flat[1:]:
                h = torch.bmm(w, h)
                hs.append(h)
            if p == 1 and out_gate is None:
                out = h  # (E, n_out, B): summing one pathway would only copy
            else:
                out = h.view(e, p, *h.shape[1:])
                out = (out * out_gate[..., None, None]).sum(1) if out_gate is not None else out.sum(1)
            err = torch.sub(out, y)
            if mask is not None:
                err.mul_(mask)
            delta = err.mul_(coef).unsqueeze(1)
            delta = delta * gate[..., None, None] if gate is not None else delta.expand(e, p, *err.shape[1:])
            delta = delta.reshape(e * p, *err.shape[1:])
            for i in range(depth - 1, -1, -1):
                nxt = torch.bmm(flat[i].transpose(1, 2), delta) if i > 0 else None
                if hs[i] is None:
                    flat[i].sub_(delta)
                else:
                    flat[i].baddbmm_(delta, hs[i].transpose(1, 2), alpha=-1.0)
                delta = nxt
        if not record:
            return None
        snapshot(start_step + steps)

    def cpu(a):
        return torch.stack(a, dim=-1).cpu().double().numpy()

    losses = cpu(rec_loss)  # (E, K, R)
    mode_arr = torch.stack(rec_modes, dim=2).cpu().double().numpy() if modes is not None else None
    return Trace(np.asarray(rec_steps), losses[:, 0], losses[:, 1:], mode_arr, cpu(rec_change))
