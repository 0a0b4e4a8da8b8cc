"""Closed forms and ODEs of deep linear networks (DLN) with whitened inputs.

Notation (Saxe, McClelland, Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in
deep linear neural networks", ICLR): teacher input-output correlation ``Sigma_yx = U S V^T``; a mode
of strength ``s`` is learned along a trajectory ``u(t)``; ``tau = 1 / learning rate`` so ``t`` counts
optimizer steps times the learning rate. ``D`` is the number of weight matrices; Saxe's number of
layers of units is ``N_l = D + 1``.
"""
from __future__ import annotations

import numpy as np
from scipy import integrate

__all__ = [
    "depth_rhs",
    "depth_time",
    "depth_trajectory",
    "derive_two_layer_solution",
    "infinite_depth_time",
    "lazy_limit_change",
    "linear_sequential_exact",
    "rich_limit_change",
    "two_layer_time",
    "two_layer_trajectory",
]


def two_layer_trajectory(t, s, u0, tau: float = 1.0):
    """Balanced 2-layer (D = 2) mode strength u(t) (Saxe et al. 2014, exact sigmoidal solution of
    tau du/dt = 2u(s - u)).

    u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0); written with e^{-2st/tau} so large t does not
    overflow. Also valid for u0 > s (unlearning toward a smaller target, used for task switches).
    Broadcasts over ``t``, ``s`` and ``u0``."""
    t, s, u0 = np.asarray(t, float), np.asarray(s, float), np.asarray(u0, float)
    decay = np.exp(-2.0 * s * t / tau)
    return s / (1.0 - decay * (1.0 - s / u0))


def two_layer_time(u0, uf, s, tau: float = 1.0):
    """Time for a balanced 2-layer mode to go from u0 to uf (Saxe et al. 2014, learning-time formula):
    t = (tau / 2s) ln[uf (s - u0) / (u0 (s - uf))]."""
    u0, uf, s = np.asarray(u0, float), np.asarray(uf, float), np.asarray(s, float)
    return tau / (2.0 * s) * np.log(uf * (s - u0) / (u0 * (s - uf)))


def depth_rhs(u, s, depth: int, tau: float = 1.0):
    """du/dt of one mode of a balanced depth-D network (Saxe et al. 2014, deep-network mode equation, N_l = D + 1):
    tau du/dt = D u^{2 - 2/D} (s - u)."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    u = np.asarray(u, float)
    return depth * np.abs(u) ** (2.0 - 2.0 / depth) * (s - u) / tau


def depth_time(u0: float, uf: float, s: float, depth: int, tau: float = 1.0) -> float:
    """Learning time from u0 to uf of the depth-D mode ODE (Saxe et al. 2014, deep-network mode equation), by quadrature
    of t = int du / (du/dt).

    The integrand is written in x = ln u: the plateau near small u0 spans decades, which a uniform
    grid in u resolves badly. For D = 2 this equals :func:`two_layer_time`."""
    if not (0 < u0 < s and 0 < uf < s) and not (u0 > s and uf > s):
        raise ValueError("u0 and uf must lie on the same side of s and be positive")

    def integrand(x):
        u = np.exp(x)
        return u / depth_rhs(u, s, depth, tau)

    val, _ = integrate.quad(integrand, np.log(u0), np.log(uf), limit=200, epsabs=1e-12, epsrel=1e-11)
    return float(val)


def depth_trajectory(t, s, u0, depth: int, tau: float = 1.0):
    """u(t) of each mode by integrating the depth-D ODE (Saxe et al. 2014, deep-network mode equation) with DOP853.

    ``s`` and ``u0`` are arrays of modes integrated as one system; returns shape (len(t), n_modes).
    For D = 1 the ODE is linear and for D = 2 it matches :func:`two_layer_trajectory`."""
    t = np.asarray(t, float)
    s, u0 = np.broadcast_arrays(np.atleast_1d(np.asarray(s, float)), np.atleast_1d(np.asarray(u0, float)))
    sol = integrate.solve_ivp(lambda _t, u: depth_rhs(u, s, depth, tau), (0.0, float(t.max())), u0,
                              method="DOP853", t_eval=t, rtol=1e-11, atol=1e-14)
    if not sol.success:  # pragma: no cover - DOP853 on this smooth ODE does not fail in practice
        raise RuntimeError(sol.message)
    return sol.y.T


def infinite_depth_time(u0, uf, s, depth: int, tau: float = 1.0):
    """Large-depth limit of the depth-D learning time (Saxe et al. 2014, infinite-depth analysis):
    for D -> inf, u^{2-2/D} -> u^2 and tau du/dt = D u^2 (s - u) integrates to
    t = tau/D [1/(s u0) - 1/(s uf) + ln(uf (s - u0) / (u0 (s - uf))) / s^2].

    With the learning rate scaled as 1/D (tau proportional to D) this time is depth-independent when
    u0 stays O(1), which is what orthogonal (norm-preserving) initialisation gives."""
    u0, uf, s = np.asarray(u0, float), np.asarray(uf, float), np.asarray(s, float)
    return tau / depth * (1 / (s * u0) - 1 / (s * uf) + np.log(uf * (s - u0) / (u0 * (s - uf))) / s**2)


def derive_two_layer_solution() -> dict:
    """Symbolic check of Saxe et al. 2014, Eqs. 5-7 with sympy: the sigmoid u(t) solves
    tau du/dt = 2u(s - u) with u(0) = u0, and the learning time is its inverse.

    Returns the sympy expressions and the two residuals (both simplify to 0)."""
    import sympy as sp

    t, s, u0, uf, tau = sp.symbols("t s u0 uf tau", positive=True)
    e = sp.exp(2 * s * t / tau)
    u = s * e / (e - 1 + s / u0)
    ode_residual = sp.simplify(tau * sp.diff(u, t) - 2 * u * (s - u))
    t_f = tau / (2 * s) * sp.log(uf * (s - u0) / (u0 * (s - uf)))
    inverse_residual = sp.simplify(u.subs(t, t_f) - uf)
    return {"u": u, "time": t_f, "ode_residual": ode_residual, "inverse_residual": inverse_residual,
            "initial_residual": sp.simplify(u.subs(t, 0) - u0)}


def lazy_limit_change(w1: np.ndarray, w2: np.ndarray, target: np.ndarray):
    """Weight change of a 2-layer linear network trained to convergence in the lazy (linearised,
    neural-tangent) limit, whitened inputs (Jacot et al. 2018; Chizat et al. 2019, "lazy training").

    The linearised model f = W2 W1 + dW2 W1 + W2 dW1 trained by gradient flow from dW = 0 reaches
    the minimum-norm fit dW = J^T Z with J J^T Z = Z W1^T W1 + W2 W2^T Z = R, R = target - W2 W1
    (a Sylvester equation, solved in the eigenbases of the two Gram matrices; a pseudo-inverse covers
    rank-deficient inits). Accepts stacked (..., n, m) arrays. Returns (|dW1|_F, |dW2|_F)."""
    w1, w2, target = (np.asarray(a, float) for a in (w1, w2, target))
    a, pa = np.linalg.eigh(w2 @ np.swapaxes(w2, -1, -2))
    b, pb = np.linalg.eigh(np.swapaxes(w1, -1, -2) @ w1)
    r = target - w2 @ w1
    rt = np.swapaxes(pa, -1, -2) @ r @ pb
    denom = a[..., :, None] + b[..., None, :]
    tol = 1e-10 * np.max(denom, axis=(-1, -2), keepdims=True)
    zt = np.where(denom > tol, rt / np.where(denom > tol, denom, 1.0), 0.0)
    z = pa @ zt @ np.swapaxes(pb, -1, -2)
    d1 = np.swapaxes(w2, -1, -2) @ z
    d2 = z @ np.swapaxes(w1, -1, -2)
    return np.linalg.norm(d1, axis=(-1, -2)), np.linalg.norm(d2, axis=(-1, -2))


def rich_limit_change(singular_values, depth: int = 2) -> float:
    """Total weight norm sqrt(sum_i |W_i|_F^2) reached from a vanishing balanced init (the rich
    limit; Saxe et al. 2014, balanced solution W_i with singular values s^{1/D}): each of the D
    layers carries sum_a s_a^{2/D}, so the change is sqrt(D sum_a s_a^{2/D})."""
    s = np.asarray(singular_values, float)
    return float(np.sqrt(depth * np.sum(s ** (2.0 / depth))))


def linear_sequential_exact(w0: np.ndarray, teachers, bases, steps: list[int], lr: float,
                            eval_teachers, eval_bases, record: np.ndarray) -> np.ndarray:
    """Exact GD trajectory of a one-layer linear model (D = 1) trained on tasks in sequence.

    Task k has inputs whitened inside the span of ``bases[k]`` (orthonormal columns, projector P),
    so its loss is 1/2 |(W - T_k) P|^2 and GD with step lr gives
    W(t) = W_start - (1 - (1 - lr)^t) (W_start - T_k) P: each phase converges to the projection of
    the previous solution onto the task's solution set (the alternating projections of Evron et al.
    2022, "How catastrophic can catastrophic forgetting be in linear regression?", the projection map of one
    task, and the
    teacher-student setting of Lee et al. 2021). ``record`` holds global step indices; returns the
    losses 1/2 |(W - T_j) P_j|^2 of every eval task, shape (len(eval_teachers), len(record))."""
    w = np.asarray(w0, float)
    record = np.asarray(record, int)
    bounds = np.concatenate([[0], np.cumsum(steps)])
    out = np.zeros((len(eval_teachers), len(record)))
    projs = [b @ b.T for b in bases]
    eprojs = [b @ b.T for b in eval_bases]
    for k, (t_k, p_k) in enumerate(zip(teachers, projs)):
        sel = (record >= bounds[k]) & ((record < bounds[k + 1]) | ((k == len(steps) - 1) & (record == bounds[k + 1])))
        frac = 1.0 - (1.0 - lr) ** (record[sel] - bounds[k])  # fraction of the phase's gap closed
        delta = (w - t_k) @ p_k
        ws = w[None] - frac[:, None, None] * delta[None]
        for j, (t_j, p_j) in enumerate(zip(eval_teachers, eprojs)):
            out[j, sel] = 0.5 * np.sum(((ws - t_j) @ p_j) ** 2, axis=(1, 2))
        w = w - (1.0 - (1.0 - lr) ** steps[k]) * delta
    return out

