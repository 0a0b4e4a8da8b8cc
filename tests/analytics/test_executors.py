import pytest

from cltk.analytics.executors import LocalExecutor, make_executor, threads_per_worker
from cltk.errors import InputError


def square(x):
    if x == 3:
        raise ValueError("three")
    return x * x


def torch_threads(_):
    import torch

    return torch.get_num_threads()


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_returns_results_and_failures(workers):
    seen = []
    out = LocalExecutor(workers).map(square, [1, 2, 3, 4], on_done=lambda i, r: seen.append((i, r)))
    assert out[:2] == [1, 4] and out[3] == 16 and isinstance(out[2], ValueError)
    # every job is reported once as it finishes, the failure as its exception
    assert sorted(i for i, _ in seen) == [0, 1, 2, 3]
    assert all(r is out[i] for i, r in seen)


def test_thread_policy_splits_the_cores():
    assert threads_per_worker(1) >= 1 and threads_per_worker(10_000) == 1
    assert threads_per_worker(2) == max(1, threads_per_worker(1) // 2)
    import torch

    before = torch.get_num_threads()
    assert LocalExecutor(1, threads=1).map(torch_threads, [0]) == [1]  # in-process, then restored
    assert torch.get_num_threads() == before
    assert LocalExecutor(2, threads=1).map(torch_threads, [0, 1]) == [1, 1]  # spawned workers


def test_submitit_local_backend(tmp_path):
    pytest.importorskip("submitit")
    # submitit's local backend runs each job in its own process (as Slurm would), so the job
    # function must be importable there: a builtin; abs("x") fails like a crashed run
    ex = make_executor("submitit", folder=tmp_path / "jobs", cluster="local", timeout_min=5)
    out = ex.map(abs, [-2, "x", 5])
    assert out[0] == 2 and out[2] == 5 and isinstance(out[1], Exception)


def test_unknown_executor():
    with pytest.raises(InputError, match="unknown executor"):
        make_executor("ray")
