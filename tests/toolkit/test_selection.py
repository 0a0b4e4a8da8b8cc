import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.analytics.curve_files import read_curve
from cltk.analytics.protocols import MPL_25M
from cltk.cli.main import cli
from cltk.curves import Curve
from cltk.laws import MomentumLaw, MultiPowerLaw
from cltk.schedules import parse
from cltk.selection import SelectionError, cooldown_of, cross_evaluate, select_schedule, spec_fields

TRUTH = {"L0": 3.0, "A": 0.6, "B": 400.0, "alpha": 0.45, "C": 2.0, "beta": 0.55, "gamma": 0.5}


def truth_law():
    law = MultiPowerLaw()
    law.params_ = dict(TRUTH)
    return law


@pytest.mark.parametrize("family", ["wsd", "cosine", "free"])
def test_selection_returns_schedule_curve_and_table(family):
    sel = select_schedule(truth_law(), 6000, 3e-4, family=family, warmup=200)
    assert sel.schedule.steps >= 6000 and sel.schedule(0) == 0.0 and sel.schedule(200) == pytest.approx(3e-4)
    assert sel.candidates[0]["score"] == pytest.approx(sel.score)
    assert all(a["score"] <= b["score"] for a, b in zip(sel.candidates, sel.candidates[1:]))
    again = parse(sel.spec)  # the text spec rebuilds the chosen schedule
    assert again(3000.0) == pytest.approx(sel.schedule(3000.0), rel=1e-5)
    assert sel.final_loss == pytest.approx(sel.predicted[-1], rel=1e-6)


def test_free_is_no_worse_than_best_wsd_and_non_increasing():
    law = truth_law()
    best_wsd = select_schedule(law, 6000, 3e-4, family="wsd", warmup=200)
    free = select_schedule(law, 6000, 3e-4, family="free", warmup=200)
    assert free.final_loss <= best_wsd.final_loss + 1e-9
    lr = free.schedule.render(6000)[200:]
    assert np.all(np.diff(lr) <= 1e-15) and lr.min() >= 0


def test_anytime_objective_uses_wsd_s_and_checkpoints():
    sel = select_schedule(truth_law(), 8000, 3e-4, family="wsd", warmup=200, objective="anytime",
                          checkpoints=[2000, 4000, 8000])
    assert sel.spec.startswith("wsds:") and "budgets=2000/4000/8000" in sel.spec


def test_ranking_of_real_schedules_matches_reality(mpl25m):
    """Fit on cosine_24000, constant_24000, wsdcon_9; the predicted order of final loss among four
    24k-step schedules equals the real order."""
    fit = [read_curve(p, warmup_steps=MPL_25M.warmup_steps) for p in MPL_25M.paths(mpl25m, MPL_25M.fit)]
    names = ["constant_24000", "cosine_24000", "wsd_20000_24000", "wsdld_20000_24000"]
    curves = [read_curve(p, warmup_steps=MPL_25M.warmup_steps) for p in MPL_25M.paths(mpl25m, names)]
    for law in (MultiPowerLaw().fit(fit), MomentumLaw().fit(fit)):
        pred = [law.predict(c)[-1] for c in curves]
        real = [c.loss[-1] for c in curves]
        assert list(np.argsort(pred)) == list(np.argsort(real)), law.name


def test_other_source_shape_selection():
    """50k steps, warmup 300, peak 3e-3: law fitted on logs of that shape selects sensibly."""
    law = MultiPowerLaw()
    law.params_ = {"L0": 2.2, "A": 2.0, "B": 50.0, "alpha": 0.5, "C": 1.0, "beta": 0.6, "gamma": 0.5}
    steps = np.arange(350, 50000, 50)
    rng = np.random.default_rng(0)
    fit = []
    for spec in ("cosine:peak=3e-3,steps=50000,final=0,warmup=300",
                 "twostage:peak=3e-3,low=3e-4,switch=30000,steps=50000,warmup=300"):
        c = Curve.from_schedule(spec, parse(spec), steps)
        fit.append(Curve(spec, steps, law.predict(c) * (1 + 1e-3 * rng.standard_normal(len(steps))), c.lrs))
    fitted = MultiPowerLaw().fit(fit).bootstrap(fit, n=8)
    sel = select_schedule(fitted, 50000, 3e-3, family="wsd", warmup=300)
    cos = fitted.predict(parse("cosine:peak=3e-3,steps=50000,final=3e-4,warmup=300"), steps=[49999])[0]
    assert sel.final_loss < cos  # WSD beats cosine-to-10% under this law
    assert sel.interval[0] < sel.final_loss < sel.interval[1]
    truth = law.predict(Curve.from_schedule("s", sel.schedule, [49999]))[0]
    assert abs(truth - sel.final_loss) / truth < 3e-3


@pytest.mark.parametrize("kw,msg", [({"family": "step"}, "unknown family"), ({"warmup": 6000}, "must exceed"),
                                    ({"objective": "max"}, "unknown objective"), ({"peak_lr": 0.0}, "peak LR")])
def test_bad_selection_arguments(kw, msg):
    args = {"law": truth_law(), "total_steps": 6000, "peak_lr": 3e-4, **kw}
    with pytest.raises(SelectionError, match=msg):
        select_schedule(**args)


def test_select_schedule_cli(tmp_path):
    law = truth_law()
    law.fit_info_ = {}
    (tmp_path / "law.json").write_text(law.to_json())
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["select-schedule", str(tmp_path / "law.json"), "--steps", "6000", "--peak-lr",
                                 "3e-4", "--warmup", "200", "--family", "free", "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert all(not isinstance(v, (dict, list)) for v in m.values())  # flat
    assert m["chosen_final_loss"] <= m["best_grid_final_loss"] + 1e-9
    assert m["chosen_final_loss"] < m["baseline_cosine_to_10pct_final_loss"]
    c = read_curve(out / "curves.csv")  # the predicted curve is in the readers' format
    assert len(c.steps) > 100
    for f in ("selection.json", "candidates.csv", "selection.png", "report.html"):
        assert (out / f).exists()


def test_select_schedule_cli_bad_inputs(tmp_path):
    law = truth_law()
    d = json.loads(law.to_json())
    d["format_version"] = 0
    (tmp_path / "old.json").write_text(json.dumps(d))
    (tmp_path / "ok.json").write_text(law.to_json())
    base = ["--steps", "1000", "--peak-lr", "1e-3", "--out", str(tmp_path / "o")]
    for args, msg in [([str(tmp_path / "old.json"), *base], "format_version 0"),
                      ([str(tmp_path / "ok.json"), *base, "--warmup", "1000"], "must exceed"),
                      ([str(tmp_path / "ok.json"), *base, "--family", "zigzag"], "zigzag"),
                      ([str(tmp_path / "none.json"), *base], "no such file")]:
        r = CliRunner().invoke(cli, ["select-schedule", *args])
        assert r.exit_code == 2 and msg in r.output, r.output
        assert "Traceback" not in r.output


@pytest.mark.parametrize("spec,fraction,shape,ratio,words", [
    ("wsd:peak=3e-4,steps=6000,decay=0.2275,shape=linear,final=0,warmup=200", 0.2275, "linear", 0.0,
     "a 22.75% linear cooldown to 0"),
    ("wsd:peak=3e-4,steps=6000,decay=0.091,shape=exp,final=3e-6,warmup=200", 0.091, "exp", 0.01,
     "a 9.1% exp cooldown to 0.01x peak"),
    # cosine to 10%: first below 99.9% of peak where 0.1 + 0.9 (1 + cos(pi u)) / 2 = 0.999, u = (t - 200) / 5800
    ("cosine:peak=3e-4,steps=6000,final=3e-5,warmup=200",
     (6000 - math.ceil(200 + 5800 * math.acos(2 * 0.899 / 0.9 - 1) / math.pi) + 1) / 6000, "cosine", 0.1, None),
    # holding the peak to step 4000, then linear to 0 at step 5999: first below 99.9% at step 4002
    ("piecewise:at=0/4000/5999,lr=3e-4/3e-4/0", 1999 / 6000, "piecewise", 0.0, "a 33.32% free-form cooldown to 0")])
def test_cooldown_of_reads_length_shape_and_end(spec, fraction, shape, ratio, words):
    c = cooldown_of(parse(spec), 6000, 200 if "warmup" in spec else 0)
    assert c["fraction"] == pytest.approx(fraction, abs=1 / 6000) and c["shape"] == shape
    assert c["final_ratio"] == pytest.approx(ratio, abs=1e-12)
    assert words is None or c["words"] == words


def test_spec_fields_reads_the_last_part():
    assert spec_fields("warmup:peak=1,steps=5 + wsd:peak=1,decay=0.2") == ("wsd", {"peak": "1", "decay": "0.2"})


def test_cross_evaluate_regrets_are_paired_differences():
    """Two laws, two schedules: the regret of a schedule under a law is that law's loss of it minus
    its loss of its own choice, exactly; with replicates that shift L0 only, the paired interval is
    that single number and the difference counts as resolved."""
    a, b = truth_law(), truth_law()
    b.params_["C"] = 20.0
    a.boot_params_ = [{**a.params_, "L0": a.params_["L0"] + d} for d in (-0.02, 0.0, 0.02)]
    a.cv_quantiles_ = []
    sa, sb = (parse(f"wsd:peak=3e-4,steps=6000,decay={d},shape=linear,final=0,warmup=200") for d in (0.3, 0.05))
    rows = cross_evaluate({"a": a, "b": b}, {"a": sa, "b": sb}, [5999])
    by = {(r["schedule_of"], r["law"]): r for r in rows}
    loss = {(k, j): law.predict(s, steps=[5999])[0] for k, s in (("a", sa), ("b", sb))
            for j, law in (("a", a), ("b", b))}
    assert by["a", "a"]["regret"] == 0 and by["b", "b"]["regret"] == 0
    assert by["b", "a"]["regret"] == pytest.approx(loss["b", "a"] - loss["a", "a"], abs=1e-12)
    assert by["a", "b"]["regret"] == pytest.approx(loss["a", "b"] - loss["b", "b"], abs=1e-12)
    assert by["b", "a"]["regret_lo"] == pytest.approx(by["b", "a"]["regret"], abs=1e-12)
    assert by["b", "a"]["resolved"] is (by["b", "a"]["regret"] != 0)
    assert by["a", "b"]["regret_lo"] is None and by["a", "b"]["lo"] is None  # b has no replicates
    assert by["a", "a"]["lo"] < by["a", "a"]["score"] < by["a", "a"]["hi"]
