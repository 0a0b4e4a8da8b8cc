"""Plain SGD on the noisy quadratic model (NQM) of Zhang et al. (2019), "Which Algorithmic Choices
Matter at Which Batch Sizes? Insights From a Noisy Quadratic Model" (NeurIPS 2019), Sec. 3.

Loss ``L(x) = 1/2 sum_i h_i x_i^2`` (diagonal Hessian ``h``); SGD sees the gradient ``h_i x_i + eps_i``
with ``Var eps_i = c_i``. For any learning-rate schedule ``alpha_t`` the first two moments of each
coordinate follow exactly (Zhang et al. 2019, Eq. 5-6):

    m_i <- (1 - alpha_t h_i) m_i,        v_i <- (1 - alpha_t h_i)^2 v_i + alpha_t^2 c_i,
    E[L] = 1/2 sum_i h_i (m_i^2 + v_i)

and the fixed point at a constant rate is ``alpha c_i / (2 (2 - alpha h_i))`` per coordinate.

Everything here is vectorised over coordinates and schedules (and seeds for the Monte Carlo SGD);
the only Python loop is over steps, because the recursion is sequential in time.
"""
from __future__ import annotations

import numpy as np
import torch

from cltk.runtime import torch_threads

__all__ = ["DEFAULT_SPECTRUM", "as_lr_matrix", "expected_loss", "sgd_monte_carlo", "spectrum", "steady_state"]


#: the model of ``cltk simulate nqm`` and of :func:`spectrum` (one set of defaults for both)
DEFAULT_SPECTRUM = {"h_max": 1.0, "power": 1.0, "noise": 0.1, "noise_form": "hessian"}


def spectrum(dim: int, h_max: float = 1.0, power: float = 1.0, noise: float = 0.1,
             noise_form: str = "hessian") -> tuple[np.ndarray, np.ndarray]:
    """Power-law NQM spectrum ``h_i = h_max * i^-power`` (i = 1..dim) and gradient-noise variances.

    Zhang et al. (2019, Sec. 3.1) take the noise covariance proportional to the Hessian
    (``noise_form='hessian'``, the default here and in ``cltk simulate nqm``: ``c_i = noise * h_i``);
    ``'constant'`` gives ``c_i = noise``. ``c`` is the noise of one example: a batch of ``B`` sees
    ``c / B`` (Zhang et al. 2019, Eq. 2).
    """
    if dim < 1 or h_max <= 0 or power < 0 or noise < 0:
        raise ValueError(f"spectrum: need dim >= 1, h_max > 0, power >= 0, noise >= 0 "
                         f"(got dim={dim}, h_max={h_max}, power={power}, noise={noise})")
    h = h_max * np.arange(1, dim + 1, dtype=np.float64) ** -power
    if noise_form == "hessian":
        c = noise * h
    elif noise_form == "constant":
        c = np.full(dim, float(noise))
    else:
        raise ValueError(f"spectrum: noise_form must be 'hessian' or 'constant', got {noise_form!r}")
    return h, c


def steady_state(h, c, lr) -> np.ndarray:
    """Stationary expected loss per coordinate at a constant rate, ``lr c / (2 (2 - lr h))``
    (Zhang et al. 2019, fixed point of Eq. 6; finite only when ``0 < lr h < 2``)."""
    h, c, lr = np.asarray(h, float), np.asarray(c, float), np.asarray(lr, float)
    return lr * c / (2.0 * (2.0 - lr * h))


def as_lr_matrix(lrs) -> np.ndarray:
    """Per-step LRs as a (schedules, steps) float64 array (a 1-D array is one schedule): the
    ``alpha_t`` of the recursion of Zhang et al. (2019, Eq. 5-6), validated."""
    a = np.asarray(lrs, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"lrs must be a (steps,) or (schedules, steps) array, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("lrs must be finite and non-negative")
    return a


def _log_steps(n_steps: int, every: int) -> np.ndarray:
    # step 0 is the initial point; afterwards every `every`-th step and always the last one
    s = np.arange(0, n_steps + 1, max(int(every), 1))
    return s if s[-1] == n_steps else np.append(s, n_steps)


def expected_loss(h, c, lrs, x0=1.0, every: int = 1, decompose: bool = False, backend: str = "numpy",
                  dtype=None, threads: int | None = None):
    """Exact expected NQM loss under each schedule (Zhang et al. 2019, Eq. 5-6).

    ``h``, ``c``: (dim,) curvatures and gradient-noise variances; ``lrs``: (steps,) or
    (schedules, steps) per-step LRs; ``x0``: initial point (scalar or (dim,)), deterministic.
    Returns ``(steps_logged, loss)`` with ``loss`` of shape (schedules, n_logged) at the steps
    ``0, every, 2 every, ..., steps`` (loss after that many updates). With ``decompose`` it returns
    ``(steps_logged, loss, bias, variance)``: the ``m^2`` and ``v`` parts of the loss.

    Because ``m^2`` and ``v`` are multiplied by the same ``(1 - alpha h)^2`` each step, the loss needs
    only their sum ``u = E[x^2]`` (one state per coordinate); ``decompose`` tracks ``m^2`` too.
    ``backend='torch'`` runs the same recursion with in-place torch kernels (faster for big arrays)
    on ``threads`` threads (None: torch's setting).
    """
    A = as_lr_matrix(lrs)
    h = np.asarray(h, dtype=np.float64).ravel()
    c = np.array(np.broadcast_to(np.asarray(c, dtype=np.float64), h.shape))
    if np.any(h < 0) or np.any(c < 0):
        raise ValueError("h and c must be non-negative")
    x0 = np.array(np.broadcast_to(np.asarray(x0, dtype=np.float64), h.shape))
    S, T = A.shape
    logged = _log_steps(T, every)
    if backend == "torch":
        with torch_threads(threads):
            return (logged,) + _expected_torch(h, c, A, x0, logged, decompose, dtype or torch.float64)
    if backend != "numpy":
        raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
    u = np.tile(x0 ** 2, (S, 1))
    q = u.copy() if decompose else None
    half_h = 0.5 * h
    out = np.empty((S, len(logged)))
    bias = np.empty_like(out) if decompose else None
    out[:, 0] = u @ half_h
    if decompose:
        bias[:, 0] = out[:, 0]
    j = 1
    f = np.empty((S, len(h)))
    for t in range(T):
        np.multiply(A[:, t:t + 1], h, out=f)
        np.subtract(1.0, f, out=f)
        np.square(f, out=f)
        u *= f
        u += (A[:, t:t + 1] ** 2) * c
        if decompose:
            q *= f
        if j < len(logged) and logged[j] == t + 1:
            out[:, j] = u @ half_h
            if decompose:
                bias[:, j] = q @ half_h
            j += 1
    return (logged, out, bias, out - bias) if decompose else (logged, out)


def _expected_torch(h, c, A, x0, logged, decompose, dtype):
    S, T = A.shape
    ht = torch.as_tensor(h, dtype=dtype)
    ct = torch.as_tensor(c, dtype=dtype)
    At = torch.as_tensor(A, dtype=dtype)
    lr_cols = At.T.contiguous().unsqueeze(-1)  # (T, S, 1): one contiguous column per step
    lr2_cols = lr_cols.square()
    neg_h = -ht
    half_h = 0.5 * ht
    u = torch.as_tensor(x0, dtype=dtype).square().expand(S, -1).contiguous()
    q = u.clone() if decompose else None
    f = torch.empty_like(u)
    out = torch.empty(S, len(logged), dtype=dtype)
    bias = torch.empty_like(out) if decompose else None
    out[:, 0] = u @ half_h
    if decompose:
        bias[:, 0] = out[:, 0]
    is_log = np.zeros(T + 1, dtype=bool)
    is_log[logged] = True
    j = 1
    with torch.no_grad():
        for t in range(T):
            torch.addcmul(torch.ones((), dtype=dtype), lr_cols[t], neg_h, out=f)  # 1 - alpha h
            f.square_()
            u.mul_(f).addcmul_(lr2_cols[t], ct)
            if decompose:
                q.mul_(f)
            if is_log[t + 1]:
                torch.mv(u, half_h, out=out[:, j])
                if decompose:
                    torch.mv(q, half_h, out=bias[:, j])
                j += 1
    out_np = out.double().numpy()
    if decompose:
        b = bias.double().numpy()
        return out_np, b, out_np - b
    return (out_np,)


def sgd_monte_carlo(h, c, lrs, x0=1.0, seeds: int = 1000, every: int = 1, seed: int = 0,
                    dtype=torch.float32, chunk: int | None = None, threads: int | None = 1):
    """Monte Carlo SGD on the NQM (Zhang et al. 2019, Eq. 4): ``x <- x - alpha (h x + sqrt(c) xi)``
    with ``xi ~ N(0, 1)``, run for ``seeds`` independent seeds per schedule in torch.

    Returns ``(steps_logged, mean, sem)``: per-schedule mean loss over seeds and its standard error,
    each (schedules, n_logged). ``chunk`` bounds the seeds held in memory at once (the random
    stream, hence the exact numbers, depend on it). The iterate is float32 by default (Gaussian
    draws cost a sixth of float64's on CPU, and a 1e-7 rounding is far below the Monte Carlo
    error); per-seed losses are accumulated in float64.
    """
    A = as_lr_matrix(lrs)
    h = np.asarray(h, dtype=np.float64).ravel()
    c = np.array(np.broadcast_to(np.asarray(c, dtype=np.float64), h.shape))
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    S, T = A.shape
    logged = _log_steps(T, every)
    gen = torch.Generator().manual_seed(int(seed))
    ht = torch.as_tensor(h, dtype=dtype)
    sc = torch.as_tensor(np.sqrt(c), dtype=dtype)
    half_h = 0.5 * ht
    At = torch.as_tensor(A.T.copy(), dtype=dtype)  # (T, S)
    chunk = int(chunk or seeds)
    s1 = torch.zeros(S, len(logged), dtype=torch.float64)
    s2 = torch.zeros_like(s1)
    is_log = np.zeros(T + 1, dtype=bool)
    is_log[logged] = True
    done = 0
    with torch.no_grad(), torch_threads(threads):
        while done < seeds:
            n = min(chunk, seeds - done)
            x = torch.as_tensor(np.array(np.broadcast_to(x0, h.shape), dtype=np.float64),
                                dtype=dtype).expand(S, n, -1).clone()
            xi = torch.empty_like(x)
            j = 0

            def record(j, x):
                loss = (x.square() @ half_h).double()  # (S, n)
                s1[:, j] += loss.sum(1)
                s2[:, j] += loss.square().sum(1)

            record(j, x)
            j += 1
            for t in range(T):
                a = At[t].view(S, 1, 1)
                xi.normal_(generator=gen)
                x.mul_(1.0 - a * ht).sub_(xi.mul_(a * sc))
                if is_log[t + 1]:
                    record(j, x)
                    j += 1
            done += n
    mean = s1 / seeds
    var = (s2 / seeds - mean.square()).clamp_min(0.0) * seeds / max(seeds - 1, 1)
    return logged, mean.numpy(), (var / seeds).sqrt().numpy()
