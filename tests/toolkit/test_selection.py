import json

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.analytics.curve_files import read_curve
from cltk.analytics.protocols import MPL_25M
from cltk.cli.main import cli
from cltk.curves import Curve
from cltk.laws import MomentumLaw, MultiPowerLaw
from cltk.schedules import parse
from cltk.selection import SelectionError, select_schedule

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
