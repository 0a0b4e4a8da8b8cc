"""Deep linear networks: the batched torch simulator against the exact dynamics, at fast sizes."""
import numpy as np
import pytest
import torch

from cltk.analytics.simulate.dln.common import crossing_time
from cltk.models.dln import (
    Deficit,
    Task,
    depth_time,
    end_to_end,
    init_weights,
    make_teacher,
    pathway_ode,
    train,
    train_flops,
    two_layer_trajectory,
)


def _uv(teacher):
    return torch.as_tensor(teacher.u, dtype=torch.float32), torch.as_tensor(teacher.v, dtype=torch.float32)


def test_two_layer_modes_match_closed_form_within_one_percent():
    teacher = make_teacher(3, 3, [1.0, 0.5], seed=0)
    lr = 1e-3
    w = init_weights("balanced", [3, 3, 3], 2, scale=1e-4, teacher=teacher, seed=1)
    tr = train(w, Task.from_numpy(teacher.matrix), lr=lr, steps=10000, record_every=25, modes=_uv(teacher))
    t = tr.steps * lr
    u = tr.modes[:, 0]  # (E, R, m)
    theory = two_layer_trajectory(t[:, None], teacher.s[None], 1e-4)
    assert np.abs(u / theory[None] - 1).max() < 0.01
    assert crossing_time(t, u[0, :, 0], 0.5) == pytest.approx(4.6051, rel=2e-3)
    assert crossing_time(t, u[0, :, 0], 1 - 1e-4) == pytest.approx(9.2102, rel=2e-3)


def test_depth_reference_times_by_simulation():
    teacher = make_teacher(1, 1, [1.0], seed=0)
    lr = 0.01
    for depth, ref in ((2, 3.45), (4, 15.5), (9, 30.9)):
        w = init_weights("balanced", [1] * (depth + 1), 1, scale=1e-3, teacher=teacher)
        steps = int(1.02 * depth_time(1e-3, 0.5, 1.0, depth) / lr) + 2
        tr = train(w, Task.from_numpy(teacher.matrix), lr=lr, steps=steps, modes=_uv(teacher))
        assert crossing_time(tr.steps * lr, tr.modes[0, 0, :, 0], 0.5) == pytest.approx(ref, rel=0.01)


def test_sgd_two_pathways_agree_with_ode():
    teacher = make_teacher(2, 2, [10.0], seed=0)
    onsets = torch.tensor([0, 400])
    w = init_weights("balanced", [2, 2, 2], 2, pathways=2, scale=0.01, teacher=teacher, seed=2)
    tr = train(w, Task.from_numpy(teacher.matrix), lr=0.01, steps=600, batch_size=16, seed=3, record_every=600,
               modes=_uv(teacher), deficit=Deficit(onsets, torch.full((2,), 150)))
    ka, kb = pathway_ode(2, onsets.numpy(), 150, steps=600)
    assert np.allclose(tr.modes[:, 0, -1, 0], ka, atol=0.05) and np.allclose(tr.modes[:, 1, -1, 0], kb, atol=0.05)
    assert tr.modes[0, 0, -1, 0] == pytest.approx(9.99, abs=0.05)


def test_orthogonal_flat_gaussian_grows_fast_sizes():
    # Saxe et al. 2014 Fig. 6A protocol on sklearn digits (run_depth), CI size: orthogonal flat, Gaussian growing
    from cltk.analytics.simulate.dln.experiments import run_depth

    res = run_depth(depths=(2, 19), seeds=1, steps=500, lr_grid=(1.0, 1.5), threshold=0.2)
    m = res.metrics
    assert m["time_spread_orthogonal"] <= 1.5
    assert m["time_gaussian_D19"] is None or m["time_gaussian_D19"] > 3 * m["time_gaussian_D2"]


def test_reproducible_and_zero_padding_exact():
    teacher = make_teacher(3, 3, [1.0], seed=0)
    task = Task.from_numpy(teacher.matrix)
    runs = []
    for _ in range(2):
        w = init_weights("small", [3, 4, 3], 1, scale=0.1, seed=7)
        runs.append(train(w, task, lr=0.05, steps=50, batch_size=8, seed=1).loss)
    assert np.array_equal(runs[0], runs[1])
    # zero hidden units stay zero under GD: a padded network follows the same trajectory
    w = init_weights("small", [3, 4, 3], 1, scale=0.1, seed=7)
    wp = [torch.nn.functional.pad(w[0], (0, 0, 0, 2)), torch.nn.functional.pad(w[1], (0, 2))]
    a = train(w, task, lr=0.05, steps=50).loss
    b = train(wp, task, lr=0.05, steps=50).loss
    assert np.allclose(a, b, rtol=1e-5)
    assert end_to_end(wp).shape == (1, 1, 3, 3)
    assert train_flops([4, 8, 4], 10) == 10 * (2 * 4 * 8 * 4 * 2 + 2 * 8 * 4 * 4)
