"""Schedules out (cltk.schedule_export): the exported LR equals the schedule's value at every step."""
import io
import sys

import numpy as np
import pytest
import torch

from cltk.schedule_export import to_array, to_optax, to_torch, write_schedule
from cltk.schedules import ScheduleError, parse

SPECS = ["wsd:peak=3e-4,steps=300,warmup=30,decay=0.25,shape=sqrt,final=3e-5",
         "cosine:peak=1e-3,steps=200,final=1e-4,warmup=20",
         "warmup:peak=3e-4,steps=40 + constant:lr=3e-4,steps=100 + constant:lr=9e-5,steps=60",
         "wsd:peak=3e-4,steps=250,decay=50,shape=exp,final=3e-5,warmup=25"]


def updates(spec) -> np.ndarray:
    """The LR of the updates of a loop of ``steps`` updates: schedule(1..steps), the last past the
    end (held)."""
    s = parse(spec) if isinstance(spec, str) else spec
    return np.array([float(s(k)) for k in range(1, s.steps + 1)])


def _train(spec: str, base_lr: float):
    """Train a tiny model with the exported scheduler; the LR each optimizer step used."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=base_lr)
    sched = to_torch(parse(spec), opt)
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    used = []
    for _ in range(parse(spec).steps):
        used.append([g["lr"] for g in opt.param_groups])
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()
    return np.array(used), sched, opt


@pytest.mark.parametrize("spec", SPECS)
def test_torch_scheduler_reproduces_the_schedule_step_by_step(spec):
    used, sched, _ = _train(spec, base_lr=1e-3)
    assert isinstance(sched, torch.optim.lr_scheduler.LambdaLR)
    # exact equality: update k (from 0) uses schedule(k + 1), the LR of update k + 1 in the laws' and
    # readers' count; the value itself, not base * (value / base)
    np.testing.assert_array_equal(used[:, 0], updates(spec))
    # the lambda is the multiplier relative to the base LR
    assert sched.lr_lambdas[0](123) == pytest.approx(parse(spec)(124) / 1e-3, rel=1e-15)


def test_torch_scheduler_with_base_lr_zero_and_group_ratios():
    spec = SPECS[0]
    used, _, _ = _train(spec, base_lr=0.0)
    np.testing.assert_array_equal(used[:, 0], updates(spec))
    # two groups, the second at half the first's base LR: the ratio survives, the first is exact
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 1))
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 2e-3},
                           {"params": model[1].parameters(), "lr": 1e-3}], lr=2e-3)
    sched = to_torch(spec, opt)
    for s in range(5):
        assert opt.param_groups[0]["lr"] == parse(spec)(s + 1)
        assert opt.param_groups[1]["lr"] == pytest.approx(0.5 * parse(spec)(s + 1), rel=1e-15)
        opt.step()
        sched.step()


def test_torch_scheduler_state_dict_saves_and_resumes():
    spec = SPECS[2]
    _, sched, opt = _train(spec, base_lr=3e-4)
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)  # the schedule's closure is not in it: it pickles
    buf.seek(0)
    state = torch.load(buf, weights_only=False)
    assert state["schedule_spec"] == parse(spec).spec
    # resume: a fresh scheduler loaded from the state continues at the saved step
    fresh = to_torch(spec, torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=3e-4))
    fresh.load_state_dict(state)
    assert fresh.last_epoch == parse(spec).steps


@pytest.mark.parametrize("spec", SPECS)
def test_arrays_match_render(spec, tmp_path):
    s = parse(spec)
    np.testing.assert_array_equal(to_array(s), s.render())
    np.testing.assert_array_equal(to_array(spec, 77), s.render(77))
    np.testing.assert_array_equal(to_array(s, [0, 5, 199]), s.render()[[0, 5, 199]])
    write_schedule(s, tmp_path / "lr.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "lr.npy"), s.render())
    write_schedule(s, tmp_path / "lr.csv")
    table = np.loadtxt(tmp_path / "lr.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, 0], np.arange(s.steps))
    np.testing.assert_array_equal(table[:, 1], s.render())  # 17 digits read back exactly
    assert not list(tmp_path.glob(".*.tmp"))  # atomic: no temporary left behind


def test_bad_exports_are_one_line_errors(tmp_path):
    with pytest.raises(ScheduleError, match=r"\.csv or \.npy"):
        write_schedule(SPECS[0], tmp_path / "lr.txt")
    with pytest.raises(ScheduleError, match="unbounded"):
        to_array("invsqrt:peak=1e-3,warmup=10")
    with pytest.raises(ScheduleError, match="whole numbers"):
        to_array(SPECS[0], [1.5])


def test_to_optax_without_optax_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "optax", None)  # as if it were not installed
    with pytest.raises(ImportError, match="pip install optax"):
        to_optax(SPECS[0])


def test_to_optax_matches_the_schedule_when_installed():
    jnp = pytest.importorskip("jax.numpy")
    pytest.importorskip("optax")
    s = parse(SPECS[0])
    fn = to_optax(s)
    got = np.array([float(fn(jnp.asarray(i))) for i in range(s.steps)])
    np.testing.assert_allclose(got, updates(s), rtol=1e-6)  # float32 table


# --- the same exports as Schedule methods (they delegate to cltk.schedule_export) -------------------

@pytest.mark.parametrize("spec", SPECS)
def test_schedule_methods_equal_the_export_functions(spec, tmp_path):
    s = parse(spec)
    np.testing.assert_array_equal(s.to_array(), to_array(s))
    np.testing.assert_array_equal(s.to_array(50), s.render(50))
    np.testing.assert_array_equal(s.to_array([3, 0, 7]), s.render()[[3, 0, 7]])
    assert s.to_file(tmp_path / "lr.npy") == tmp_path / "lr.npy"
    np.testing.assert_array_equal(np.load(tmp_path / "lr.npy"), s.render())
    s.to_file(tmp_path / "lr.csv", steps=20)
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "lr.csv", delimiter=",", skiprows=1)[:, 1], s.render(20))


def test_schedule_to_torch_runs_the_schedule_in_a_training_loop():
    s = parse(SPECS[1])
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = s.to_torch(opt)
    assert isinstance(sched, torch.optim.lr_scheduler.LambdaLR) and sched.schedule_spec == s.spec
    used = []
    for _ in range(s.steps):
        used.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        model(torch.ones(2, 4)).sum().backward()
        opt.step()
        sched.step()
    np.testing.assert_array_equal(used, updates(s))
    # the lambda is the LR relative to the optimizer's base LR, as to_torch's
    assert sched.lr_lambdas[0](57) == pytest.approx(s(58) / 1e-3, rel=1e-15)


def test_schedule_to_optax_and_bad_exports(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "optax", None)
    with pytest.raises(ImportError, match="pip install optax"):
        parse(SPECS[0]).to_optax()
    with pytest.raises(ScheduleError, match="unbounded"):
        parse("invsqrt:peak=1e-3,warmup=10").to_array()
    with pytest.raises(ScheduleError, match=r"\.csv or \.npy"):
        parse(SPECS[0]).to_file(tmp_path / "lr.txt")
