"""The fitting procedure published with the multi-power law (Luo et al. 2025, "A Multi-Power Law for
Loss Curve Prediction Across Learning Rate Schedules", Sec. 4.1 and App. of the fitting details),
for reproducing the paper's reported figures.

1. *Initialisation*: ``log(L - min L + 0.01)`` regressed on ``log S1`` gives a power-law slope and
   intercept; a 5 x 3 x 3 x 3 grid around them (L0 = min L +- 0.2, A = e^intercept +- 0.1,
   alpha = -slope +- 0.1, B in 100..1000) seeds L-BFGS-B fits of the simplified law
   ``L0 + A * S1^-alpha - B * (eta_max - eta_t)`` (Huber on log residuals, parameters >= 0);
   the best seeds the full law with C = 1, beta = gamma = 0.5. (The released code starts L-BFGS-B
   from all 135 grid points; on the 25M curves the best of those runs is the optimum of the
   simplified problem, so here the grid is scored, its ``n_starts`` best points are descended with
   trust-region least squares, which converges where L-BFGS-B stalls on the badly scaled B.)
2. *AdamW* on the Huber loss of the full law (lr 5e-2 for L0, A, B, C and 5e-3 for alpha, beta,
   gamma; torch defaults otherwise, so weight decay 0.01), for at most 200 steps, stopped after 20
   steps without a lower loss or when the gradient norm falls below 1e-5; the parameters kept are
   those just after the update taken from the lowest-loss iterate. The AdamW update (Loshchilov &
   Hutter 2019, Alg. 2, with torch's defaults betas (0.9, 0.999), eps 1e-8) is written out for the
   seven scalars: creating a torch.optim optimizer costs seconds of one-time imports here, more
   than the whole fit, and ``tests/test_paper_fit.py`` checks the update against torch.optim.AdamW.

This stops well before the Huber optimum (on the 25M curves at about 2x the optimal cost); the
paper's reported prediction errors are those of this early-stopped fit, so the procedure is kept
separate from the converged default fit of :mod:`cltk.laws.base`. Gradients are analytic
(the law's own feature Jacobian), so one AdamW step costs one O(points x log steps) evaluation.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import linregress

from cltk.curves import Curve
from cltk.laws.base import huber

#: AdamW settings of the released fitting code (lr of the fast and slow parameter groups, steps)
LR_FAST, LR_SLOW, MAX_STEPS, PATIENCE, GRAD_TOL = 5e-2, 5e-3, 200, 20, 1e-5
#: torch.optim.AdamW defaults, which the released code keeps
BETAS, EPS, WEIGHT_DECAY = (0.9, 0.999), 1e-8, 1e-2


def initial_guess(curves: Sequence[Curve], w: np.ndarray, delta: float, n_starts: int = 4) -> np.ndarray:
    """Step 1 of the procedure: (L0, A, alpha, B) from the grid-seeded fits of the simplified law."""
    y = np.concatenate([c.loss for c in curves])
    Z = np.concatenate([np.cumsum(c.lrs)[c.steps] for c in curves])
    peak = max(c.peak_lr for c in curves)
    drop = np.concatenate([peak - c.lrs[c.steps] for c in curves])
    logy, logZ = np.log(y), np.log(Z)
    fit = linregress(logZ, np.log(y - y.min() + 0.01))

    def simplified(q):  # the simplified law's prediction for parameters q (..., 4)
        q = np.asarray(q)[..., None]
        return q[..., 0, :] + q[..., 1, :] * np.exp(-q[..., 2, :] * logZ) - q[..., 3, :] * drop

    def residuals(q):
        return sw * (logy - np.log(np.maximum(simplified(q), 1e-12)))

    def jac(q):
        L0, A, alpha, B = q
        Za = np.exp(-alpha * logZ)
        pred = np.maximum(L0 + A * Za - B * drop, 1e-12)
        return -(sw / pred)[:, None] * np.stack([np.ones_like(Za), Za, -A * Za * logZ, -drop], axis=1)

    sw = np.sqrt(w)
    grid = np.array(list(itertools.product(
        np.linspace(y.min() - 0.2, y.min() + 0.2, 5),
        np.linspace(np.exp(fit.intercept) - 0.1, np.exp(fit.intercept) + 0.1, 3),
        np.linspace(-fit.slope - 0.1, -fit.slope + 0.1, 3), np.linspace(100, 1000, 3))))
    grid = np.maximum(grid, 0.0)
    with np.errstate(all="ignore"):
        pred = simplified(grid)
        r = np.where(pred > 0, logy - np.log(np.where(pred > 0, pred, 1.0)), np.inf)
    seed_cost = huber(sw * r, delta)[0].sum(axis=1)
    best = None
    for i in np.argsort(seed_cost)[:n_starts]:
        if not np.isfinite(seed_cost[i]):
            break  # a seed with a non-positive prediction has no Huber loss to descend
        res = least_squares(residuals, grid[i], jac=jac, bounds=(0, np.inf), loss="huber", f_scale=delta,
                            x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12)
        if best is None or res.cost < best.cost:
            best = res
    if best is None:
        raise ValueError("no grid seed of the simplified law gives a positive predicted loss")
    return best.x


def adamw_step(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: np.ndarray) -> None:
    """One AdamW update in place (step count ``t`` from 1; ``lr`` per parameter)."""
    b1, b2 = BETAS
    p *= 1 - lr * WEIGHT_DECAY
    m += (1 - b1) * (g - m)
    v += (1 - b2) * (g * g - v)
    p -= lr / (1 - b1 ** t) * m / (np.sqrt(v / (1 - b2 ** t)) + EPS)


def adamw_fit(value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], p0: np.ndarray,
              fast: Sequence[int], slow: Sequence[int]) -> tuple[np.ndarray, float, int]:
    """Step 2: early-stopped AdamW from ``p0``; ``value_and_grad`` returns the loss and gradient.
    Returns the kept parameters, their iterate's loss and the number of steps taken."""
    p = np.array(p0, dtype=float)
    lr = np.empty_like(p)
    lr[list(fast)], lr[list(slow)] = LR_FAST, LR_SLOW
    m, v = np.zeros_like(p), np.zeros_like(p)
    best_p, best_f, min_f, stale = p.copy(), np.inf, np.inf, 0
    for step in range(MAX_STEPS):
        f, g = value_and_grad(p)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):
            break  # left the law's domain (a non-positive prediction): keep the best so far
        adamw_step(p, g, m, v, step + 1, lr)
        if f < min_f:
            min_f, stale = f, 0
        else:
            stale += 1
        if step > PATIENCE and stale >= PATIENCE:
            break
        if np.linalg.norm(g) < GRAD_TOL:
            break
        if f < best_f:
            best_f, best_p = f, p.copy()
    return best_p, best_f, step + 1
