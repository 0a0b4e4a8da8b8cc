"""Critical-period pieces of cltk.models.dln: the step count against the authors' code, the
deficit-window sweep against the exact linear recursion, the matrix-completion tasks."""
import numpy as np
import pytest
import torch

from cltk.models.dln import Task, completion_task, init_weights, pathway_ode, window_sweep


def _authors_pathway(depth, s, k0, def_start, def_end, dt, steps):
    """The recursion of Kleinman et al.'s ``k_trajectory`` (multipath/analytical_and_sgd_final.py),
    with their indexing: state t is computed from t - 1 for t >= 1 and pathway b is frozen for
    def_start <= t < def_end. Returns the trajectories (K_a, K_b), steps + 1 states each."""
    px, py = np.zeros(steps + 1), np.zeros(steps + 1)
    px[0] = py[0] = k0 ** (1 / depth)
    for t in range(1, steps + 1):
        resid = s - px[t - 1] ** depth - py[t - 1] ** depth
        px[t] = px[t - 1] + dt * abs(px[t - 1]) ** (depth - 1) * resid
        frozen = def_start <= t < def_end
        py[t] = py[t - 1] if frozen else py[t - 1] + dt * abs(py[t - 1]) ** (depth - 1) * resid
    return px**depth, py**depth


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_authors_deficit_from_0_is_149_steps_and_later_ones_start_a_step_early(depth):
    """Their "150-step deficit from 0" is our 149-step one; from onset o > 0 it is our 150 steps from o - 1."""
    steps = 400
    for length in (150, 20):
        for start, onset, ours_len in ((0, 0, length - 1), (60, 59, length)):
            ref = np.stack(_authors_pathway(depth, 10.0, 0.01, start, start + length, 0.01, steps))
            ours = np.stack(pathway_ode(depth, onset, ours_len, steps=steps, record_every=1)[2:])
            assert np.allclose(ours, ref, rtol=1e-12, atol=1e-14)
    # our own 20-step deficit from 0 (inside the fast transition) freezes one more update than theirs
    ours = np.stack(pathway_ode(depth, 0, 20, steps=steps, record_every=1)[2:])
    assert np.abs(ours - np.stack(_authors_pathway(depth, 10.0, 0.01, 0, 20, 0.01, steps))).max() > 1e-3


def test_window_sweep_matches_the_linear_recursion():
    """D = 1, whitened full-rank inputs: W <- W - lr (W - T_k) with T_k the deficit teacher inside
    each member's window; every member stops after ``after`` steps past its window."""
    rng = np.random.default_rng(0)
    n, lr, after = 3, 0.1, 7
    t_norm, t_def = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    onsets, durations = np.array([0, 0, 0, 5]), np.array([0, 3, 11, 4])
    w = init_weights("gaussian", [n, n], 4, scale=0.5, seed=1, dtype=torch.float64)
    w0 = w[0][:, 0].numpy().copy()
    sw = window_sweep(w, Task.from_numpy(t_def, dtype=torch.float64), Task.from_numpy(t_norm, dtype=torch.float64),
                      onsets, durations, after, lr=lr, eval_tasks=[Task.from_numpy(t_norm, dtype=torch.float64)],
                      record_every=4)
    assert np.array_equal(sw.stop, onsets + durations + after)
    for i in range(4):
        wi, losses = w0[i].copy(), {0: 0.5 * np.sum((w0[i] - t_norm) ** 2)}
        for k in range(sw.stop[i]):
            wi = wi - lr * (wi - (t_def if onsets[i] <= k < onsets[i] + durations[i] else t_norm))
            losses[k + 1] = 0.5 * np.sum((wi - t_norm) ** 2)
        assert sw.final[i, 0] == pytest.approx(losses[sw.stop[i]], rel=1e-10)
        for j, step in enumerate(sw.steps):
            if step <= sw.stop[i]:
                assert sw.evals[i, 0, j] == pytest.approx(losses[step], rel=1e-10)
            else:
                assert np.isnan(sw.evals[i, 0, j])
        assert np.allclose(w[0][i, 0].numpy(), wi, rtol=1e-10)  # stopped members keep their final weights
    assert set(sw.steps.tolist()) == {0, 4, 8, 12, 16, 3, 11, 5, 9, 7, 10, 18}  # grid, window edges, stops


def test_completion_tasks_follow_the_authors_normalisation():
    n = 20
    obs = completion_task(n, 2, 0.3, "observations", deficit_observed=0.1, seed=3)
    assert np.linalg.norm(obs.target) == pytest.approx(n) and np.linalg.matrix_rank(obs.target) == 2
    seen, sub = obs.mask > 0, obs.deficit_mask > 0
    assert seen.sum() == 120 and sub.sum() == 40 and np.all(seen[sub])  # nested subset
    assert obs.mask.sum() == pytest.approx(1) and obs.deficit_mask.sum() == pytest.approx(1)
    w = np.random.default_rng(0).normal(size=(n, n))
    loss = Task.from_numpy(obs.target, mask=obs.mask, dtype=torch.float64).loss(torch.as_tensor(w)).item()
    assert loss == pytest.approx(0.5 * np.mean((w - obs.target)[seen] ** 2), rel=1e-12)  # 1/2 mean over Omega
    test = Task.from_numpy(obs.target, mask=obs.test, dtype=torch.float64).loss(torch.as_tensor(w)).item()
    assert test == pytest.approx(np.mean((w - obs.target) ** 2), rel=1e-12)  # their test loss: all entries
    rank = completion_task(n, 2, 0.3, "rank", deficit_rank=5, seed=3)
    assert np.array_equal(rank.mask, obs.mask) and np.array_equal(rank.target, obs.target)
    assert np.linalg.matrix_rank(rank.deficit_target) == 5 and np.array_equal(rank.deficit_mask, rank.mask)
    with pytest.raises(ValueError, match="deficit_observed"):
        completion_task(n, 2, 0.1, "observations", deficit_observed=0.2)
    with pytest.raises(ValueError, match="unknown deficit"):
        completion_task(n, 2, 0.3, "noise")
