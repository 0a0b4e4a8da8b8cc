"""The laws' Python API, scikit-learn style (issue 15): predict any target (a Curve, a Schedule, a spec
string or a per-step LR array) with one and the same result, never past the end of its LRs;
bootstrap() on the fit curves it kept; get_params / set_params / repr / clone."""
from __future__ import annotations

import doctest
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn.base

from cltk.curves import Curve
from cltk.laws import ALL_LAWS, CPTLaw, LawError, MomentumLaw, MultiPowerLaw, PowerAnnealLaw, load_law
from cltk.laws.params import constructor_defaults
from cltk.laws.targets import DEFAULT_POINTS
from cltk.schedules import ScheduleError, parse

PEAK = 3e-4
FIT = {"cosine": f"cosine:peak={PEAK},steps=4000,final=3e-5,warmup=200",
       "twostage": f"twostage:peak={PEAK},low=6e-5,switch=2000,steps=4000,warmup=200",
       "constant": f"warmup:peak={PEAK},steps=200 + constant:lr={PEAK},steps=3800"}
WSD = f"wsd:peak={PEAK},steps=4000,decay=0.2,shape=sqrt,final=3e-5,warmup=200"


def truth() -> MultiPowerLaw:
    law = MultiPowerLaw()
    law.params_ = {"L0": 3.0, "A": 0.6, "B": 400.0, "alpha": 0.45, "C": 2.0, "beta": 0.55, "gamma": 0.5}
    return law


def fit_curves() -> list[Curve]:
    rng = np.random.default_rng(0)
    steps = np.arange(250, 4000, 50)
    out = []
    for name, spec in FIT.items():
        c = Curve.from_schedule(name, parse(spec), steps)
        c.loss = truth().predict(c) * (1 + 1e-3 * rng.standard_normal(len(steps)))
        out.append(c)
    return out


@pytest.fixture(scope="module")
def fitted() -> PowerAnnealLaw:
    return PowerAnnealLaw(n_candidates=16, n_refine=1).fit(fit_curves()).bootstrap(n=4, seed=1)


# --- predict: one result whatever the form of the target --------------------------------------------

def test_spec_string_schedule_and_array_predict_exactly_alike(fitted):
    sched = parse(WSD)
    lrs = sched.render()  # lrs[i] is the LR of step i, as Curve.lrs
    by = {"spec": fitted.predict(WSD), "schedule": fitted.predict(sched), "array": fitted.predict(lrs),
          "list": fitted.predict(lrs.tolist())}
    assert by["spec"].shape == (DEFAULT_POINTS,)
    for v in by.values():
        np.testing.assert_array_equal(v, by["schedule"])
    at = [1, 200, 201, 3199, 3200, 3999]  # first update, end of warmup, start of decay, last step
    curve = Curve.from_schedule("wsd", sched, at)
    want = fitted.predict(curve)
    for target in (WSD, sched, lrs):
        np.testing.assert_array_equal(fitted.predict(target, steps=at), want)
        np.testing.assert_array_equal(fitted.predict_replicates(target, steps=at), fitted.predict_replicates(curve))
        for a, b in zip(fitted.predict_interval(target, steps=at), fitted.predict_interval(curve)):
            np.testing.assert_array_equal(a, b)
    # an array longer than the steps asked for predicts as its prefix does (the loss at t reads lrs[0..t])
    np.testing.assert_array_equal(fitted.predict(lrs[:2000], steps=at[:3]), want[:3])


def test_steps_in_any_order_and_repeated(fitted):
    at = np.array([3999, 5, 2000, 5, 3000])
    got = fitted.predict(WSD, steps=at)
    sorted_pred = fitted.predict(WSD, steps=[5, 2000, 3000, 3999])
    np.testing.assert_array_equal(got, sorted_pred[[3, 0, 1, 0, 2]])
    assert fitted.predict_replicates(WSD, steps=at).shape == (4, 5)


@pytest.mark.parametrize("target", [WSD, parse(WSD), parse(WSD).render(), Curve.from_schedule("w", parse(WSD), [3999])],
                         ids=["spec", "schedule", "array", "curve"])
def test_a_step_past_the_end_is_an_error_never_the_last_lr_held(fitted, target):
    for method in (fitted.predict, fitted.predict_interval, fitted.predict_replicates):
        with pytest.raises(LawError, match=r"step 4000 is (past the end|beyond)") as e:
            method(target, steps=[100, 4000])
        assert "\n" not in str(e.value) and method.__name__ in str(e.value)
    # the last step is fine
    assert np.isfinite(fitted.predict(target, steps=[3999])).all()


def test_bad_targets_and_steps_are_one_line_errors(fitted):
    cases = [
        ("wsd:peak=3e-4,steps=x", {}, ScheduleError, "schedule spec 'wsd:peak=3e-4,steps=x'"),
        ("cosine:peak=1e-3", {}, ScheduleError, "missing steps"),
        (np.array([1e-3, np.nan, 1e-3]), {}, LawError, "LR of step 1 in the LR array is nan"),
        (np.array([1e-3, -1e-3, 1e-3]), {}, LawError, "LR of step 1 in the LR array is -0.001"),
        (np.ones((3, 2)), {}, LawError, r"1-D array of per-step LRs, got an array of shape \(3, 2\)"),
        ({"lr": 1}, {}, LawError, "got dict"),
        (WSD, {"steps": [0]}, LawError, "step 0 of schedule .* comes before any LR area"),
        (WSD, {"steps": [1.5]}, LawError, "whole numbers, got 1.5"),
        (WSD, {"steps": [-3]}, LawError, ">= 0, got -3"),
        (WSD, {"steps": []}, LawError, "non-empty"),
        ("invsqrt:peak=1e-3,warmup=100", {}, LawError, "unbounded: give the steps"),
        (np.zeros(100), {}, LawError, "before any LR area"),
    ]
    for target, kw, err, needle in cases:
        with pytest.raises(err, match=needle) as e:
            fitted.predict(target, **kw)
        assert "\n" not in str(e.value), str(e.value)
    # an unbounded schedule predicts wherever it is asked
    assert fitted.predict("invsqrt:peak=1e-3,warmup=100", steps=[10**5]).shape == (1,)


def test_a_warmup_from_zero_starts_the_default_steps_at_step_1(fitted):
    lrs = parse(WSD).render()
    assert lrs[0] == 0
    zero_first = np.r_[np.zeros(10), lrs]  # ten idle steps: the default starts at the first LR area
    assert np.isfinite(fitted.predict(zero_first)).all()


# --- bootstrap without the data again -----------------------------------------------------------------

def test_bootstrap_without_curves_refits_on_the_fit_curves():
    curves = fit_curves()
    a = PowerAnnealLaw(n_candidates=16, n_refine=1).fit(curves).bootstrap(n=4, seed=7)
    b = PowerAnnealLaw(n_candidates=16, n_refine=1).fit(curves).bootstrap(curves, n=4, seed=7)
    assert a.boot_params_ == b.boot_params_ and a.cv_quantiles_ == b.cv_quantiles_
    assert len(a.boot_params_) == 4 and a.fit_curves_ == curves
    # the reference stays out of the law file, whose fields are those it always had
    data = json.loads(a.to_json())
    assert set(data) == {"law", "format_version", "config", "params", "bootstrap", "cv_quantiles", "fit_info"}
    again = load_law(a.to_json())
    assert again.boot_params_ == a.boot_params_
    with pytest.raises(LawError, match=r"law file keeps none: call bootstrap\(curves\) .*\(cosine, twostage, "
                                       r"constant\)"):
        again.bootstrap()
    again.bootstrap(curves, n=4, seed=7)  # given the curves, a loaded law bootstraps as the fitted one did
    assert again.boot_params_ == a.boot_params_


# --- get_params / set_params / repr / clone -------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL_LAWS))
def test_params_round_trip_and_clone_for_every_law(name):
    cls = ALL_LAWS[name]
    law = cls(seed=3, n_refine=2)
    params = law.get_params()
    assert set(params) == set(constructor_defaults(cls)) and params["seed"] == 3
    twin = cls(**params)  # clone: an unfitted law of the same configuration
    assert twin.get_params() == params and repr(twin) == repr(law) and not hasattr(twin, "params_")
    skl = sklearn.base.clone(law)  # scikit-learn's own clone accepts it (it checks every parameter is kept as given)
    assert type(skl) is cls and skl.get_params() == params
    assert law.set_params(seed=5) is law and law.get_params() == {**params, "seed": 5}
    assert law.get_params(deep=False) == law.get_params()


def test_set_params_checks_before_changing_anything():
    law = MomentumLaw(lam=0.999)
    assert law.get_params()["lam"] == 0.999 and law.fixed == {"lam": 0.999}
    with pytest.raises(LawError, match="unknown parameter\\(s\\) 'exact'"):
        law.set_params(exact=8)  # a multipower argument, not a momentum one
    with pytest.raises(LawError, match="curve_weighting must be"):
        law.set_params(seed=9, curve_weighting="bogus")
    with pytest.raises(LawError, match="set_params: invalid literal"):
        MultiPowerLaw().set_params(exact="many")
    assert law.get_params()["seed"] == 0 and law.curve_weighting == "equal"  # unchanged by the refused calls
    law.set_params(lam=None, alpha=0.4)  # None frees a fixed nonlinear parameter; a name fixes one
    assert law.fixed == {"alpha": 0.4} and "lam" not in law.get_params()
    assert repr(law) == "MomentumLaw(alpha=0.4)"


def test_repr_shows_non_default_arguments_and_the_fit():
    assert repr(PowerAnnealLaw()) == "PowerAnnealLaw()"
    assert repr(PowerAnnealLaw(seed=3, rel_width=1 / 32)) == "PowerAnnealLaw(seed=3)"
    assert repr(MomentumLaw(lam=0.999)) == "MomentumLaw(lam=0.999)"
    assert repr(CPTLaw(domain="new")) == "CPTLaw(domain='new')"
    # the paper procedure weighs every point (the constructor says so): the repr shows what is in use
    assert repr(MultiPowerLaw(procedure="paper")) == "MultiPowerLaw(curve_weighting='points', procedure='paper')"
    law = MomentumLaw(lam=0.999)
    assert eval(repr(law), {"MomentumLaw": MomentumLaw}).get_params() == law.get_params()
    law.fit(fit_curves())
    assert repr(law) == "MomentumLaw(lam=0.999) [fitted on 3 curves]"
    assert repr(law.bootstrap(n=2)) == "MomentumLaw(lam=0.999) [fitted on 3 curves, 2 bootstrap replicates]"
    assert repr(truth()) == "MultiPowerLaw() [fitted]"  # parameters set by hand: no fit record


def test_power_anneal_references_survive_the_law_file(fitted):
    # eta_ref / s_ref are fixed at the first fit and saved in the config: the loaded law predicts alike,
    # while get_params keeps the constructor's (None) so a clone fixes its own at its own fit
    again = load_law(fitted.to_json())
    np.testing.assert_array_equal(again.predict(WSD), fitted.predict(WSD))
    assert fitted.get_params()["eta_ref"] is None and again.get_params()["eta_ref"] == PEAK


# --- the sessions shown in docs/python-api.md print what they say -------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"
SESSIONS = re.findall(r"```pycon\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize("i", range(len(SESSIONS)))
def test_doc_session_prints_what_it_shows(i, monkeypatch):
    assert len(SESSIONS) >= 2, "docs/python-api.md lost its sessions"
    monkeypatch.setitem(sys.modules, "optax", None)  # the to_optax line shows the error without optax
    test = doctest.DocTestParser().get_doctest(SESSIONS[i], {}, f"python-api.md session {i + 1}", str(DOC), 0)
    assert test.examples, "a session without examples"
    out = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=out.append)
    assert result.failed == 0, "".join(out)


def test_paired_interval_holds_its_point_and_keeps_the_replicates_spread():
    from cltk.laws.intervals import paired_interval

    rng = np.random.default_rng(0)
    d = 0.05 + 0.002 * rng.standard_normal(1000)  # replicates whose median drifted below the fit
    lo, hi = paired_interval(0.06, d, 0.9)
    q05, med, q95 = np.quantile(d, [0.05, 0.5, 0.95])
    assert lo < 0.06 < hi
    assert (lo, hi) == pytest.approx((0.06 - (med - q05), 0.06 + (q95 - med)), abs=1e-15)
    assert paired_interval(0.0, np.zeros(8), 0.9) == (0.0, 0.0)  # identical schedules: no width
