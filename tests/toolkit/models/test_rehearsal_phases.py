"""Phase-mixture rehearsal (Gandhi et al. 2024 setting): replay counts, buffers, plans, the MLP, the CLI."""

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.models.rehearsal.phases import class_balanced_buffer, make_phase_plans, replay_counts, reservoir_buffer


def test_replay_counts_equal_budget_and_power_law():
    for kern in ("power", "uniform", "exponential"):
        C = replay_counts(6, 101, kern, exponent=1.0, tau=1.0)
        assert (C.sum(1)[1:] == 101).all() and C[0].sum() == 0 and np.triu(C).sum() == 0
    C = replay_counts(4, 1100, "power", exponent=1.0)
    # phase 3: lags 3, 2, 1 get 1/3 : 1/2 : 1 of the odds -> 200, 300, 600
    np.testing.assert_array_equal(C[3, :3], [200, 300, 600])
    np.testing.assert_array_equal(replay_counts(4, 9, "uniform")[3, :3], [3, 3, 3])


def test_reservoir_is_uniform_over_the_stream():
    # Algorithm R: each of 50 stream items ends in a 10-slot buffer with probability 1/5
    rng = np.random.default_rng(0)
    items = np.arange(50)[:, None]
    hits = np.zeros(50)
    trials = 2000
    for _ in range(trials):
        st = reservoir_buffer(items[:20], 10, rng)
        buf, seen = reservoir_buffer(items[20:], 10, rng, st)
        assert seen == 50 and len(buf) == 10
        hits[buf[:, 0]] += 1
    p = hits / trials
    se = np.sqrt(0.2 * 0.8 / trials)
    assert np.abs(p - 0.2).max() < 4.5 * se  # 50 binomial proportions within 4.5 standard errors


def test_class_balanced_buffer_balances_groups():
    rng = np.random.default_rng(1)
    items = np.arange(300)[:, None]
    groups = np.repeat([0, 1, 2], [200, 60, 40])  # unbalanced stream
    buf, g = class_balanced_buffer(items, groups, 60, rng)
    assert len(buf) == 60
    assert sorted(np.bincount(g).tolist()) == [20, 20, 20]


def test_plans_pair_seeds_and_keep_budget():
    labels = np.arange(40) % 10
    conds = [("power", "all"), ("uniform", "all"), ("uniform", "reservoir")]
    plan = make_phase_plans(labels, 3, conds, budget=0.5, seeds=2, memory_size=8, exponent=1.0)
    assert [t.shape for t in plan.task] == [(6, 40), (6, 60), (6, 60)]
    for p in range(3):  # the new task's examples are the same for every condition of a seed
        new = [np.sort(plan.index[p][m][plan.task[p][m] == p]) for m in range(6)]
        np.testing.assert_array_equal(new[0], new[2])
        np.testing.assert_array_equal(new[1], new[5])
    # phase 2, power with exponent 1: task 1 (lag 1) gets twice task 0 (lag 2): 13 and 7 of 20
    counts = np.bincount(plan.task[2][0], minlength=3)
    np.testing.assert_array_equal(counts, [7, 13, 40])
    assert plan.buffer_tasks[("uniform", "reservoir")][:, -1].sum(-1).tolist() == [8, 8]
    with pytest.raises(ValueError, match="equal length"):
        make_phase_plans(labels, 3, [("power", "all"), ("none", "all")], seeds=1)


def test_cli_paper_setting(tmp_path, written):
    pytest.importorskip("sklearn")
    out = tmp_path / "p"
    r = CliRunner().invoke(cli, ["simulate", "rehearsal", "--setting", "paper", "--tasks", "3", "--seeds", "2",
                                 "--epochs", "1", "--hidden", "16", "--test-per-task", "30", "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = written(out)
    for key in ("paper_power_minus_uniform_avg_acc", "paper_power_minus_uniform_avg_acc_ci95", "verdict",
                "paper_none_forgetting", "paper_full_avg_acc", "paper_uniform_reservoir_bwt",
                "paper_power_class_balanced_min_acc"):
        assert key in m
    # the upper baseline (all earlier data every phase) forgets less than no rehearsal
    assert m["paper_full_forgetting"] < m["paper_none_forgetting"]
    assert (out / "report.html").exists() and (out / "runs.csv").exists()
