"""NQM (Zhang et al. 2019): exact recursion vs Monte Carlo, steady state, CLI."""

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.models import nqm
from cltk.schedules import parse


def _lrs(n=200):
    return np.stack([parse(s).render(n) for s in
                     ("constant:lr=0.5", f"cosine:peak=0.5,steps={n}", f"wsd:peak=0.5,steps={n},decay=0.2")])


def test_steady_state_value():
    assert nqm.steady_state(1.0, 0.1, 0.5) == pytest.approx(0.016667, abs=5e-7)
    _, L = nqm.expected_loss([1.0], [0.1], np.full(300, 0.5))
    assert L[0, -1] == pytest.approx(1 / 60, rel=1e-12)


def test_recursion_matches_direct_moments():
    # one coordinate, direct unrolled formula: E x_T^2 = prod(1-a h)^2 x0^2 + sum a_s^2 c prod_{r>s}(1-a_r h)^2
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 0.8, 50)
    h, c, x0 = 1.3, 0.2, 0.7
    f = (1 - a * h) ** 2
    tail = np.concatenate([np.cumprod(f[::-1])[::-1][1:], [1.0]])
    direct = np.prod(f) * x0 ** 2 + np.sum(a ** 2 * c * tail)
    _, L = nqm.expected_loss([h], [c], a, x0=x0)
    assert L[0, -1] == pytest.approx(0.5 * h * direct, rel=1e-12)


def test_torch_backend_and_decomposition_agree():
    h, c = nqm.spectrum(16, 1.0, 1.0, 0.1, "hessian")
    lrs = _lrs(120)
    s1, L1, b, v = nqm.expected_loss(h, c, lrs, every=7, decompose=True)
    s2, L2 = nqm.expected_loss(h, c, lrs, every=7, backend="torch")
    assert np.array_equal(s1, s2) and s1[-1] == 120
    np.testing.assert_allclose(L1, L2, rtol=1e-12)
    np.testing.assert_allclose(b + v, L1, rtol=1e-12)
    assert np.all(v[:, 0] == 0)


def test_monte_carlo_matches_exact():
    h, c = nqm.spectrum(16, 1.0, 1.0, 0.1, "constant")
    lrs = _lrs(150)
    _, L = nqm.expected_loss(h, c, lrs, every=10)
    _, M, se = nqm.sgd_monte_carlo(h, c, lrs, seeds=2000, every=10, seed=1)
    z = np.abs(M - L)[:, 1:] / se[:, 1:]
    assert z.max() < 4.5  # statistically consistent
    assert (np.abs(M - L) / L).max() < 0.03  # 2000 seeds, 16 coordinates: a few standard errors
    _, M2, _ = nqm.sgd_monte_carlo(h, c, lrs, seeds=2000, every=10, seed=1)
    np.testing.assert_array_equal(M, M2)  # seeded


def test_bad_inputs():
    with pytest.raises(ValueError):
        nqm.spectrum(0)
    with pytest.raises(ValueError):
        nqm.expected_loss([1.0], [0.1], [[-0.1, 0.2]])


def test_cli_nqm(tmp_path, written):
    out = tmp_path / "o"
    r = CliRunner().invoke(cli, ["simulate", "nqm", "--schedule", "cosine:peak=0.5,steps=100",
                                 "--schedule", "constant:lr=0.5", "--steps", "100", "--dim", "8",
                                 "--seeds", "1500", "--every", "10", "--batch-sizes", "1,4,16,64,256,1024",
                                 "--momenta", "0.5,0.9", "--emas", "0.9,0.99", "--device", "cpu",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = written(out)
    assert m["steady_state_theory"] == pytest.approx(0.016667, abs=5e-7)
    assert m["steady_state_recursion"] == pytest.approx(1 / 60, rel=1e-9)
    assert abs(m["steady_state_mc"] - 1 / 60) < 5 * m["steady_state_mc_sem"] + 2e-4
    assert m["mc_max_abs_z"] < 4.5 and m["noise_form"] == "hessian" and m["device"] == "cpu"
    # the batch-size study: its Monte Carlo check and the paper's qualitative results on this model
    assert m["batch_mc_consistent"] and m["batch_mc_points"] >= 100
    assert m["momentum_raises_critical_batch"] and m["precond_raises_critical_batch"]
    assert m["critical_batch_ratio_momentum"] == pytest.approx(m["critical_batch_momentum"] / m["critical_batch_sgd"])
    assert m["perfect_scaling_below_sgd"] and m["diminishing_returns_above_sgd"]
    for f in ("report.html", "results.csv", "curves.csv", "curves/cosine.csv", "nqm_curves.png",
              "batch_sizes.csv", "batch_grid.csv", "nqm_steps_vs_batch.png"):
        assert (out / f).exists()
    assert (out / "curves" / "cosine.csv").read_text().splitlines()[0] == "step,lr,loss"
    assert "critical batch size: sgd" in r.output


def test_cli_defaults_are_the_api_defaults():
    # the README's API example and the command run the same model (issue 14)
    import inspect

    from cltk.analytics.simulate.nqm import run_nqm
    from cltk.cli.simulate import nqm as cli_nqm

    params = {p.name: p.default for p in cli_nqm.nqm.params}
    job = inspect.signature(run_nqm).parameters
    spec = inspect.signature(nqm.spectrum).parameters
    for cli_name, api_name in (("h_max", "h_max"), ("h_power", "power"), ("noise", "noise"),
                               ("noise_form", "noise_form")):
        assert float(params[cli_name]) == float(spec[api_name].default) if cli_name != "noise_form" else \
            params[cli_name] == spec[api_name].default == nqm.DEFAULT_SPECTRUM["noise_form"]
        assert job[cli_name].default == spec[api_name].default
    assert cli_nqm.OPTIMIZERS == nqm.OPTIMIZERS
    study = inspect.signature(nqm.study_batch_sizes).parameters
    for cli_name, api_name in (("optimizers", "optimizers"), ("momenta", "momenta"), ("emas", "emas"),
                               ("precond_power", "power"), ("lr_per_octave", "per_octave")):
        param = next(p for p in cli_nqm.nqm.params if p.name == cli_name)
        assert param.type.convert(param.default, None, None) == study[api_name].default == job[cli_name].default


@pytest.mark.parametrize("args, needle", [
    (["--dim", "0"], "--dim"),
    (["--schedule", "cosine:peak=3,steps=50"], "diverges"),
    (["--schedule", "bogus:x=1"], "unknown schedule"),
    (["--steady", "1,0.1"], "--steady"),
    (["--steady", "1,0.1,3"], "0 < lr*h < 2"),
    (["--noise-form", "weird"], "--noise-form"),
    (["--seeds", "-1"], "--seeds"),
    (["--h-max", "nan"], "--h-max"),
    (["--steps", "1"], "--steps"),
    (["--optimizers", "sgd,adamw"], "--optimizers"),
    (["--momenta", "0.9,1"], "momenta"),
    (["--target-frac", "1"], "--target-frac"),
    (["--batch-sizes", "0,4"], "--batch-sizes"),
    (["--device", "tpu"], "--device"),
])
def test_cli_nqm_bad_options(tmp_path, args, needle, bad_flag):
    r = CliRunner().invoke(cli, ["simulate", "nqm", "--seeds", "0", "--out", str(tmp_path / "o")] + args)
    bad_flag(r, needle)
