"""Deep linear networks: closed forms and ODEs against the reference numbers of the design notes
(Saxe et al. 2014; ../shared/DESIGN.md, section 5)."""
import numpy as np
import pytest

from cltk.models.dln import (
    depth_time,
    depth_trajectory,
    derive_two_layer_solution,
    infinite_depth_time,
    lazy_limit_change,
    linear_sequential_exact,
    pathway_ode,
    rich_limit_change,
    rotated_pair,
    two_layer_time,
    two_layer_trajectory,
)


def test_two_layer_reference_times():
    assert two_layer_time(1e-4, 1 - 1e-4, 1.0) == pytest.approx(9.2102, abs=5e-5)
    assert two_layer_time(1e-4, 0.5, 1.0) == pytest.approx(0.5 * np.log(9999), rel=1e-12)
    assert two_layer_time(1e-4, 0.5, 1.0) == pytest.approx(4.6051, abs=5e-5)


def test_trajectory_inverts_time_and_matches_ode():
    t = two_layer_time(1e-4, 0.5, 1.0)
    assert two_layer_trajectory(t, 1.0, 1e-4) == pytest.approx(0.5, rel=1e-10)
    tt = np.linspace(0, 10, 21)
    s = np.array([1.0, 2.5])
    ode = depth_trajectory(tt, s, [1e-4, 1e-4], 2)
    assert np.allclose(ode, two_layer_trajectory(tt[:, None], s[None], 1e-4), rtol=1e-7, atol=1e-12)
    # unlearning toward a smaller target (task switch) is covered by the same closed form
    assert np.allclose(depth_trajectory(tt, [0.5], [2.0], 2)[:, 0], two_layer_trajectory(tt, 0.5, 2.0), rtol=1e-7)


@pytest.mark.parametrize("depth, expected", [(2, 3.45), (4, 15.5), (9, 30.9)])
def test_depth_reference_times(depth, expected):
    t_q = depth_time(1e-3, 0.5, 1.0, depth)
    assert t_q == pytest.approx(expected, abs=0.06)
    tt = np.linspace(0, 1.1 * t_q, 4001)
    u = depth_trajectory(tt, [1.0], [1e-3], depth)[:, 0]
    assert np.interp(0.5, u, tt) == pytest.approx(t_q, rel=1e-4)
    # the large-depth limit bounds the time from above (u^2 < u^{2-2/D} for u < 1) and D = 2 is exact
    assert infinite_depth_time(1e-3, 0.5, 1.0, depth) >= t_q


def test_sympy_derivation():
    d = derive_two_layer_solution()
    assert d["ode_residual"] == 0 and d["inverse_residual"] == 0 and d["initial_residual"] == 0


def test_pathway_ode_reference_strengths():
    ka, kb = pathway_ode(np.array([1, 2, 3, 4])[:, None], np.array([0, 400, 750])[None], 150)
    assert np.allclose(ka[1:, 0], 9.99, atol=0.005) and np.allclose(kb[1:, 0], 0.01, atol=0.005)
    assert np.allclose(ka[:, 1:], 5.0, atol=0.01) and np.allclose(kb[:, 1:], 5.0, atol=0.01)
    assert ka[0, 0] == pytest.approx(8.87, abs=0.03) and kb[0, 0] == pytest.approx(1.13, abs=0.03)
    assert np.allclose(ka + kb, 10.0, atol=1e-3)  # the mode is always learned in full


def test_linear_sequential_exact_matches_brute_force():
    n, lr, steps = 6, 0.1, 40
    ta, tb, qa, qb = rotated_pair(n, n, [2.0, 1.0], 0.6, seed=3, input_rank=3)
    w0 = np.random.default_rng(0).normal(size=(n, n)) * 0.1
    rec = np.arange(0, 2 * steps + 1)
    exact = linear_sequential_exact(w0, [ta.matrix, tb.matrix], [qa, qb], [steps, steps], lr,
                                    [ta.matrix, tb.matrix], [qa, qb], rec)
    w, losses = w0.copy(), []
    for k in range(2 * steps + 1):
        losses.append([0.5 * np.sum(((w - t.matrix) @ q) ** 2) for t, q in ((ta, qa), (tb, qb))])
        t, q = (ta, qa) if k < steps else (tb, qb)
        w = w - lr * (w - t.matrix) @ q @ q.T
    assert np.allclose(exact.T, losses, rtol=1e-9, atol=1e-12)


def test_rotated_pair_overlap():
    ta, tb, _, _ = rotated_pair(8, 8, [2.0, 1.0], 0.5, seed=1)
    assert np.sum(ta.matrix * tb.matrix) == pytest.approx(0.25 * (4 + 1), rel=1e-10)
    assert np.allclose(tb.u.T @ tb.u, np.eye(2)) and np.allclose(tb.v.T @ tb.v, np.eye(2))


def test_lazy_limit_solves_linearised_problem():
    rng = np.random.default_rng(0)
    w1, w2, t = rng.normal(size=(5, 4)), rng.normal(size=(4, 5)), rng.normal(size=(4, 4))
    d1, d2 = lazy_limit_change(w1, w2, t)
    # brute force: min-norm least squares of the Jacobian J (16 x 40) in vectorised form
    jac = np.zeros((16, 40))
    for k in range(40):
        e = np.zeros(40)
        e[k] = 1
        dw1, dw2 = e[:20].reshape(5, 4), e[20:].reshape(4, 5)
        jac[:, k] = (dw2 @ w1 + w2 @ dw1).ravel()
    sol = np.linalg.lstsq(jac, (t - w2 @ w1).ravel(), rcond=None)[0]
    assert d1 == pytest.approx(np.linalg.norm(sol[:20]), rel=1e-8)
    assert d2 == pytest.approx(np.linalg.norm(sol[20:]), rel=1e-8)
    assert rich_limit_change([4.0, 1.0], 2) == pytest.approx(np.sqrt(10.0))
