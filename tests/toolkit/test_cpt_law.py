import numpy as np
import pytest

from cltk.curves import Curve
from cltk.laws import CPTLaw, LawError, load_law
from cltk.schedules import cosine, join, rewarm

T_PT, T_CPT = 3000, 2000
TRUTH = {"L0": 2.0, "A": 0.8, "C1": 3.0, "C2": 3.0, "B": 0.3, "alpha": 0.4, "lam": 0.995, "E": 0.5, "beta": 0.7,
         "rho": 2.0}


def cpt_curve(name, peak, warm, replay, law, noise, rng):
    sched = join(cosine(1e-3, T_PT, final=1e-4, warmup=100), rewarm(1e-4, peak, warm, T_CPT, final=1e-5))
    steps = np.arange(200, T_PT + T_CPT, 20)
    c = Curve(name, steps, np.ones(len(steps)), sched.render(T_PT + T_CPT), {"cpt_start": T_PT, "replay": replay})
    y = law.predict(c)
    return Curve(name, steps, y * (1 + noise * rng.standard_normal(len(y))), c.lrs, c.meta)


@pytest.mark.parametrize("domain", ["old", "new"])
def test_cpt_law_recovers_unseen_setting(domain):
    truth = CPTLaw(domain=domain)
    truth.params_ = dict(TRUTH)
    rng = np.random.default_rng(0)
    settings = [(1e-3, 100, 0.0), (3e-4, 100, 0.0), (1e-3, 400, 0.2), (3e-4, 400, 0.1)]
    curves = [cpt_curve(f"s{i}", *s, truth, 5e-4, rng) for i, s in enumerate(settings)]
    law = CPTLaw(domain=domain).fit(curves[:3])
    clean = truth.predict(curves[3])
    pred = law.predict(curves[3])
    assert np.max(np.abs(pred - clean) / clean) < 5e-3
    # without replay the old domain's loss is higher (forgetting) and the new domain's lower than
    # with full replay (no distribution shift)
    c = curves[3]
    full_replay = Curve(c.name, c.steps, c.loss, c.lrs, {**c.meta, "replay": 1.0})
    gap = law.predict(c)[-1] - law.predict(full_replay)[-1]
    assert (gap > 0) == (domain == "old") and abs(gap) > 0.01
    again = load_law(law.to_json())
    assert isinstance(again, CPTLaw) and again.domain == domain
    assert np.allclose(again.predict(curves[3]), pred)


def test_cpt_law_needs_switch_step():
    c = Curve("x", np.arange(10, 210, 10), np.linspace(3, 2, 20), np.full(201, 1e-3))
    with pytest.raises(LawError, match="cpt_start"):
        CPTLaw().fit([c])
    with pytest.raises(LawError, match="domain"):
        CPTLaw(domain="middle")


def test_select_cpt_picks_the_setting_the_laws_prefer():
    from cltk.selection import SelectionError, select_cpt

    old, new = CPTLaw(domain="old"), CPTLaw(domain="new")
    old.params_, new.params_ = dict(TRUTH), dict(TRUTH)
    pre = cosine(1e-3, T_PT, final=1e-4, warmup=100)
    sel = select_cpt(old, new, pre, T_CPT, peaks=[3e-4, 1e-3], warmups=[50, 200], replays=[0.0, 0.5], weight_old=1.0)
    assert len(sel.candidates) == 8 and sel.score == min(r["score"] for r in sel.candidates)
    assert sel.replay == 0.5  # only the old domain counts: replay reduces its forgetting
    sel_new = select_cpt(old, new, pre, T_CPT, peaks=[3e-4, 1e-3], replays=[0.0, 0.5], weight_old=0.0)
    assert sel_new.replay == 0.0
    with pytest.raises(SelectionError, match="old domain"):
        select_cpt(new, new, pre, T_CPT, peaks=[1e-3])
