"""Power-law rehearsal environments, continual-learning metrics, learners, CLI."""

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.models import rehearsal as R


def test_recurrence_weights():
    lag = np.array([1.0, 4.0, 16.0])
    np.testing.assert_allclose(R.recurrence_weights(lag, "power", 0.5), [1, 0.5, 0.25])
    np.testing.assert_allclose(R.recurrence_weights(lag, "uniform"), 1.0)
    w = R.recurrence_weights(lag, "exponential", tau=3.0)
    assert w[0] == 1.0 and w[1] == pytest.approx(np.exp(-1.0))
    with pytest.raises(ValueError):
        R.recurrence_weights(lag, "zipf")


def test_environment_equal_budget_and_power_law_choice():
    env = R.make_environment(n_tasks=8, n_blocks=400, budget=0.5, seeds=3, seed=1, exponent=1.0)
    E, N, nb = env.tasks.shape
    assert (E, N, nb) == (3, 3, 400)
    # equal budget: the rehearsal positions are shared, and rehearsal blocks hold an older task
    newest = np.searchsorted(env.intro, np.arange(nb), side="right") - 1
    for e in range(E):
        old = env.tasks[e] != newest[None, :]
        np.testing.assert_array_equal(old, env.rehearse)
        assert np.all(env.tasks[e][env.rehearse] < newest[None, :].repeat(N, 0)[env.rehearse])
    # every task first appears at its introduction block
    for k, b in enumerate(env.intro):
        assert np.all(env.tasks[:, :, b] == k)
    # power-law (exponent 1) rehearses recently seen tasks more often than uniform does
    from cltk.analytics.simulate.rehearsal import rehearsal_lags
    assert np.median(rehearsal_lags(env, 0)) < np.median(rehearsal_lags(env, 1))
    again = R.make_environment(n_tasks=8, n_blocks=400, budget=0.5, seeds=3, seed=1, exponent=1.0)
    np.testing.assert_array_equal(env.tasks, again.tasks)


def test_metrics_on_a_hand_made_matrix():
    # 2 tasks, 3 blocks of 2 steps, eval every step: tasks 0, 1, 0
    tasks = np.array([0, 1, 0])
    intro = np.array([0, 1])
    perf = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0],   # block 0 trains task 0
                     [0.4, 0.6], [0.6, 1.0],               # block 1: task 0 dips to 0.4 (gap 0.6)
                     [0.9, 0.8], [1.0, 0.7]])              # block 2: task 1 dips to 0.7 (gap 0.3)
    m = R.continual_metrics(perf, tasks, intro, 2, 1)
    assert m["final_acc"] == pytest.approx(0.85)
    # accuracy matrix: rows at eval 2 (before task 1 appears) and at the end: [[1, 0], [1, 0.7]]
    assert m["forgetting"] == pytest.approx(0.0)  # Chaudhry: first K-1 tasks only (task 0: 1.0 -> 1.0)
    assert m["bwt"] == pytest.approx(0.0) and m["fwt"] == pytest.approx(0.0)
    assert m["stability_gap"] == pytest.approx((0.6 + 0.3) / 2)
    assert m["worst_after_switch"] == pytest.approx((0.4 + 0.7) / 2)
    # De Lange min-ACC: task 0 after eval 2 -> 0.4; task 1 after its first block (eval 4) -> 0.7
    assert m["min_acc"] == pytest.approx((0.4 + 0.7) / 2)
    assert m["wc_acc"] == pytest.approx(0.7 / 2 + 0.55 / 2)
    # knowledge: mean over evals of the mean over introduced tasks
    seen = [0.0, 0.5, 0.5, 0.5, 0.8, 0.85, 0.85]
    assert m["knowledge"] == pytest.approx(np.mean(seen))


def test_linear_learner_is_exact_gradient_descent():
    env = R.make_environment(n_tasks=2, n_blocks=2, budget=0.0, seeds=1, kernels=("uniform",))
    lt = R.make_linear_tasks(2, dim=6, rank=3, similarity=0.0, seeds=1)
    perf = R.run_linear(env, lt, block_steps=200, lrs=np.full(400, 0.2), eval_every=200)
    assert perf.shape == (1, 1, 3, 2)
    assert perf[0, 0, 1, 0] > 0.99  # task 0 learned after its block
    assert perf[0, 0, 2, 1] > 0.99 and perf[0, 0, 2, 0] < perf[0, 0, 1, 0]  # then task 1, with forgetting


def test_mlp_learner_learns_digits():
    pytest.importorskip("sklearn")
    from cltk.models.rehearsal.mlp import load_digit_tasks, run_mlp

    env = R.make_environment(n_tasks=2, n_blocks=2, budget=0.0, seeds=2, kernels=("power", "uniform"))
    data = load_digit_tasks(2, seeds=2, test_per_task=100)
    perf = run_mlp(env, data, block_steps=100, lrs=np.full(200, 0.2), eval_every=50, hidden=32)
    assert perf.shape == (2, 2, 5, 2)
    assert perf[:, :, 2, 0].min() > 0.7  # digits learned after 100 steps
    np.testing.assert_array_equal(perf[0], perf[1])  # same sequence, same init: identical runs


def test_cli_rehearsal(tmp_path, written):
    out = tmp_path / "o"
    r = CliRunner().invoke(cli, ["simulate", "rehearsal", "--learner", "linear", "--learner", "deep",
                                 "--tasks", "3", "--blocks", "12", "--block-steps", "4", "--seeds", "3",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = written(out)
    for key in ("linear_power_final_acc", "linear_power_final_acc_ci95", "deep_uniform_stability_gap",
                "linear_power_minus_uniform_forgetting", "linear_best_final_acc", "rehearsal_blocks_per_seed",
                "linear_power_bwt", "deep_uniform_wc_acc", "linear_power_minus_uniform_fwt_ci95"):
        assert key in m
    assert all(not isinstance(v, (dict, list)) for v in m.values())  # flat
    assert "can be negative" in m["linear_score"]
    for f in ("report.html", "runs.csv", "results.csv", "environment.csv", "environments.png"):
        assert (out / f).exists()


def test_cli_learner_choices_are_the_jobs():
    from cltk.analytics.simulate.rehearsal import LEARNERS
    from cltk.cli.simulate.rehearsal import LEARNERS as CLI_LEARNERS

    assert CLI_LEARNERS == LEARNERS


@pytest.mark.parametrize("args, needle", [
    (["--learner", "cnn"], "--learner"),
    (["--budget", "1.5"], "--budget"),
    (["--seeds", "1"], "--seeds"),
    (["--eval-every", "3"], "must divide the steps per block"),
    (["--tasks", "1"], "--tasks"),
    (["--blocks", "2"], "at least one block per task"),
    (["--rank", "99"], "exceeds the input dimension"),
    (["--schedule", "constant:lr=0.1", "--schedule", "constant:lr=0.2"], "--schedule"),
    (["--schedule", "constant:lr=50"], "diverge"),
    (["--exponent", "inf"], "--exponent"),
])
def test_cli_rehearsal_bad_options(tmp_path, args, needle, bad_flag):
    base = ["simulate", "rehearsal", "--learner", "linear", "--tasks", "3", "--blocks", "6", "--block-steps", "4",
            "--seeds", "2", "--out", str(tmp_path / "o")]
    bad_flag(CliRunner().invoke(cli, base + args), needle)
