import json

import numpy as np
import pytest

from cltk.curves import Curve
from cltk.laws import LawError, MomentumLaw, MultiPowerLaw, get_law, load_law
from cltk.schedules import parse

PEAK = 3e-4
SPECS = {
    "cosine": f"cosine:peak={PEAK},steps=8000,final=3e-5,warmup=300",
    "constant": f"warmup:peak={PEAK},steps=300 + constant:lr={PEAK},steps=7700",
    "twostage": f"twostage:peak={PEAK},low=6e-5,switch=4000,steps=8000,warmup=300",
    "wsd": f"wsd:peak={PEAK},steps=8000,decay=0.25,shape=sqrt,final=1e-5,warmup=300",
}
STEPS = np.arange(400, 8000, 50)


def curves_from(law, noise, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, spec in SPECS.items():
        s = parse(spec)
        c = Curve.from_schedule(name, s, STEPS)
        y = law.predict(c)
        out[name] = Curve(name, STEPS, y * (1 + noise * rng.standard_normal(len(y))), c.lrs)
    return out


def mpl_truth():
    law = MultiPowerLaw()
    law.params_ = {"L0": 3.0, "A": 0.6, "B": 400.0, "alpha": 0.45, "C": 2.0, "beta": 0.55, "gamma": 0.5}
    return law


def exact_mpl(p, curve):
    """Luo et al. (2025) Eq. 4 summed step by step, O(points x steps)."""
    eta = curve.lrs
    S1 = np.cumsum(eta)
    w = int(np.flatnonzero(np.diff(eta) < 0)[0]) if np.any(np.diff(eta) < 0) else len(eta) - 1
    out = []
    for t in curve.steps:
        k = np.arange(w + 1, t + 1)
        Sk = S1[t] - S1[k - 1]
        G = 1 - (p["C"] * eta[k] ** -p["gamma"] * Sk + 1) ** -p["beta"]
        out.append(p["L0"] + p["A"] * S1[t] ** -p["alpha"] - p["B"] * np.sum((eta[k - 1] - eta[k]) * G))
    return np.array(out)


@pytest.mark.parametrize("name", list(SPECS))
def test_multipower_binned_sum_matches_exact_sum(name):
    law = mpl_truth()
    c = Curve.from_schedule(name, parse(SPECS[name]), STEPS[::7])
    assert np.max(np.abs(law.predict(c) - exact_mpl(law.params_, c))) < 2e-6


@pytest.mark.parametrize("law_cls", [MultiPowerLaw, MomentumLaw])
def test_analytic_jacobian_matches_finite_differences(law_cls):
    law = law_cls()
    c = Curve.from_schedule("c", parse(SPECS["cosine"]), STEPS[::10])
    prep = law._prepare(c, c.steps)
    nl = np.array([0.45, 2.0, 0.55, 0.5]) if law_cls is MultiPowerLaw else np.array([0.45, 0.995])
    _, dF = law._features(nl, prep, True)
    for i in range(len(nl)):
        h = 1e-6 * nl[i]
        up, dn = nl.copy(), nl.copy()
        up[i] += h
        dn[i] -= h
        num = (law._features(up, prep, False) - law._features(dn, prep, False)) / (2 * h)
        assert np.allclose(dF[:, :, i], num, rtol=1e-4, atol=1e-8 * np.abs(num).max())


def test_multipower_recovers_known_parameters():
    truth = mpl_truth()
    cs = curves_from(truth, noise=3e-4)
    law = MultiPowerLaw().fit([cs["cosine"], cs["constant"], cs["twostage"]])
    p = law.params_
    assert p["L0"] == pytest.approx(3.0, rel=0.02)
    assert p["alpha"] == pytest.approx(0.45, rel=0.1)
    pred = law.predict(cs["wsd"])
    clean = truth.predict(cs["wsd"])
    assert np.mean(np.abs(pred - clean) / clean) < 5e-4


def test_momentum_recovers_known_parameters():
    truth = MomentumLaw()
    truth.params_ = {"L0": 3.0, "A": 0.6, "C": 5.0, "alpha": 0.45, "lam": 0.995}
    cs = curves_from(truth, noise=3e-4)
    law = MomentumLaw().fit([cs["cosine"], cs["constant"], cs["twostage"]])
    assert law.params_["lam"] == pytest.approx(0.995, abs=0.002)
    assert law.params_["alpha"] == pytest.approx(0.45, rel=0.1)
    assert law.params_["C"] == pytest.approx(5.0, rel=0.15)
    clean = truth.predict(cs["wsd"])
    assert np.mean(np.abs(law.predict(cs["wsd"]) - clean) / clean) < 5e-4


def test_fixed_lambda_and_json_roundtrip():
    truth = mpl_truth()
    cs = curves_from(truth, noise=0.0)
    law = MomentumLaw(lam=0.999).fit(list(cs.values()))
    assert law.params_["lam"] == 0.999
    again = load_law(law.to_json())
    assert isinstance(again, MomentumLaw) and again.params_ == law.params_
    assert np.array_equal(again.predict(cs["wsd"]), law.predict(cs["wsd"]))
    mp = load_law(MultiPowerLaw().fit([cs["cosine"], cs["twostage"]]).to_json())
    assert isinstance(mp, MultiPowerLaw)
    # predict a schedule directly (no curve): 512 points over its length
    assert mp.predict(parse(SPECS["wsd"])).shape == (512,)


def test_law_errors():
    with pytest.raises(LawError, match="unknown law"):
        get_law("chinchilla")
    with pytest.raises(LawError, match="call fit"):
        MultiPowerLaw().predict(parse(SPECS["wsd"]))
    d = json.loads(load_law(json.dumps({"law": "momentum", "format_version": 1, "params": {
        "L0": 1, "A": 1, "C": 1, "alpha": 0.5, "lam": 0.9}})).to_json())
    d["format_version"] = 99
    with pytest.raises(LawError, match="format_version 99"):
        load_law(json.dumps(d))
    with pytest.raises(LawError, match="not valid JSON"):
        load_law("{")
    c = Curve("c", [10, 20], [1.0, 0.9], np.full(21, 0.1))
    with pytest.raises(LawError, match="too few logged points"):
        MultiPowerLaw().fit([c])
    with pytest.raises(LawError, match="cannot fix"):
        MultiPowerLaw(lam=0.9)


def test_bootstrap_intervals_cover_the_truth_and_survive_json():
    truth = mpl_truth()
    cs = curves_from(truth, noise=1e-3, seed=3)
    fit = [cs["cosine"], cs["constant"], cs["twostage"]]
    law = MultiPowerLaw().fit(fit).bootstrap(fit, n=16)
    lo, hi = law.predict_interval(cs["wsd"], level=0.9)
    clean = truth.predict(cs["wsd"])
    assert np.all(lo <= hi) and np.mean((lo <= clean) & (clean <= hi)) > 0.9
    again = load_law(law.to_json())
    lo2, hi2 = again.predict_interval(cs["wsd"], level=0.9)
    assert np.allclose(lo, lo2) and np.allclose(hi, hi2)
    with pytest.raises(LawError, match="bootstrap"):
        MultiPowerLaw().fit(fit).predict_interval(cs["wsd"])
