"""A river-valley loss landscape, after Wen et al. (2024), "Understanding Warmup-Stable-Decay Learning
Rates: A River Valley Loss Landscape Perspective" (arXiv:2410.05192), Sec. 2-3.

The landscape (the stand-in of the design notes, Sec. 5) is

    L(x, y) = f(x) + sum_j (lambda_j / 2) (y_j - g(x))^2,
    f(x) = floor + amp * (1 + x / scale)^(-power),      g(x) = bend * sin(x / scale),

``x`` runs along the river (a floor that keeps descending slowly), ``y_j`` are hill directions of
curvature ``lambda_j`` in which SGD sees gradient noise of variance ``noise_j`` (and ``river_noise``
along ``x``). The loss splits into a *river* part ``f(x)`` and a *hill* part (the quadratic term).

What the picture predicts (Wen et al. 2024, Sec. 3, Thm. 3.1-3.2): at learning rate eta the hill
part settles at ``sum_j eta noise_j / (2 (2 - eta lambda_j))`` - proportional to eta for small
eta lambda, the NQM steady state of Zhang et al. (2019) - while the river part falls with the LR
area ``sum eta`` only; decaying the LR removes the hill part but adds little river progress.

:func:`simulate_sgd` runs SGD for many seeds and schedules at once (torch); :func:`expected` gives
the exact expected decomposition of a straight valley (``bend = 0``, ``river_noise = 0``): the river
is then deterministic gradient descent and the hill part is exactly an NQM (:mod:`cltk.models.nqm`).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from cltk.curves import Curve
from cltk.models.nqm import as_lr_matrix, expected_loss, steady_state
from cltk.runtime import torch_threads
from cltk.schedules import cyclic_cosine

__all__ = ["Valley", "cyclic_cosine", "expected", "hill_steady_state", "simulate_sgd", "to_curves"]


@dataclasses.dataclass(frozen=True)
class Valley:
    """Parameters of the river-valley landscape (Wen et al. 2024, Sec. 2; see the module docstring)."""

    floor: float = 2.0
    amp: float = 1.0
    power: float = 1.0
    scale: float = 1.0
    hill_curv: tuple = (0.1, 0.3, 1.0, 3.0)
    hill_noise: tuple = (0.02, 0.02, 0.02, 0.02)
    river_noise: float = 0.0
    bend: float = 0.0
    hill_init: float = 0.0

    def __post_init__(self):
        curv, noise = np.atleast_1d(self.hill_curv), np.atleast_1d(self.hill_noise)
        problems = []
        if self.amp <= 0 or self.power <= 0 or self.scale <= 0:
            problems.append("amp, power and scale must be > 0")
        if self.floor <= 0:
            problems.append("floor must be > 0 (the laws fit positive losses)")
        if len(curv) == 0 or np.any(curv <= 0):
            problems.append("hill curvatures must be > 0")
        if len(noise) not in (1, len(curv)) or np.any(noise < 0):
            problems.append("hill noise must be >= 0, one value or one per hill direction")
        if self.river_noise < 0:
            problems.append("river_noise must be >= 0")
        if problems:
            raise ValueError("valley: " + "; ".join(problems))
        object.__setattr__(self, "hill_curv", tuple(float(v) for v in curv))
        object.__setattr__(self, "hill_noise", tuple(float(v) for v in np.broadcast_to(noise, curv.shape)))

    @property
    def curv(self) -> np.ndarray:
        return np.asarray(self.hill_curv)

    @property
    def noise(self) -> np.ndarray:
        return np.asarray(self.hill_noise)

    def river(self, x):
        return self.floor + self.amp * (1.0 + x / self.scale) ** -self.power

    def river_slope(self, x):
        """-f'(x): the downhill speed along the river per unit LR."""
        return self.amp * self.power / self.scale * (1.0 + x / self.scale) ** (-self.power - 1.0)

    def max_stable_lr(self) -> float:
        """SGD on the stiffest hill direction diverges above 2 / lambda_max."""
        return 2.0 / max(self.hill_curv)


def hill_steady_state(valley: Valley, lr) -> np.ndarray:
    """Stationary hill loss at constant LR, ``sum_j lr noise_j / (2 (2 - lr lambda_j))`` (the NQM
    fixed point, Zhang et al. 2019; Wen et al. 2024, Sec. 3: the hill part is proportional to LR)."""
    lr = np.asarray(lr, dtype=np.float64)
    return steady_state(valley.curv, valley.noise, lr[..., None]).sum(-1)


def _log_steps(T: int, every: int) -> np.ndarray:
    s = np.arange(0, T + 1, max(int(every), 1))
    return s if s[-1] == T else np.append(s, T)


def expected(valley: Valley, lrs, every: int = 1) -> dict:
    """Exact expected river / hill / total loss of a straight valley under each schedule.

    River: gradient descent ``x <- x + eta_t (-f'(x))`` (deterministic when ``river_noise = 0``);
    hill: the NQM moment recursion of Zhang et al. (2019, Eq. 5-6) with curvatures ``lambda_j``.
    Returns a dict of (schedules, n_logged) arrays ``river``, ``hill``, ``loss`` and ``steps``
    (number of updates done, from 0). Wen et al. (2024, Sec. 3) decomposition.
    """
    if valley.bend != 0 or valley.river_noise != 0:
        raise ValueError("expected: exact only for a straight valley (bend=0) without river noise; "
                         "use simulate_sgd")
    A = as_lr_matrix(lrs)
    S, T = A.shape
    steps = _log_steps(T, every)
    x = np.zeros(S)
    xs = np.empty((S, len(steps)))
    xs[:, 0] = x
    j = 1
    for t in range(T):
        x = x + A[:, t] * valley.river_slope(x)
        if j < len(steps) and steps[j] == t + 1:
            xs[:, j] = x
            j += 1
    _, hill = expected_loss(valley.curv, valley.noise, A, x0=valley.hill_init, every=every)
    river = valley.river(xs)
    return {"steps": steps, "river": river, "hill": hill, "loss": river + hill}


def simulate_sgd(valley: Valley, lrs, seeds: int = 64, every: int = 1, seed: int = 0,
                 dtype=torch.float64, threads: int | None = 1, device="cpu") -> dict:
    """SGD on the river valley for ``seeds`` seeds per schedule, all in one torch batch.

    Gradient (Wen et al. 2024, Sec. 2 stand-in): ``dL/dx = f'(x) - g'(x) sum_j lambda_j z_j``,
    ``dL/dy_j = lambda_j z_j`` with ``z = y - g(x)``; Gaussian noise of variance ``noise_j`` is added to
    the ``y_j`` gradients and ``river_noise`` to the ``x`` gradient. Returns a dict with ``steps`` and,
    for ``river``, ``hill``, ``loss``, the seed mean (schedules, n_logged) and its standard error
    (``*_sem``). ``device``: where torch runs (a name or ``torch.device``; the random stream differs
    between devices).
    """
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    A = as_lr_matrix(lrs)
    S, T = A.shape
    steps = _log_steps(T, every)
    is_log = np.zeros(T + 1, dtype=bool)
    is_log[steps] = True
    kw = {"dtype": dtype, "device": device}
    gen = torch.Generator(device=device).manual_seed(int(seed))
    lam = torch.as_tensor(valley.curv, **kw)
    sig = torch.as_tensor(np.sqrt(valley.noise), **kw)
    At = torch.as_tensor(A.T.copy(), **kw)
    x = torch.zeros(S, seeds, **kw)
    y = torch.full((S, seeds, len(lam)), float(valley.hill_init), **kw)
    sums = {k: torch.zeros(2, S, len(steps), dtype=torch.float64, device=device) for k in ("river", "hill", "loss")}
    sx, sc, amp, p, b = (float(np.sqrt(valley.river_noise)), valley.scale, valley.amp, valley.power,
                         valley.bend)

    def record(j, x, y):
        z = y - b * torch.sin(x / sc)[..., None]
        parts = {"river": valley.floor + amp * (1.0 + x / sc) ** -p, "hill": 0.5 * (z.square() @ lam)}
        parts["loss"] = parts["river"] + parts["hill"]
        for k, v in parts.items():
            v = v.double()
            sums[k][0, :, j] += v.sum(1)
            sums[k][1, :, j] += v.square().sum(1)

    with torch.no_grad(), torch_threads(threads):
        record(0, x, y)
        j = 1
        for t in range(T):
            eta = At[t].view(S, 1)
            g = b * torch.sin(x / sc)
            z = y - g[..., None]
            lz = z * lam
            gx = -amp * p / sc * (1.0 + x / sc) ** (-p - 1.0) - (b / sc) * torch.cos(x / sc) * lz.sum(-1)
            gy = lz + sig * torch.randn(y.shape, generator=gen, **kw)
            if sx > 0:
                gx = gx + sx * torch.randn(x.shape, generator=gen, **kw)
            x = x - eta * gx
            y = y - eta[..., None] * gy
            if is_log[t + 1]:
                record(j, x, y)
                j += 1
    out = {"steps": steps}
    for k, (s1, s2) in sums.items():
        mean = s1 / seeds
        var = (s2 / seeds - mean.square()).clamp_min(0.0) * seeds / max(seeds - 1, 1)
        out[k] = mean.cpu().numpy()
        out[k + "_sem"] = (var / seeds).sqrt().cpu().numpy()
    return out


def to_curves(result: dict, lrs, names: list[str], meta: dict | None = None) -> list[Curve]:
    """One :class:`cltk.curves.Curve` per schedule (loss logged after each update count >= 1),
    in the readers' format (``Curve.to_frame()``: step, lr, loss), ready for the laws of
    Tissue et al. (2024) and Luo et al. (2025)."""
    A = as_lr_matrix(lrs)
    steps = np.asarray(result["steps"])
    keep = steps >= 1
    # a loss logged after `s` updates saw the LRs of steps 0..s-1: the laws index the LR history so
    # that S1(s) = sum_{i<=s} eta_i, hence the history is shifted by one (eta of "step 0" is 0)
    curves = []
    for i, name in enumerate(names):
        hist = np.concatenate([[0.0], A[i]])
        curves.append(Curve(name, steps[keep], result["loss"][i, keep], hist,
                            {"source": "river_valley", **(meta or {})}))
    return curves

