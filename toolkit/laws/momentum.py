"""The momentum law of Tissue et al. (2024), "Scaling Law with Learning Rate Annealing", Eq. (1):

    L(s) = L0 + A * S1^(-alpha) - C * S2,
    S1 = sum_{i<=s} eta_i,   S2 = sum_{i<=s} m_i,   m_i = lambda * m_{i-1} + (eta_{i-1} - eta_i).

The decay factor lambda (about 0.999 in the paper; reproductions used 0.99-0.9997) is fitted with
the other parameters unless fixed, e.g. ``MomentumLaw(lam=0.999)``. The momentum recursion is a
first-order linear filter, evaluated exactly with ``scipy.signal.lfilter`` (its lambda-derivative
too), so a fit costs O(steps) per evaluation. Annealing terms start after warmup, as in the paper.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

from cltk.curves import Curve, warmup_end
from cltk.laws.base import LossLaw


class MomentumLaw(LossLaw):
    """Momentum law (Tissue et al. 2024, Eq. 1). Parameters: L0, A, C (linear), alpha, lam."""

    name = "momentum"
    lin_names = ("L0", "A", "C")
    nl_names = ("alpha", "lam")
    nl_transforms = ("log", "log1m")

    def _prepare(self, curve: Curve, steps: np.ndarray):
        eta = curve.lrs
        d = np.zeros_like(eta)
        w = warmup_end(eta)
        d[w + 1:] = eta[w:-1] - eta[w + 1:]
        return np.cumsum(eta)[steps], d, np.asarray(steps)

    def _features(self, nl, prep, jac):
        alpha, lam = nl
        Z, d, steps = prep
        n = len(Z)
        m = lfilter([1.0], [1.0, -lam], d)
        Zp = Z ** -alpha
        F = np.empty((n, 3))
        F[:, 0], F[:, 1], F[:, 2] = 1.0, Zp, -np.cumsum(m)[steps]
        if not jac:
            return F
        dm = lfilter([1.0], [1.0, -lam], np.concatenate([[0.0], m[:-1]]))  # dm_i/dlam
        dF = np.zeros((n, 3, 2))
        dF[:, 1, 0] = -Zp * np.log(Z)
        dF[:, 2, 1] = -np.cumsum(dm)[steps]
        return F, dF

    def _nl_box(self, curves: Sequence[Curve]):
        # 1 - lambda spans memories of 10 to 10^4 steps
        return np.array([0.05, 1 - 0.1]), np.array([1.5, 1 - 1e-4])

    def torch_loss(self, lrs, steps, decay_start: int):
        """Differentiable Eq. (1) of Tissue et al. (2024) at ``steps`` for a per-step LR tensor, with
        S2(t) = sum_k (eta_{k-1} - eta_k) (1 - lam^(t-k+1)) / (1 - lam), the closed form of the
        momentum recursion; used to optimise schedules."""
        import torch

        p = self.params_
        lam = p["lam"]
        S1 = torch.cumsum(lrs, 0)
        k = torch.arange(decay_start + 1, len(lrs))
        d = lrs[k - 1] - lrs[k]
        lag = (steps[:, None] - k[None, :] + 1).to(lrs.dtype)
        w = torch.where(lag > 0, (1 - lam ** lag.clamp_min(0)) / (1 - lam), torch.zeros_like(lag))
        return p["L0"] + p["A"] * S1[steps] ** -p["alpha"] - p["C"] * (w * d).sum(1)
