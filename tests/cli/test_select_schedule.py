"""cltk select-schedule: several laws compared, law warnings, per-step export, --fit/--seed, and the
report's layout (short specs, finals axis)."""
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.analytics.protocols import MPL_25M
from cltk.cli.main import cli
from cltk.laws import MultiPowerLaw
from cltk.schedule_export import to_array
from cltk.schedules import parse

TRUTH = {"L0": 3.0, "A": 0.6, "B": 400.0, "alpha": 0.45, "C": 2.0, "beta": 0.55, "gamma": 0.5}


def law_file(path, fit_info=None, boot=(), **params):
    law = MultiPowerLaw()
    law.params_ = {**TRUTH, **params}
    law.boot_params_ = [{**law.params_, **b} for b in boot]
    law.cv_quantiles_ = []
    law.fit_info_ = fit_info or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(law.to_json())
    return path


def run(*args):
    return CliRunner().invoke(cli, ["select-schedule", *map(str, args)])


BASE = ["--steps", "6000", "--peak-lr", "3e-4", "--warmup", "200"]


def test_two_laws_compared_cross_evaluated_and_exported(tmp_path):
    # two multi-power laws whose annealing terms differ: the one with the faster relaxation (larger C)
    # wants a shorter cooldown; each law must find its own choice better than the other's
    a = law_file(tmp_path / "a" / "law.json", boot=[{"L0": 3.0 + d} for d in (-0.01, 0.0, 0.01)])
    b = law_file(tmp_path / "b" / "law.json", C=20.0, beta=0.9)
    out = tmp_path / "o"
    r = run(a, b, *BASE, "--export-schedule", tmp_path / "s.npy", "--out", out)
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["laws"] == "multipower (a),multipower (b)"
    assert not m["agree"] and "The laws disagree" in r.output
    rows = json.loads((out / "comparison.json").read_text())["cross_evaluation"]
    assert {(x["schedule_of"], x["law"]) for x in rows} == {(i, j) for i in ("multipower (a)", "multipower (b)")
                                                            for j in ("multipower (a)", "multipower (b)")}
    for x in rows:  # a law's own choice is the best it knows: every other choice is no better
        assert x["regret"] >= -1e-9 and (x["regret"] == 0) == (x["schedule_of"] == x["law"])
    # the regret is the judge's loss of the other's choice minus its own, recomputed here
    law_a = MultiPowerLaw.from_json(a.read_text())
    spec_a, spec_b = m["multipower_a_chosen_spec"], m["multipower_b_chosen_spec"]
    own, other = (law_a.predict(parse(s), steps=[5999])[0] for s in (spec_a, spec_b))
    assert m["multipower_b_choice_under_multipower_a_regret"] == pytest.approx(other - own, abs=1e-9)
    # replicates that differ only in L0 shift both schedules alike: the paired difference is exact
    assert m["multipower_b_choice_under_multipower_a_regret_lo"] == pytest.approx(other - own, abs=1e-9)
    assert m["multipower_b_choice_under_multipower_a_resolved"] is True
    assert m["multipower_a_choice_under_multipower_b_resolved"] is None  # b has no replicates
    for key, spec in (("multipower_a", spec_a), ("multipower_b", spec_b)):
        assert np.allclose(np.load(tmp_path / f"s-{key}.npy"), to_array(spec, 6000), rtol=1e-12, atol=0)
        assert (out / f"chosen_spec_{key}.txt").read_text().strip() == spec
    html = (out / "report.html").read_text()
    assert "Cross-evaluation" in html and "comparison.png" not in html and (out / "comparison.png").exists()


def test_real_laws_disagree_on_the_25m_curves(mpl25m, tmp_path):
    """Fitted here on the published fit set (no refits, to stay fast): the multi-power law wants a
    22.75% linear cooldown, the momentum law a 9.1% exponential one, and each judges the other's
    choice worse by thousandths."""
    fit = [str(p) for p in MPL_25M.paths(mpl25m, MPL_25M.fit)]
    out = tmp_path / "o"
    r = run(*BASE[:0], "--steps", "24000", "--peak-lr", "3e-4", "--warmup", "2160", "--fit", *fit,
            "--fit-warmup-steps", "2160", "--intervals", "0", "--out", out)
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["multipower_cooldown"] == "a 22.75% linear cooldown to 0"
    assert m["momentum_cooldown"] == "a 9.1% exp cooldown to 0.01x peak"
    assert 0.003 < m["momentum_choice_under_multipower_regret"] < 0.02
    assert 0.003 < m["multipower_choice_under_momentum_regret"] < 0.02
    assert "The laws disagree: multipower recommends a 22.75% linear cooldown to 0" in r.output


def test_seed_reaches_the_fits(monkeypatch, tmp_path):
    import cltk.cli.select_schedule as cmd

    seen = {}
    real = cmd._laws

    def spy(*args):
        laws, curves = real(*args)
        seen.update({n: law.seed for n, law in laws.items()})
        return laws, curves

    monkeypatch.setattr(cmd, "_laws", spy)
    csv = tmp_path / "run.csv"
    csv.write_text("step,lr,loss\n" + "".join(f"{s},{3e-4 if s < 600 else 3e-5},{3 + 5 / s ** 0.5}\n"
                                                for s in range(20, 1001, 20)))
    r = run("--steps", "1000", "--peak-lr", "3e-4", "--fit", csv, "--law", "momentum", "--intervals", "0",
            "--seed", "7", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert seen == {"momentum": 7}
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["seed"] == 7


def test_law_warnings_in_terminal_and_report(tmp_path):
    f = law_file(tmp_path / "law.json", fit_info={"at_bounds": ["beta:lower"], "converged": False,
                                                   "status": "max evaluations"})
    r = run(f, *BASE, "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "warning (multipower): Parameter beta = 0.55 ended on the lower bound" in text
    assert "before converging" in text
    assert "no fit curve lowers" not in text.lower()  # a law file does not say what it was fitted on
    html = (tmp_path / "o" / "report.html").read_text()
    assert "Read this first" in html and "ended on the lower bound" in html


def test_unidentified_anneal_is_said(tmp_path):
    """B = 0: no annealing term, so the law predicts that any cooldown only raises the loss."""
    r = run(law_file(tmp_path / "law.json", B=0.0), *BASE, "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert "annealing term is not identified" in " ".join(r.output.split())
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["n_notes"] == 1


def test_law_file_without_annealing_fit_curves_is_said_once(tmp_path):
    """fit-scaling records the fit curves that decay; none: the caveat of the fit says so, and the
    prediction-side check does not repeat it."""
    r = run(law_file(tmp_path / "law.json", fit_info={"annealing_curves": []}, B=0.0), *BASE, "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert " ".join(r.output.split()).count("annealing term is not identified") == 1
    assert "No fit curve lowers its learning rate" in " ".join(r.output.split())


def test_recorded_notes_are_shown(tmp_path):
    r = run(law_file(tmp_path / "law.json", fit_info={"notes": ["fitted on one curve only"]}), *BASE,
            "--out", tmp_path / "o")
    assert "warning (multipower): fitted on one curve only" in r.output


def test_free_schedule_report_keeps_specs_short(tmp_path):
    out = tmp_path / "o"
    r = run(law_file(tmp_path / "law.json"), *BASE, "--family", "free", "--export-schedule", tmp_path / "s.csv",
            "--out", out)
    assert r.exit_code == 0, r.output
    spec = (out / "chosen_spec.txt").read_text().strip()
    assert len(spec) > 500 and "piecewise:" in spec
    html = (out / "report.html").read_text()
    cells = re.findall(r"<td>(.*?)</td>", html) + re.findall(r"<pre>(.*?)</pre>", html)
    assert max(map(len, cells)) <= 90 and spec not in html
    assert 'href="chosen_spec.txt"' in html
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "step,lr" and len(lines) == 6001
    assert np.allclose([float(x.split(",")[1]) for x in lines[1:]], to_array(spec, 6000), rtol=1e-5, atol=0)
    assert max(map(len, r.output.splitlines())) <= 120


@pytest.mark.parametrize("extra,msg", [(["--export-schedule", "x.txt"], ".csv or .npy"),
                                       (["--export-schedule", "nodir/x.csv"], "does not exist"),
                                       (["--law", "momentum"], "go with --fit"),
                                       (["--fit", "a.csv"], "one of the two")])
def test_bad_combinations_are_one_line(tmp_path, monkeypatch, extra, msg):
    monkeypatch.chdir(tmp_path)
    r = run(law_file(tmp_path / "law.json"), *BASE, *extra, "--out", tmp_path / "o")
    assert r.exit_code == 2 and msg in r.output, r.output
    assert not (tmp_path / "o").exists()
