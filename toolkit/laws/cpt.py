"""A continual-pre-training (CPT) loss law, after Wang et al. (2025, ICML), "Learning Dynamics in
Continual Pre-Training for Large Language Models", Eq. (3)-(5): the loss on a domain during CPT is
the pre-training law's curve continued over the whole LR history plus a distribution-shift term
that saturates as a power of the CPT forward area:

    L(t) = L0 + A * S1(t)^(-alpha) - C1 * S2_pt(t) - C2 * S2_cpt(t)
           + sign * B * (1 - replay)^rho * (1 - (1 + E * S_cpt(t))^(-beta))

- S1 is the forward area of every step (pre-training and CPT);
- S2_pt and S2_cpt are the momentum-law annealing areas (Tissue et al. 2024, Eq. 1) of the LR
  changes made before and after the switch, so re-warming (an LR *increase*) raises the loss;
- S_cpt(t) = S1(t) - S1(t_switch) is the CPT forward area; replay (the share of each CPT batch drawn
  from the old domain) scales the shift by (1 - replay)^rho, rho fitted: on our proxies 20% replay
  removes most of the forgetting, more than the (1 - replay) share of new-domain updates alone
  explains (the replay extension of Wang et al., Sec. 5, in a form we chose and measured);
- sign = +1 for the old (pre-training) domain, whose loss rises (forgetting), and -1 for the new
  domain, whose loss falls beyond the general power law.

Each curve must carry ``meta["cpt_start"]`` (the first CPT step) and may carry ``meta["replay"]``
(fraction of the CPT batch drawn from the old domain, default 0). A pre-training run's own log is a
curve whose ``cpt_start`` is one past its last step (``len(curve.lrs)``): no continual step yet, so
only the pre-training terms act, and it pins L0, A, alpha and C1 for every continual run fitted with
it (``cltk fit-cpt``). Fit one law per evaluated domain.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

from cltk.curves import Curve, warmup_end
from cltk.laws.base import LawError, LossLaw


class CPTLaw(LossLaw):
    """CPT law (Wang et al. 2025). Parameters: L0, A, C1, C2, B (linear), alpha, lam, E, beta, rho."""

    name = "cpt"
    lin_names = ("L0", "A", "C1", "C2", "B")
    nl_names = ("alpha", "lam", "E", "beta", "rho")
    nl_transforms = ("log", "log1m", "log", "log", "log")

    def __init__(self, domain: str = "old", **kw):
        if domain not in ("old", "new"):
            raise LawError(f"cpt: domain must be 'old' or 'new', got '{domain}'")
        super().__init__(**kw)
        self.domain = domain

    def _config(self) -> dict:
        return {**super()._config(), "domain": self.domain}

    def _prepare(self, curve: Curve, steps: np.ndarray):
        if "cpt_start" not in curve.meta:
            raise LawError(f"cpt: curve '{curve.name}' lacks meta['cpt_start'] (the first continual step)")
        t0 = int(curve.meta["cpt_start"])
        r = float(curve.meta.get("replay", 0.0))
        if not 0 <= r <= 1 or not 0 < t0 <= len(curve.lrs):
            raise LawError(f"cpt: curve '{curve.name}' has replay {r} or cpt_start {t0} out of range")
        eta = curve.lrs
        S1 = np.cumsum(eta)
        d = np.zeros_like(eta)
        w = warmup_end(eta[:t0])
        d[w + 1:] = eta[w:-1] - eta[w + 1:]
        d_pt, d_cpt = d.copy(), d.copy()
        d_pt[t0:], d_cpt[:t0] = 0.0, 0.0
        steps = np.asarray(steps)
        shift = np.maximum(S1[steps] - S1[t0 - 1], 0.0)
        return S1[steps], d_pt, d_cpt, steps, shift, np.log1p(-min(r, 1 - 1e-12))

    def _features(self, nl, prep, jac):
        alpha, lam, E, beta, rho = nl
        Z, d_pt, d_cpt, steps, shift, log_keep = prep
        sign = 1.0 if self.domain == "old" else -1.0
        n = len(Z)
        m_pt, m_cpt = lfilter([1.0], [1.0, -lam], d_pt), lfilter([1.0], [1.0, -lam], d_cpt)
        Zp = Z ** -alpha
        logu = np.log1p(E * shift)
        ub = np.exp(-beta * logu)
        amp = sign * np.exp(rho * log_keep)  # sign * (1 - replay)^rho
        F = np.stack([np.ones(n), Zp, -np.cumsum(m_pt)[steps], -np.cumsum(m_cpt)[steps], amp * (1 - ub)], axis=1)
        if not jac:
            return F
        dF = np.zeros((n, 5, 5))
        dF[:, 1, 0] = -Zp * np.log(Z)
        for col, m in ((2, m_pt), (3, m_cpt)):  # dm/dlam follows the same filter driven by m_{i-1}
            dm = lfilter([1.0], [1.0, -lam], np.concatenate([[0.0], m[:-1]]))
            dF[:, col, 1] = -np.cumsum(dm)[steps]
        dF[:, 4, 2] = amp * beta * ub / (1 + E * shift) * shift
        dF[:, 4, 3] = amp * ub * logu
        dF[:, 4, 4] = amp * log_keep * (1 - ub)
        return F, dF

    def _nl_box(self, curves: Sequence[Curve]):
        # E spans shift scales from 1% to 100x the largest CPT area seen
        area = max(float(np.sum(c.lrs[int(c.meta["cpt_start"]):])) for c in curves) or 1.0
        return (np.array([0.05, 1 - 0.1, 1e-2 / area, 0.1, 0.1]),
                np.array([1.5, 1 - 1e-4, 1e2 / area, 3.0, 20.0]))
