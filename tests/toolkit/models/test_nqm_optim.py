"""NQM with batch size, momentum, preconditioning and EMA (Zhang et al. 2019, Sec. 3): the moment
recursion against an independent covariance propagation, the stationary closed forms, Monte Carlo
within 3 standard errors, and the batch-size study against the closed-form SGD solution."""
import numpy as np
import pytest

from cltk.models import nqm
from cltk.schedules import parse


def _cov_propagation(h, c, lrs, B, beta, gamma, p, x0=1.0):
    """Independent exact reference: the 3x3 second-moment matrix of (x_t, x_(t-1), x~_t) per coordinate,
    S <- M S M^T + s2 b b^T with the update written as one linear map (no shortcut of the recursion)."""
    out = []
    for hi, ci in zip(h, c):
        ht, ct = hi ** (1 - p), ci * hi ** (-2 * p) / B
        S = np.full((3, 3), x0 ** 2)
        traj = [0.5 * hi * S[2, 2]]
        for a in lrs:
            A = 1 + beta - a * ht
            row_x = np.array([A, -beta, 0.0])
            M = np.array([row_x, [1.0, 0.0, 0.0], gamma * np.eye(3)[2] + (1 - gamma) * row_x])
            b = np.array([-a, 0.0, -(1 - gamma) * a])
            S = M @ S @ M.T + ct * np.outer(b, b)
            traj.append(0.5 * hi * S[2, 2])
        out.append(traj)
    return np.sum(out, axis=0)


CASES = [  # (batch, momentum, ema, power, lr scale)
    (1.0, 0.0, 0.0, 0.0, 1.0), (4.0, 0.9, 0.0, 0.0, 0.1), (2.0, 0.0, 0.9, 0.0, 1.0),
    (1.0, 0.0, 0.0, 0.5, 0.5), (8.0, 0.7, 0.8, 0.3, 0.2)]


def test_recursion_equals_covariance_propagation():
    h, c = nqm.spectrum(5)
    base = parse("cosine:peak=0.8,steps=80").render(80)
    lrs = np.stack([base * k[-1] for k in CASES])
    cfg = nqm.Configs(len(CASES), *zip(*[k[:4] for k in CASES]))
    _, L = nqm.expected(h, c, lrs, cfg)
    for i, (B, beta, gamma, p, _) in enumerate(CASES):
        np.testing.assert_allclose(L[i], _cov_propagation(h, c, lrs[i], B, beta, gamma, p), rtol=1e-10)


def test_plain_sgd_equals_core_recursion_with_c_over_b():
    h, c = nqm.spectrum(16)
    lrs = parse("wsd:peak=0.9,steps=100,decay=0.3").render(100)
    _, L = nqm.expected(h, c, lrs, nqm.Configs(1, batch=8.0))
    _, ref = nqm.expected_loss(h, c / 8.0, lrs)
    np.testing.assert_allclose(L, ref, rtol=1e-12)


def test_stationary_closed_forms_match_long_recursion():
    h, c = nqm.spectrum(6)
    cases = CASES[:4]
    cfg = nqm.Configs(len(cases), *zip(*[k[:4] for k in cases]))
    lr = np.array([0.5, 0.05, 0.5, 0.4])
    _, L = nqm.expected(h, c, np.repeat(lr[:, None], 6000, 1), cfg, every=6000)
    np.testing.assert_allclose(L[:, -1], nqm.stationary(h, c, lr, cfg), rtol=1e-9)
    # the NQM reference: h = 1, c = 0.1, lr = 0.5 -> 0.1 * 0.5 / (2 * 1.5) = 1/60
    assert nqm.stationary([1.0], [0.1], 0.5, nqm.Configs(1))[0] == pytest.approx(1 / 60, rel=1e-12)
    # heavy ball at small lr h: SGD's floor at the effective LR lr / (1 - beta) (Zhang et al. 2019, Sec. 3.4)
    lo = nqm.stationary([1.0], [0.1], 1e-4, nqm.Configs(2, momentum=[0.0, 0.9]))
    assert lo[1] / lo[0] == pytest.approx(10.0, rel=1e-3)
    assert np.isinf(nqm.stationary([1.0], [0.1], 2.5, nqm.Configs(1)))[0]


def test_monte_carlo_within_three_standard_errors_every_point():
    h, c = nqm.spectrum(4)
    base = parse("cosine:peak=1.0,steps=60").render(60)
    lrs = np.stack([base * k[-1] for k in CASES])
    cfg = nqm.Configs(len(CASES), *zip(*[k[:4] for k in CASES]))
    _, L = nqm.expected(h, c, lrs, cfg, every=6)
    _, M, se = nqm.monte_carlo(h, c, lrs, cfg, seeds=20000, every=6, seed=0)
    z = (M - L)[:, 1:] / se[:, 1:]
    assert z.size == 50 and np.abs(z).max() < 3.0, np.abs(z).max()


def _sgd_steps_closed_form(h, c, lr, B, target, p=0.0):
    """Steps to target of (preconditioned) SGD from E x_t^2 = V + r^(2t) (1 - V) (Zhang et al. 2019,
    Thm. 1), by bisection on t."""
    ht, ct = h ** (1 - p), c * h ** (-2 * p) / B
    V = lr * ct / (ht * (2 - lr * ht))
    r2 = (1 - lr * ht) ** 2

    def loss(t):
        return 0.5 * np.sum(h * (V + r2 ** t * (1 - V)))

    if 0.5 * np.sum(h * V) >= target:
        return np.inf
    hi = 1
    while loss(hi) > target:
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if loss(mid) > target else (lo, mid)
    return float(hi)


def test_batch_study_matches_closed_form_and_the_papers_qualitative_results():
    h, c = nqm.spectrum(32)
    target = 0.01 * 0.5 * h.sum()
    batches = 2.0 ** np.arange(0, 13)
    st = nqm.study_batch_sizes(h, c, batches, target, optimizers=("sgd", "momentum", "precond"),
                               momenta=(0.5, 0.9, 0.99))
    g = st.grid
    for opt, p in (("sgd", 0.0), ("precond", 0.5)):
        rows = np.flatnonzero((g["optimizer"] == opt) & ~g["censored"])
        for i in rows[::7]:
            assert g["steps"][i] == _sgd_steps_closed_form(h, c, g["lr"][i], g["batch"][i], target, p)
    best = st.best
    sgd = best["steps"][best["optimizer"] == "sgd"]
    # perfect scaling at small batch: 1 -> 4 divides the steps by nearly 4; none gained at the top
    assert sgd[0] / sgd[2] > 3.4 and sgd[-2] / sgd[-1] < 1.05
    assert 8 < st.critical["sgd"] < 64
    assert st.critical["momentum"] > 2 * st.critical["sgd"]
    assert st.critical["precond"] > 2 * st.critical["sgd"]
    assert not best["at_edge"].any()


def test_critical_batch_size_of_mccandlish_model():
    b = 2.0 ** np.arange(0, 16, 0.25)
    s = 50.0 * (1 + 300.0 / b)
    # E = B S = 50 (B + 300): twice E(1) at B = 2 * 301 - 300 = 302
    assert nqm.critical_batch_size(b, s) == pytest.approx(302, rel=0.01)
    assert np.isnan(nqm.critical_batch_size(b[:8], 1.0 / b[:8]))  # perfect scaling throughout


def test_steps_to_target_groups_and_unreachable():
    h, c = nqm.spectrum(8)
    target = 0.05 * 0.5 * h.sum()
    lr = np.array([0.2, 0.8, 1.5, 2.5, 1.0])
    cfg = nqm.Configs(5, batch=[1e4, 1e4, 1e4, 1e4, 1e-3])
    steps, cens = nqm.steps_to_target(h, c, lr, cfg, target, 10_000, group=[0, 0, 0, 0, 1])
    assert np.isfinite(steps[2]) and steps[2] < steps[1]  # 1.5 first; 0.8 kept running, it is slower
    assert cens[0] and np.isinf(steps[0])                   # 0.2 stopped once 1.5 got there
    assert np.isinf(steps[3]) and not cens[3]              # unstable: lr h_max > 2
    assert np.isinf(steps[4]) and not cens[4]              # stationary loss above the target


def test_configs_reject_bad_values():
    with pytest.raises(ValueError, match="momentum"):
        nqm.Configs(2, momentum=[0.5, 1.0])
    with pytest.raises(ValueError, match="batch"):
        nqm.Configs(1, batch=0)
    with pytest.raises(ValueError, match="optimizer"):
        nqm.optimizer_configs("adamw")
