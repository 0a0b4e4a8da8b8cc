"""The power-anneal law: cltk's own loss-curve law, a multi-power law whose annealing bonus is
measured in powers of the learning rate and fades with training progress.

It extends the multi-power law of Luo et al. (2025, Eq. 4-5), ``L(t) = L0 + A (S1(t))^-alpha -
LD(t)`` with ``LD(t) = B sum_k (eta_{k-1} - eta_k) G(.)``, in two measured ways:

    L(t)  = L0 + A * S1(t)^(-alpha) - B * sum_{k <= t} w_k * [phi(eta_{k-1}) - phi(eta_k)] * G(S_k(t))
    phi(eta) = (eta / eta_ref)^rho                       LR drops measured in eta^rho
    w_k   = (S1(k-1) / S_ref)^(-delta),  0 <= delta <= 0.5  a drop late in training buys less
    G(x)  = 1 - (1 + C x / beta)^(-beta)                 the multi-power relaxation kernel
    S1(t) = sum_{tau <= t} eta_tau,  S_k(t) = S1(t) - S1(k - 1)  (LR area since the drop)

1. *Drops in eta^rho.* The loss bought by lowering the LR from eta to eta' is not proportional to
   eta - eta'. In the noisy quadratic model the steady-state excess loss is proportional to the LR
   (Zhang et al. 2019, Eq. 6), which gives rho = 1 and the multi-power law; on real runs the loss
   keeps falling faster as the LR approaches 0 (the last halving of the LR buys more than its share),
   which a fitted rho < 1 describes (rho ~ 0.5 on the 124M runs of Schaipp et al. 2025, ~0.7 on the
   25M runs of Luo et al.). With rho = 1, delta = 0 and gamma = 0 the law is the multi-power law.
2. *Amplitude fading with progress.* The same LR drop buys less later in training (the anneal
   gains of WSD cooldowns shrink with run length; Hägele et al. 2024, Fig. 4): the weight
   ``(S1/S_ref)^-delta`` of a drop falls slowly with the LR area at which it happens. delta is bounded
   below by 0, since when every fit curve anneals only at its end it is weakly identified.

The multi-power law's LR-dependent time scale (gamma) is dropped: with drops measured in eta^rho a
fitted gamma did not help on any real set. ``eta_ref`` and ``S_ref`` (the largest peak LR and the
median final LR area of the fit curves unless given) only make B and C interpretable: B is the loss
that annealing from eta_ref to 0 buys at progress S_ref, once relaxed. 8 parameters: L0, A, B
(linear) and alpha, C, beta, rho, delta. Evaluation uses the distance bins of :mod:`cltk.laws.drops`;
within a bin the drops telescope, ``sum phi(eta_{k-1}) - phi(eta_k) = phi(eta_first-1) - phi(eta_last)``,
so the rho-dependent sum is exact per bin.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cltk.curves import Curve, warmup_end
from cltk.laws.base import LawError, LossLaw
from cltk.laws.drops import drop_bins


class PowerAnnealLaw(LossLaw):
    """Power-anneal law (multi-power law of Luo et al. 2025, Eq. 4, with drops in eta^rho and an
    amplitude fading as S1^-delta). Parameters: L0, A, B (linear), alpha, C, beta, rho, delta."""

    name = "poweranneal"
    lin_names = ("L0", "A", "B")
    nl_names = ("alpha", "C", "beta", "rho", "delta")
    nl_transforms = ("log", "log", "log", "log", "log")
    min_curves = 1

    def __init__(self, eta_ref: float | None = None, s_ref: float | None = None, exact: int = 32,
                 rel_width: float = 1 / 32, **kw):
        super().__init__(**kw)
        for name, v in (("eta_ref", eta_ref), ("s_ref", s_ref)):
            if v is not None and not (np.isfinite(v) and v > 0):
                raise LawError(f"{self.name}: {name} must be a positive number, got {v}")
        self.eta_ref, self.s_ref = eta_ref, s_ref
        self.exact, self.rel_width = int(exact), float(rel_width)

    def _current_refs(self) -> tuple[float | None, float | None]:
        """The references in use: fixed at the first fit (or given), else None."""
        return (getattr(self, "eta_ref_", None) or self.eta_ref, getattr(self, "s_ref_", None) or self.s_ref)

    def _refs(self) -> tuple[float, float]:
        eta_ref, s_ref = self._current_refs()
        if eta_ref is None or s_ref is None:
            raise LawError(f"{self.name}: call fit() or load a fitted law before predict()")
        return eta_ref, s_ref

    def fit(self, curves, progress=None):
        """As :meth:`LossLaw.fit`; a new fit measures B and C against references of its own
        curves (or the ``eta_ref``/``s_ref`` given), never those left by an earlier fit."""
        self.eta_ref_ = self.s_ref_ = None
        return super().fit(curves, progress)

    def _validate(self, curves) -> list[Curve]:
        curves = super()._validate(curves)
        # the references are fixed once (and saved in the law file), so refits and bootstrap
        # replicates measure B and C in the same units as the fitted parameters
        eta_ref, s_ref = self._current_refs()
        self.eta_ref_ = eta_ref or max(c.peak_lr for c in curves)
        self.s_ref_ = s_ref or float(np.median([np.sum(c.lrs[: c.steps[-1] + 1]) for c in curves]))
        return curves

    def _config(self) -> dict:
        cfg = super()._config()
        for name, v in zip(("eta_ref", "s_ref"), self._current_refs()):
            if v is not None:
                cfg[name] = float(v)
        return cfg

    def _prepare(self, curve: Curve, steps: np.ndarray):
        eta_ref, s_ref = self._refs()
        bins = drop_bins(curve.lrs, steps, warmup_end(curve.lrs), self.exact, self.rel_width)
        if bins is None:
            return np.cumsum(curve.lrs)[np.asarray(steps, dtype=np.int64)], None
        # only the live (point, bin) pairs are kept, flat, with their row: most pairs of a schedule
        # that decays late (WSD) hold no drop, and the features are sums over rows (np.bincount)
        rows, cols = np.nonzero(bins.live)
        X = bins.X[rows, cols]
        at_drop = np.maximum(bins.Z[rows] - X, 1e-300) / s_ref
        rb, ra = bins.eta_before[rows, cols] / eta_ref, bins.eta_after[rows, cols] / eta_ref
        with np.errstate(divide="ignore"):
            log_rb = np.where(rb > 0, np.log(np.where(rb > 0, rb, 1.0)), -np.inf)
            log_ra = np.where(ra > 0, np.log(np.where(ra > 0, ra, 1.0)), -np.inf)
        return bins.Z, (rows, X, log_rb, log_ra, np.log(at_drop))

    def _features(self, nl, prep, jac):
        alpha, C, beta, rho, delta = nl
        Z, dec = prep
        n = len(Z)
        Zp = Z ** -alpha
        F = np.empty((n, 3))
        F[:, 0], F[:, 1] = 1.0, Zp
        dF = np.zeros((n, 3, 5)) if jac else None
        if jac:
            dF[:, 1, 0] = -Zp * np.log(Z)
        if dec is None:
            F[:, 2] = 0.0
            return (F, dF) if jac else F
        rows, X, log_rb, log_ra, log_s = dec

        def rowsum(v):
            return np.bincount(rows, weights=v, minlength=n)

        pb, pa = np.exp(rho * log_rb), np.exp(rho * log_ra)  # phi at both ends of the bin (0 where eta = 0)
        w = np.exp(-delta * log_s)
        Dw = (pb - pa) * w
        logu = np.log1p(C * X / beta)
        ub = np.exp(-beta * logu)  # (1 + C x / beta)^-beta
        G = 1.0 - ub
        DwG = Dw * G
        F[:, 2] = -rowsum(DwG)
        if not jac:
            return F
        u = 1.0 + C * X / beta
        dF[:, 2, 1] = -rowsum(Dw * ub / u * X)
        dF[:, 2, 2] = -rowsum(Dw * ub * (logu - (u - 1.0) / u))
        dphi = pb * np.where(pb > 0, log_rb, 0.0) - pa * np.where(pa > 0, log_ra, 0.0)  # d phi / d rho
        dF[:, 2, 3] = -rowsum(dphi * w * G)
        dF[:, 2, 4] = rowsum(log_s * DwG)
        return F, dF

    def _nl_box(self, curves: Sequence[Curve]):
        peak = max(c.peak_lr for c in curves)
        longest = max(int(c.steps[-1]) for c in curves)
        # C: relaxation over between 10 steps at peak LR and the whole run
        return (np.array([0.05, 1.0 / (peak * longest), 0.3, 0.2, 0.01]),
                np.array([1.5, 1.0 / (peak * 10), 20.0, 1.5, 0.4]))

    def _nl_bounds(self, curves: Sequence[Curve]):
        return (np.array([1e-3, 1e-12, 0.05, 0.02, 1e-4]), np.array([3.0, np.inf, 1e4, 3.0, 0.5]))

    def torch_loss(self, lrs, steps, decay_start: int):
        """Differentiable form of the law at ``steps`` for a per-step LR tensor, summed exactly over
        every step (O(len(steps) x len(lrs))); used to optimise schedules."""
        import torch

        p = self.params_
        eta_ref, s_ref = self._refs()
        S1 = torch.cumsum(lrs, 0)
        k = torch.arange(decay_start + 1, len(lrs))
        floor = 1e-12 * eta_ref  # keeps d(eta^rho)/d eta finite at eta = 0
        phi = (lrs.clamp_min(floor) / eta_ref) ** p["rho"]
        d = phi[k - 1] - phi[k]
        w = (S1[k - 1].clamp_min(1e-300) / s_ref) ** -p["delta"]
        X = (S1[steps][:, None] - S1[k - 1][None, :]).clamp_min(0.0)
        G = 1 - (1 + p["C"] * X / p["beta"]) ** -p["beta"]
        mask = (k[None, :] <= steps[:, None]).to(lrs.dtype)
        return p["L0"] + p["A"] * S1[steps] ** -p["alpha"] - p["B"] * (mask * d * w * G).sum(1)
