import pytest

from cltk.errors import InputError
from cltk.analytics.executors import LocalExecutor, make_executor


def square(x):
    if x == 3:
        raise ValueError("three")
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_returns_results_and_failures(workers):
    out = LocalExecutor(workers).map(square, [1, 2, 3, 4])
    assert out[:2] == [1, 4] and out[3] == 16 and isinstance(out[2], ValueError)


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
