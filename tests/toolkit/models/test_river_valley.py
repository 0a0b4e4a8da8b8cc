"""River valley (Wen et al. 2024): decomposition, WSD vs cosine, hill-vs-LR, laws on simulated curves."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.laws import MomentumLaw, MultiPowerLaw
from cltk.models import river_valley as rv
from cltk.schedules import parse

V = rv.Valley(hill_curv=(0.05, 0.2, 0.8), hill_noise=(0.05,))


def _lrs(specs, n=1000):
    return np.stack([parse(s).render(n) for s in specs])


def test_exact_matches_sgd():
    lrs = _lrs(["cosine:peak=0.5,steps=300", "wsd:peak=0.5,steps=300,decay=0.2"], 300)
    ex = rv.expected(V, lrs, every=30)
    mc = rv.simulate_sgd(V, lrs, seeds=400, every=30, seed=3)
    np.testing.assert_allclose(mc["river"], ex["river"], rtol=1e-9)  # no river noise: deterministic
    assert (np.abs(mc["hill"] - ex["hill"])[:, 1:] / mc["hill_sem"][:, 1:]).max() < 4.5
    np.testing.assert_allclose(ex["loss"], ex["river"] + ex["hill"])


def test_wsd_above_cosine_in_stable_phase_and_below_after_decay():
    lrs = _lrs(["cosine:peak=0.5,steps=1000", "wsd:peak=0.5,steps=1000,decay=0.2"])
    r = rv.expected(V, lrs, every=10)
    s = r["steps"]
    stable = (s >= 100) & (s <= 800)
    assert np.mean(r["loss"][1, stable] > r["loss"][0, stable]) > 0.95
    assert r["loss"][1, -1] < r["loss"][0, -1]
    # the decay removes most of the hill part; the river part is what WSD gains
    assert r["hill"][1, -1] < 0.3 * r["hill"][1, stable].mean()
    assert r["river"][1, -1] < r["river"][0, -1]


def test_hill_excess_linear_in_lr():
    lr = np.linspace(0.05, 0.5, 5)
    sw = rv.simulate_sgd(V, np.repeat(lr[:, None], 3200, 1), seeds=64, every=32, seed=0)
    hill = sw["hill"][:, sw["steps"] >= 1600].mean(1)
    np.testing.assert_allclose(hill, rv.hill_steady_state(V, lr), rtol=0.05)
    k = lr @ hill / (lr @ lr)
    r2 = 1 - ((hill - k * lr) ** 2).sum() / ((hill - hill.mean()) ** 2).sum()
    assert r2 > 0.99


def test_cyclic_and_wsds_specs():
    cyc = parse("cyclic:peak=0.5,steps=400,cycles=4")
    lr = cyc.render(400)
    assert lr[0] == 0.5 and lr[100] == 0.5 and lr[99] < 0.01
    w = parse("wsds:peak=0.5,budgets=200/400,decay=0.1").render(400)
    assert w[199] < 0.05 and w[200] == 0.5 and w[150] == 0.5


def test_laws_fitted_on_two_simulated_schedules_predict_a_third():
    specs = ["cosine:peak=0.5,steps=1000", "wsd:peak=0.5,steps=1000,decay=0.2",
             "twostage:peak=0.5,low=0.1,switch=700,steps=1000", "wsd:peak=0.5,steps=1000,decay=0.5,shape=sqrt"]
    lrs = _lrs(specs)
    curves = rv.to_curves(rv.expected(V, lrs, every=20), lrs, ["cos", "wsd", "two", "sqrt"])
    assert list(curves[0].to_frame().columns) == ["step", "lr", "loss"]
    for law_cls in (MomentumLaw, MultiPowerLaw):
        law = law_cls().fit(curves[:2])
        for c in curves[2:]:
            err = np.abs(law.predict(c) - c.loss) / c.loss
            # simulated curves are smooth: a law that captures area + annealing is well under 1%
            assert err.mean() < 0.005 and err.max() < 0.02, (law.name, c.name, err.mean(), err.max())


def test_cli_river_valley(tmp_path, written):
    out = tmp_path / "o"
    r = CliRunner().invoke(cli, ["simulate", "river-valley", "--schedule", "cosine:peak=0.5,steps=1000",
                                 "--schedule", "wsd:peak=0.5,steps=1000,decay=0.2",
                                 "--schedule", "wsds:peak=0.5,budgets=500/1000,decay=0.1",
                                 "--seeds", "32", "--sweep-lrs", "0.1,0.3,0.5", "--device", "cpu", "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = written(out)
    assert m["wsd_below_cosine_final"] is True and m["wsd_above_cosine_stable_frac"] > 0.9
    assert m["hill_lr_r2"] > 0.98 and m["wsds_minus_wsd_max"] is not None
    # the theory slope: the same through-origin fit applied to the exact steady state at the same LRs
    lr = np.array([0.1, 0.3, 0.5])
    th = rv.hill_steady_state(V, lr)
    assert m["hill_lr_slope_theory"] == pytest.approx(lr @ th / (lr @ lr), rel=1e-12)
    assert m["hill_lr_slope_small_lr_theory"] == pytest.approx(0.15 / 4)
    # WSD-S vs WSD, like with like: the WSD run of each budget decays over as many steps as WSD-S did;
    # at the first budget the two schedules are the same, so the difference is exactly zero
    import pandas as pd

    w = pd.read_csv(out / "wsds_vs_wsd.csv")
    assert list(w["decay_steps"]) == [50, 50] and list(w["wsd_frac_decay_steps"]) == [50, 100]
    assert w["wsds_minus_wsd_same_decay"].iloc[0] == 0.0
    assert m["wsds_minus_wsd_same_decay_max"] == pytest.approx(w["wsds_minus_wsd_same_decay"].max())
    assert "exact theory at the same LRs" in r.output
    assert m["law_multipower_heldout_pred_e"] < 0.01
    # the curve files read back through the readers with the exact LR history
    from cltk.analytics.curve_files import read_curve

    res = json.loads((out / "law_multipower.json").read_text())
    assert res["law"] == "multipower"
    c1 = read_curve(out / "curves" / "wsd.csv")
    c2 = read_curve(out / "curves.csv", lr_col="wsd/lr", loss_col="wsd/loss")
    lrs = parse("wsd:peak=0.5,steps=1000,decay=0.2").render(1000)
    np.testing.assert_allclose(c1.lrs, np.concatenate([[0.0], lrs]))
    np.testing.assert_allclose(c2.lrs, c1.lrs)
    np.testing.assert_allclose(c2.loss, c1.loss)
    assert c1.steps[0] == 10 and c1.steps[-1] == 1000
    assert m["final_loss_wsd"] == pytest.approx(c1.loss[-1])
    for f in ("report.html", "river_valley_curves.png", "curves/wsd.csv", "law_momentum.json"):
        assert (out / f).exists()


@pytest.mark.parametrize("args, needle", [
    (["--curv", "0.1,-1"], "--curv"),
    (["--curv", "a,b"], "--curv"),
    (["--schedule", "cosine:peak=5,steps=100"], "diverge"),
    (["--schedule", "cyclic:peak=0.5"], "cyclic"),
    (["--seeds", "0"], "--seeds"),
    (["--noise", "0.1,0.1"], "--noise"),
    (["--floor", "0"], "--floor"),
    (["--sweep-lrs", "0.1,0"], "--sweep-lrs"),
    (["--device", "gpu"], "--device"),
])
def test_cli_river_bad_options(tmp_path, args, needle, bad_flag):
    bad_flag(CliRunner().invoke(cli, ["simulate", "river-valley", "--out", str(tmp_path / "o")] + args), needle)
