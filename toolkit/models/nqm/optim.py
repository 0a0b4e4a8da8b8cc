"""Batch size, heavy-ball momentum, preconditioning and iterate averaging on the NQM of Zhang et al.
(2019), Sec. 3.2-3.4, with the exact expected loss of each and a Monte Carlo check.

Per coordinate (curvature ``h``, per-example noise ``c``) the optimizer of Zhang et al. is

    g = h x + eps,  Var eps = c / B                                  (Eq. 2: batch size B)
    x' = x - alpha h^-p g + beta (x - x_prev)                       (Sec. 3.3-3.4: P = H^-p, heavy ball)
    x~' = gamma x~ + (1 - gamma) x'                                  (Sec. 3.5: EMA of the iterates)

so in the preconditioned coordinates the curvature is ``h~ = h^(1-p)`` and the noise ``c~ = c h^-2p``,
while the loss stays ``1/2 sum h x^2`` (``x~`` when averaging). The recursion is linear with additive
zero-mean noise, so the raw second moments (mean^2 + variance: the first moments need no separate
state) follow exactly, with ``A = 1 + beta - alpha h~`` and ``s2 = alpha^2 c~ / B``:

    P' = A^2 P - 2 A beta R + beta^2 Q + s2     P = E x_t^2
    R' = A P - beta R                            R = E x_t x_(t-1)      (momentum: the 2x2 moments)
    Q' = P                                       Q = E x_(t-1)^2
    E  = A W - beta Y                            E[x~_t x_(t+1)]
    W' = gamma E + (1 - gamma) P'                W = E x~_t x_t          (EMA: the cross moments)
    Y' = gamma W + (1 - gamma) R'                Y = E x~_t x_(t-1)
    U' = gamma^2 U + 2 gamma (1 - gamma) E + (1 - gamma)^2 P'           U = E x~_t^2

Every function is vectorised over configurations (rows: LR schedule, batch size, momentum, EMA and
preconditioning power each per row) and coordinates (columns), in torch on any device.
"""
from __future__ import annotations

import numpy as np
import torch

from cltk.models.nqm.core import _log_steps, as_lr_matrix
from cltk.runtime import torch_threads

__all__ = ["Configs", "expected", "monte_carlo", "stable_lr", "stationary"]


class Configs:
    """Per-row optimizer settings broadcast to ``n`` rows: batch ``B`` (> 0), momentum ``beta`` in
    [0, 1), EMA ``gamma`` in [0, 1) and preconditioning power ``p`` (Zhang et al. 2019, Sec. 3)."""

    def __init__(self, n: int, batch=1.0, momentum=0.0, ema=0.0, power=0.0):
        def col(v, name, lo, hi, lo_open=False):
            a = np.array(np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)))
            bad = ~np.isfinite(a) | (a <= lo if lo_open else a < lo) | (a >= hi)
            if bad.any():
                raise ValueError(f"{name} must be in {'(' if lo_open else '['}{lo}, {hi}), got {a[bad][0]}")
            return a
        self.n = int(n)
        self.batch = col(batch, "batch", 0.0, np.inf, lo_open=True)
        self.momentum = col(momentum, "momentum", 0.0, 1.0)
        self.ema = col(ema, "ema", 0.0, 1.0)
        self.power = col(power, "power", -np.inf, np.inf)

    def take(self, idx) -> Configs:
        out = Configs.__new__(Configs)
        out.n = len(np.arange(self.n)[idx])
        for k in ("batch", "momentum", "ema", "power"):
            setattr(out, k, getattr(self, k)[idx])
        return out

    def transformed(self, h, c):
        """(h~, c~): the curvature and per-batch noise each row's dynamics see, (n, dim) arrays."""
        p = self.power[:, None]
        return h[None] ** (1.0 - p), c[None] * h[None] ** (-2.0 * p) / self.batch[:, None]


def _as_hc(h, c):
    h = np.asarray(h, dtype=np.float64).ravel()
    c = np.array(np.broadcast_to(np.asarray(c, dtype=np.float64), h.shape))
    if np.any(h <= 0) or np.any(c < 0):
        raise ValueError("h must be > 0 and c >= 0 (the preconditioner H^-p needs h > 0)")
    return h, c


def stable_lr(h, cfg: Configs) -> np.ndarray:
    """Largest stable LR per row: heavy ball is stable iff ``0 < alpha h~ < 2 (1 + beta)`` for every
    coordinate (Zhang et al. 2019, Sec. 3.4; beta = 0: the SGD bound 2 / h~)."""
    ht, _ = cfg.transformed(np.asarray(h, float), np.ones(len(np.ravel(h))))
    return 2.0 * (1.0 + cfg.momentum) / ht.max(1)


def stationary(h, c, lr, cfg: Configs) -> np.ndarray:
    """Stationary expected loss per row at a constant LR (Zhang et al. 2019, Thm. 1 and Sec. 3.4-3.5):
    SGD ``V = alpha c~ / (h~ (2 - alpha h~))`` per coordinate; heavy ball multiplies by
    ``(1 + beta) / (1 - beta)`` and replaces 2 by ``2 (1 + beta)``; EMA (without momentum) by
    ``(1 - gamma)(1 + gamma r) / ((1 + gamma)(1 - gamma r))``, ``r = 1 - alpha h~``. Loss
    ``1/2 sum h V``; inf when unstable; nan for momentum with EMA (no closed form here)."""
    h, c = _as_hc(h, c)
    lr = np.array(np.broadcast_to(np.asarray(lr, dtype=np.float64), (cfg.n,)))[:, None]
    ht, ct = cfg.transformed(h, c)
    b, g = cfg.momentum[:, None], cfg.ema[:, None]
    ah = lr * ht
    with np.errstate(divide="ignore", invalid="ignore"):
        v = lr * ct * (1.0 + b) / (ht * (1.0 - b) * (2.0 * (1.0 + b) - ah))
        r = 1.0 - ah
        v = v * np.where(g > 0, (1.0 - g) * (1.0 + g * r) / ((1.0 + g) * (1.0 - g * r)), 1.0)
    out = 0.5 * (v * h).sum(1)
    out[np.any(ah >= 2.0 * (1.0 + b), axis=1) | (lr[:, 0] <= 0)] = np.inf
    out[(cfg.momentum > 0) & (cfg.ema > 0)] = np.nan
    return out


class _Moments:
    """The exact second-moment state of the module docstring, rows x coordinates, in torch."""

    def __init__(self, h, c, cfg: Configs, x0, device, dtype):
        kw = {"device": device, "dtype": dtype}
        ht, ct = cfg.transformed(h, c)
        self.ht, self.ct = torch.as_tensor(ht, **kw), torch.as_tensor(ct, **kw)
        self.half_h = torch.as_tensor(0.5 * h, **kw)
        self.beta = torch.as_tensor(cfg.momentum[:, None], **kw)
        self.gamma = torch.as_tensor(cfg.ema[:, None], **kw)
        self.mom, self.avg = bool(np.any(cfg.momentum > 0)), bool(np.any(cfg.ema > 0))
        x2 = torch.as_tensor(np.broadcast_to(np.asarray(x0, float) ** 2, h.shape).copy(), **kw)
        self.P = x2.expand(cfg.n, -1).clone()  # x_(-1) = x_0 (zero velocity), x~_0 = x_0
        if self.mom:
            self.R, self.Q = self.P.clone(), self.P.clone()
        if self.avg:
            self.U, self.W = self.P.clone(), self.P.clone()
            self.Y = self.P.clone() if self.mom else None

    def take(self, keep):
        for k in ("ht", "ct", "beta", "gamma", "P", "R", "Q", "U", "W", "Y"):
            v = getattr(self, k, None)
            if v is not None:
                setattr(self, k, v[keep])

    def step(self, lr):
        """One update at per-row LRs ``lr`` ((rows, 1) tensor)."""
        a = 1.0 - lr * self.ht
        s2 = lr.square() * self.ct
        P = self.P
        if self.mom:
            b = self.beta
            a = a + b
            P_new = a.square() * P - 2.0 * a * b * self.R + b.square() * self.Q + s2
            R_new = a * P - b * self.R
            self.Q = P
        else:
            P_new = a.square() * P + s2
        if self.avg:
            g = self.gamma
            cross = a * self.W - (self.beta * self.Y if self.mom else 0.0)  # E[x~_t x_(t+1)]
            self.U = g.square() * self.U + 2.0 * g * (1.0 - g) * cross + (1.0 - g).square() * P_new
            W_old = self.W
            self.W = g * cross + (1.0 - g) * P_new
            if self.mom:
                self.Y = g * W_old + (1.0 - g) * R_new
        if self.mom:
            self.R = R_new
        self.P = P_new

    def loss(self):
        return (self.U if self.avg else self.P) @ self.half_h


def expected(h, c, lrs, cfg: Configs | None = None, x0=1.0, every: int = 1, device="cpu",
             dtype=torch.float64, threads: int | None = 1):
    """Exact expected loss of SGD with batch size, heavy-ball momentum, preconditioning ``H^-p`` and
    an EMA of the iterates (Zhang et al. 2019, Sec. 3; recursion in the module docstring).

    ``lrs``: (steps,) or (rows, steps) per-step LRs; ``cfg``: the per-row settings (default plain
    SGD at batch 1, where this equals :func:`cltk.models.nqm.expected_loss` with ``c / B``).
    Returns ``(steps_logged, loss)``, loss (rows, n_logged) at updates ``0, every, ..., steps``.
    """
    A = as_lr_matrix(lrs)
    h, c = _as_hc(h, c)
    cfg = cfg or Configs(A.shape[0])
    if cfg.n != A.shape[0]:
        raise ValueError(f"{cfg.n} configurations for {A.shape[0]} LR schedules")
    S, T = A.shape
    logged = _log_steps(T, every)
    is_log = np.zeros(T + 1, dtype=bool)
    is_log[logged] = True
    with torch.no_grad(), torch_threads(threads):
        st = _Moments(h, c, cfg, x0, device, dtype)
        lr_cols = torch.as_tensor(A.T.copy(), device=device, dtype=dtype).unsqueeze(-1)
        out = torch.empty(S, len(logged), device=device, dtype=dtype)
        out[:, 0] = st.loss()
        j = 1
        for t in range(T):
            st.step(lr_cols[t])
            if is_log[t + 1]:
                out[:, j] = st.loss()
                j += 1
    return logged, out.double().cpu().numpy()


def monte_carlo(h, c, lrs, cfg: Configs | None = None, x0=1.0, seeds: int = 1000, every: int = 1,
                seed: int = 0, device="cpu", dtype=torch.float32, threads: int | None = 1):
    """Monte Carlo of the optimizer of :func:`expected` (Zhang et al. 2019, Eq. 2 with Sec. 3.3-3.5):
    ``seeds`` runs per row, Gaussian gradient noise of variance ``c / B``. Returns
    ``(steps_logged, mean, sem)`` of the loss (of the EMA iterate where ``ema > 0``) over seeds."""
    A = as_lr_matrix(lrs)
    h, c = _as_hc(h, c)
    cfg = cfg or Configs(A.shape[0])
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    S, T = A.shape
    logged = _log_steps(T, every)
    is_log = np.zeros(T + 1, dtype=bool)
    is_log[logged] = True
    kw = {"device": device, "dtype": dtype}
    gen = torch.Generator(device=device).manual_seed(int(seed))
    h_t = torch.as_tensor(h, **kw)
    pre = torch.as_tensor(h[None] ** (-cfg.power[:, None]), **kw).unsqueeze(1)       # (S, 1, d)
    sd = torch.as_tensor(np.sqrt(c[None] / cfg.batch[:, None]), **kw).unsqueeze(1)   # (S, 1, d)
    beta = torch.as_tensor(cfg.momentum, **kw).view(S, 1, 1)
    gam = torch.as_tensor(cfg.ema, **kw).view(S, 1, 1)
    lr = torch.as_tensor(A.T.copy(), **kw)
    s1 = torch.zeros(S, len(logged), dtype=torch.float64, device=device)
    s2 = torch.zeros_like(s1)
    with torch.no_grad(), torch_threads(threads):
        x = torch.as_tensor(np.broadcast_to(x0, h.shape).copy(), **kw).expand(S, seeds, -1).clone()
        prev, avg = x.clone(), x.clone()
        eps = torch.empty_like(x)

        def record(j):
            loss = (avg.square() @ (0.5 * h_t)).double()
            s1[:, j] += loss.sum(1)
            s2[:, j] += loss.square().sum(1)

        record(0)
        j = 1
        for t in range(T):
            eps.normal_(generator=gen)
            g = h_t * x + sd * eps
            new = x - lr[t].view(S, 1, 1) * pre * g + beta * (x - prev)
            prev, x = x, new
            avg = gam * avg + (1.0 - gam) * x
            if is_log[t + 1]:
                record(j)
                j += 1
    mean = s1 / seeds
    var = (s2 / seeds - mean.square()).clamp_min(0.0) * seeds / max(seeds - 1, 1)
    return logged, mean.cpu().numpy(), (var / seeds).sqrt().cpu().numpy()
