"""``cltk predict``: a law's predictions of schedules, ranked, as fit-scaling predicts them."""
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cltk.analytics.curve_files import read_curve, write_curve_csv
from cltk.analytics.demo_curves import PEAK, STEPS, WARMUP, synthetic_curves
from cltk.analytics.fit_scaling.job import run_fit_scaling
from cltk.analytics.result import write_result
from cltk.cli.main import cli

# the schedule of the 25M run wsd_20000_24000 (../shared/data/loss-curves/mpl-25m/README.md): linear
# warmup to 3e-4 over 2160 steps, constant to step 20000, geometric decay to 3e-5 at step 24000
WSD_25M = "wsd:peak=3e-4,steps=24000,decay=4000,shape=exp,final=3e-5,warmup=2160"


def _invoke(*args):
    return CliRunner().invoke(cli, ["predict", *map(str, args)])


def test_predicts_wsd_20000_24000_as_fit_scaling_does(mpl25m, tmp_path):
    """Acceptance (issue 15): the same law predicts the same final loss from the schedule's spec as
    fit-scaling from the logged file. The file's LR history is rebuilt by linear interpolation
    between LRs logged every 128 steps, the spec gives every step's LR exactly: the two histories
    differ only around the decay's start (the file's decay starts at the logged step 19936, not
    20000), which moves the loss right after it by ~5e-4 and the final loss by ~3e-6."""
    fit = [read_curve(mpl25m / f"{n}.csv", warmup_steps=2160) for n in ("cosine_24000", "constant_24000", "wsdcon_9")]
    held = read_curve(mpl25m / "wsd_20000_24000.csv", warmup_steps=2160)
    write_result(run_fit_scaling(fit, [held], n_boot=4), tmp_path / "fit")
    r = _invoke(tmp_path / "fit" / "law.json", "--schedule", f"wsd_20000_24000={WSD_25M}",
                "--steps", ",".join(map(str, held.steps)), "--out", tmp_path / "p")
    assert r.exit_code == 0, r.output
    ref = pd.read_csv(tmp_path / "fit" / "predictions.csv").query("curve == 'wsd_20000_24000'")
    got = pd.read_csv(tmp_path / "p" / "predictions.csv")
    np.testing.assert_array_equal(got["step"], ref["step"])
    assert abs(got["pred"].iloc[-1] - ref["pred"].iloc[-1]) < 1e-4
    assert abs(got["pred_lo"].iloc[-1] - ref["pred_lo"].iloc[-1]) < 1e-4
    before = got["step"] < 19936  # where both LR histories are the same, so are the predictions
    np.testing.assert_allclose(got["pred"][before], ref["pred"][before.values], rtol=0, atol=1e-9)
    m = json.loads((tmp_path / "p" / "metrics.json").read_text())
    assert m["best"] == "wsd_20000_24000" and m["schedules"][0]["final_step"] == 23904
    assert m["notes"] == []  # fit-scaling's own notes (none here) are carried over from its metrics.json


@pytest.fixture(scope="module")
def synthetic_law(tmp_path_factory):
    """A law fitted (4 bootstrap refits) on the synthetic curves, with and without an annealing run."""
    root = tmp_path_factory.mktemp("laws")
    curves = synthetic_curves()
    for n, c in curves.items():
        write_curve_csv(c, root / f"{n}.csv")
    for out, names in (("fit", ["cosine", "constant", "twostage"]), ("const", ["constant"])):
        fit = [read_curve(root / f"{n}.csv", warmup_steps=WARMUP) for n in names]
        write_result(run_fit_scaling(fit, n_boot=4), root / out)
    return root


def test_ranks_schedules_with_paired_differences(synthetic_law, tmp_path):
    specs = {"wsd": f"wsd:peak={PEAK},steps={STEPS},decay=0.2,shape=sqrt,warmup={WARMUP}",
             "cos": f"cosine:peak={PEAK},steps={STEPS},final={0.1 * PEAK},warmup={WARMUP}",
             "flat": f"wsd:peak={PEAK},steps={STEPS},decay=0,warmup={WARMUP}"}
    r = _invoke(synthetic_law / "fit" / "law.json", *[a for n, s in specs.items() for a in ("--schedule", f"{n}={s}")],
                "--out", tmp_path)
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "metrics.json").read_text())
    rows = m["schedules"]
    assert [r["rank"] for r in rows] == [1, 2, 3] and m["n_replicates"] == 4
    finals = [r["final_loss"] for r in rows]
    assert finals == sorted(finals) and m["best"] == rows[0]["name"] and rows[0]["diff_vs_best"] == 0
    assert rows[-1]["name"] == "flat"  # no cooldown: the highest final loss under any annealing law
    for r in rows[1:]:
        assert r["diff_vs_best"] == pytest.approx(r["final_loss"] - rows[0]["final_loss"])
        assert r["diff_lo"] <= r["diff_hi"] and r["diff_excludes_zero"] == (r["diff_lo"] > 0 or r["diff_hi"] < 0)
        assert r["final_lo"] < r["final_loss"] < r["final_hi"]
    # the predicted curve: 512 steps spread over each schedule, the final loss its last point
    pred = pd.read_csv(tmp_path / "predictions.csv")
    for r in rows:
        one = pred[pred["schedule"] == r["name"]]
        assert len(one) == 512 and one["step"].iloc[-1] == STEPS - 1 and one["pred"].iloc[-1] == r["final_loss"]
    comp = pd.read_csv(tmp_path / "comparison.csv")
    assert list(comp["name"]) == [r["name"] for r in rows]
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64" in html and "Lowest predicted final loss: " + rows[0]["name"] in html
    assert (tmp_path / "predictions.png").exists()


def test_law_fitted_without_annealing_says_decay_is_a_guess(synthetic_law, tmp_path):
    spec = f"wsd:peak={PEAK},steps={STEPS},decay=0.2,warmup={WARMUP}"
    r = _invoke(synthetic_law / "const" / "law.json", "--schedule", spec, "--out", tmp_path / "a")
    assert r.exit_code == 0, r.output
    assert "are guesses" in r.output
    m = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert any("are guesses" in n for n in m["notes"]) and m["schedules"][0]["name"] == spec
    # a law file alone (no fit metrics beside it): law.json records its annealing fit curves (none)
    alone = tmp_path / "alone"
    alone.mkdir()
    data = json.loads((synthetic_law / "const" / "law.json").read_text())
    (alone / "law.json").write_text(json.dumps(data))
    r = _invoke(alone / "law.json", "--schedule", spec, "--out", tmp_path / "b")
    assert r.exit_code == 0 and "are guesses" in r.output
    # a law file written before that record existed: the command says it cannot know
    for key in ("annealing_curves", "notes", "fit_lr_max"):
        del data["fit_info"][key]
    (alone / "law.json").write_text(json.dumps(data))
    r = _invoke(alone / "law.json", "--schedule", spec, "--out", tmp_path / "c")
    assert r.exit_code == 0 and "is unknown" in r.output


@pytest.mark.parametrize("args, message", [
    (["--schedule", "wsd:peak=1e-3"], "Invalid value for '--schedule'"),
    (["--schedule", "a=constant:lr=1e-3,steps=100", "--schedule", "a=constant:lr=2e-3,steps=100"], "given twice"),
    (["--schedule", "constant:lr=1e-3,steps=100", "--steps", "50,100"], "beyond"),
    (["--schedule", "invsqrt:peak=1e-3,warmup=10"], "give --steps"),
    (["--schedule", "constant:lr=1e-3,steps=100", "--steps", "0:10:2"], ">= 1"),
    (["--schedule", "constant:lr=1e-3,steps=100", "--steps", "1:9:0"], "range A:B:S"),
])
def test_bad_flags_are_one_line(synthetic_law, tmp_path, args, message):
    r = _invoke(synthetic_law / "fit" / "law.json", *args, "--out", tmp_path / "o")
    assert r.exit_code == 2 and message in r.output, r.output
    assert not (tmp_path / "o" / "metrics.json").exists()


def test_bad_law_file_names_it(tmp_path):
    (tmp_path / "law.json").write_text("{}")
    r = _invoke(tmp_path / "law.json", "--schedule", "constant:lr=1e-3,steps=100", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "law.json" in r.output


def test_cpt_law_predicts_with_the_switch_step(tmp_path):
    """A continual-pre-training law (Wang et al. 2025) predicts a two-phase schedule as the law itself
    does on a curve carrying the switch step and the replay share."""
    from cltk.curves import Curve
    from cltk.laws import CPTLaw
    from cltk.schedules import parse

    law = CPTLaw(domain="old")
    law.params_ = {"L0": 2.0, "A": 0.8, "C1": 3.0, "C2": 3.0, "B": 0.3, "alpha": 0.4, "lam": 0.995, "E": 0.5,
                   "beta": 0.7, "rho": 2.0}
    (tmp_path / "law.json").write_text(law.to_json())
    pt = "cosine:peak=1e-3,steps=3000,final=1e-4,warmup=100"
    specs = {"low": f"{pt} + rewarm:start=1e-4,peak=3e-4,warmup=100,steps=2000,final=1e-5",
             "high": f"{pt} + rewarm:start=1e-4,peak=1e-3,warmup=100,steps=2000,final=1e-5"}
    args = [a for n, s in specs.items() for a in ("--schedule", f"{n}={s}")]
    r = _invoke(tmp_path / "law.json", *args, "--out", tmp_path / "no")
    assert r.exit_code == 2 and "--cpt-start" in r.output
    r = _invoke(tmp_path / "law.json", *args, "--cpt-start", "3000", "--replay", "0.1", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["cpt_start"] == 3000 and m["replay"] == 0.1 and m["interval_level"] is None
    for row in m["schedules"]:
        c = Curve.from_schedule(row["name"], parse(specs[row["name"]]), [4999], meta={"cpt_start": 3000, "replay": 0.1})
        assert row["final_loss"] == pytest.approx(law.predict(c)[0], rel=1e-12)
    assert m["best"] == min(m["schedules"], key=lambda r: r["final_loss"])["name"]
