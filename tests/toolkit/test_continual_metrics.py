"""Standard continual-learning metrics (cltk.continual_metrics) against hand-computed matrices and
properties that must hold for any input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cltk import continual_metrics as M

# 3 tasks; R[i, j] = score on task j after training task i (hand-made)
R3 = np.array([[0.9, 0.2, 0.1],
               [0.6, 0.8, 0.3],
               [0.7, 0.5, 0.95]])


def test_matrix_metrics_by_hand():
    assert M.average_accuracy(R3) == pytest.approx((0.7 + 0.5 + 0.95) / 3)
    # BWT: (R[2,0]-R[0,0] + R[2,1]-R[1,1]) / 2
    assert M.backward_transfer(R3) == pytest.approx(((0.7 - 0.9) + (0.5 - 0.8)) / 2)
    # FWT: (R[0,1]-b1 + R[1,2]-b2) / 2 with b = (0.1, 0.1, 0.1)
    assert M.forward_transfer(R3, [0.1, 0.1, 0.1]) == pytest.approx(((0.2 - 0.1) + (0.3 - 0.1)) / 2)
    # Chaudhry forgetting over tasks 0, 1: max over rows 0..1 minus final
    assert M.forgetting(R3) == pytest.approx(((0.9 - 0.7) + (0.8 - 0.5)) / 2)


def test_curve_metrics_by_hand():
    # 2 tasks, evaluations 0..5; task 0 learned at eval 2, task 1 at eval 5 (end)
    curve = np.array([[0.1, 0.1], [0.5, 0.1], [0.9, 0.2], [0.4, 0.6], [0.6, 0.8], [0.7, 0.9]])
    per = M.min_acc_per_task(curve, [2, 5])
    assert per[0] == pytest.approx(0.4) and np.isnan(per[1])
    assert M.min_acc(curve, [2, 5]) == pytest.approx(0.4)
    assert M.wc_acc(curve, [2, 5]) == pytest.approx(0.9 / 2 + 0.4 / 2)
    at, worst = M.worst_after_switch(curve, [2], window=2)
    np.testing.assert_allclose(at, [[0.9, 0.2]])
    np.testing.assert_allclose(worst, [[0.4, 0.6]])
    assert M.stability_gap(curve, [2], 2, [[True, False]]) == pytest.approx(0.5)
    R = M.accuracy_matrix(curve, [2, 5])
    np.testing.assert_allclose(R, [[0.9, 0.2], [0.7, 0.9]])
    s = M.standard_metrics(R, baseline=curve[0], curve=curve, learned_at=[2, 5])
    assert s["fwt"] == pytest.approx(0.2 - 0.1) and s["min_acc"] == pytest.approx(0.4)


def test_vectorised_over_leading_axes():
    rng = np.random.default_rng(0)
    Rs = rng.random((4, 3, 5, 5))
    got = M.forgetting(Rs)
    assert got.shape == (4, 3)
    assert got[2, 1] == pytest.approx(M.forgetting(Rs[2, 1]))
    assert M.backward_transfer(Rs)[3, 0] == pytest.approx(M.backward_transfer(Rs[3, 0]))


def test_bad_shapes():
    with pytest.raises(ValueError, match="accuracy matrix"):
        M.average_accuracy(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="one end evaluation per task"):
        M.accuracy_matrix(np.zeros((5, 3)), [1, 2])
    with pytest.raises(ValueError, match="window"):
        M.worst_after_switch(np.zeros((5, 2)), [3], window=2)


mats = st.integers(2, 6).flatmap(
    lambda k: arrays(np.float64, (k, k), elements=st.floats(-2, 1, allow_nan=False, width=32)))


@settings(max_examples=60, deadline=None)
@given(mats)
def test_properties(R):
    # forgetting >= -BWT (the best earlier score is at least the just-learned one)
    f, b = M.forgetting(R), M.backward_transfer(R)
    assert f >= -b - 1e-12
    # no change after learning and nothing better before it: no forgetting, BWT 0
    K = len(R)
    d = np.diagonal(R)
    frozen = np.tril(np.broadcast_to(d, (K, K))) + np.triu(np.minimum(R, d[None, :]), 1)
    assert M.forgetting(frozen) == pytest.approx(0.0, abs=1e-12)
    assert M.backward_transfer(frozen) == pytest.approx(0.0, abs=1e-12)
    # ACC moves with a constant shift, BWT and forgetting do not
    assert M.average_accuracy(R + 0.5) == pytest.approx(M.average_accuracy(R) + 0.5)
    assert M.forgetting(R + 0.5) == pytest.approx(f)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5).flatmap(
    lambda k: arrays(np.float64, (3 * k + 1, k), elements=st.floats(0, 1, allow_nan=False, width=32))))
def test_min_acc_bounds(curve):
    K = curve.shape[1]
    learned = np.arange(1, K + 1) * 3  # task j ends at evaluation 3 (j + 1)
    per = M.min_acc_per_task(curve, learned)
    for j in range(K - 1):  # min-ACC never exceeds any later score, e.g. the final one
        assert per[j] <= curve[-1, j] + 1e-12
        assert per[j] == pytest.approx(curve[learned[j] + 1:, j].min())
    assert np.isnan(per[-1])
    assert M.wc_acc(curve, learned) <= max(curve[-1, -1], per[:-1].mean()) + 1e-12
