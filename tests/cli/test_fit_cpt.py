"""`cltk fit-cpt` end to end on two-phase logs written from the CPT law itself (Wang et al. 2025;
cltk.laws.CPTLaw) with known parameters: the parameters come back, the three ways of laying out the
logs (a pre-training log with continual logs that restart or continue its step count, or whole-run
logs) agree, the law files feed `cltk select-cpt`, unidentified terms are named, bad input is one
line with exit 2."""
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.curves import Curve
from cltk.laws import CPTLaw, read_law
from cltk.schedules import constant, cosine, join, rewarm

T_PT, T_CPT, EVERY = 1500, 1000, 25  # pre-training steps 0..1499, continual steps 1500..2499
TRUTH = {"old": {"L0": 2.0, "A": 0.8, "C1": 3.0, "C2": 3.0, "B": 0.3, "alpha": 0.4, "lam": 0.995, "E": 0.5,
                 "beta": 0.7, "rho": 2.0},
         "new": {"L0": 2.5, "A": 1.2, "C1": 2.0, "C2": 2.0, "B": 0.6, "alpha": 0.3, "lam": 0.99, "E": 1.0,
                 "beta": 0.5, "rho": 1.5}}
PRE = cosine(1e-3, T_PT, final=1e-4, warmup=100)
#: run -> (re-warm peak, re-warm steps, replay share); "held" is predicted, never fitted
SETTINGS = {"a": (1e-3, 100, 0.0), "b": (3e-4, 100, 0.0), "c": (1e-3, 300, 0.2), "held": (3e-4, 300, 0.1)}
COLS = ["--old-loss-col", "val/old", "--new-loss-col", "val/new"]


def _loss(lrs: np.ndarray, steps: np.ndarray, t0: int, replay: float) -> dict[str, np.ndarray]:
    out = {}
    for dom, params in TRUTH.items():
        law = CPTLaw(domain=dom)
        law.params_ = dict(params)
        out[dom] = law.predict(Curve("x", steps, np.ones(len(steps)), lrs, {"cpt_start": t0, "replay": replay}))
    return out


def _log(path, steps, lrs, loss_steps, loss) -> str:
    """A per-step LR log with the two validation losses every EVERY steps (W&B-style sparse rows)."""
    frame = pd.DataFrame({"step": steps, "lr": lrs[steps]})
    for dom in ("old", "new"):
        frame[f"val/{dom}"] = pd.Series(loss[dom], index=loss_steps).reindex(steps).to_numpy()
    frame.to_csv(path, index=False)
    return str(path)


def _cpt_run(d, name, peak, warm, replay, layout, tail=None):
    """One continual run's log: ``restart`` (its steps 1..T_CPT), ``continue`` (steps T_PT..) or
    ``whole`` (pre-training rows included, steps 1..)."""
    sched = join(PRE, tail or rewarm(1e-4, peak, warm, T_CPT, final=1e-5))
    lrs = sched.render(T_PT + T_CPT)
    steps = np.arange(T_PT + EVERY - 1, T_PT + T_CPT, EVERY)
    if layout == "whole":
        steps = np.concatenate([np.arange(EVERY, T_PT, EVERY), steps])
        return _log(d / f"{name}.csv", np.arange(1, T_PT + T_CPT), lrs, steps, _loss(lrs, steps, T_PT, replay))
    loss = _loss(lrs, steps, T_PT, replay)
    shift = T_PT - 1 if layout == "restart" else 0  # a restarted count's step 1 is the first continual update
    return _log(d / f"{name}.csv", np.arange(T_PT, T_PT + T_CPT) - shift, lrs[shift:] if shift else lrs,
                steps - shift, loss)


def _pretrain(d) -> str:
    steps = np.append(np.arange(EVERY, T_PT - 1, EVERY), T_PT - 1)  # the last step is evaluated too
    return _log(d / "pretrain.csv", np.arange(1, T_PT), PRE.render(T_PT), steps, _loss(PRE.render(T_PT), steps,
                                                                                       T_PT, 0.0))


def _replays(files: dict) -> list[str]:
    return [a for n, f in files.items() if SETTINGS[n][2] for a in ("--replay", f"{f}={SETTINGS[n][2]:g}")]


def _run(*args):
    return CliRunner().invoke(cli, ["fit-cpt", *map(str, args)])


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """The pre-training log plus continual logs whose step count restarts at 1, fitted once."""
    d = tmp_path_factory.mktemp("restart")
    files = {n: _cpt_run(d, n, *s, "restart") for n, s in SETTINGS.items()}
    pre = _pretrain(d)
    r = _run(files["a"], files["b"], files["c"], "--predict", files["held"], "--pretrain", pre, *COLS,
             "--switch-step", 1, *_replays(files), "--out", d / "out")
    assert r.exit_code == 0, r.output + r.stderr
    return d, files, pre, json.loads((d / "out" / "metrics.json").read_text())


def test_recovers_the_parameters_and_predicts_the_held_out_run(restarted):
    d, files, _, m = restarted
    assert m["domains"] == ["old", "new"] and m["laws"]["old"]["fixed"] == {}  # replays differ: rho fitted
    for dom in ("old", "new"):
        law = read_law(d / "out" / f"cpt_law_{dom}.json")
        assert law.name == "cpt" and law.domain == dom
        for k, v in TRUTH[dom].items():
            assert law.params_[k] == pytest.approx(v, rel=0.02), (dom, k, law.params_[k])
    rows = {(r["domain"], r["name"]): r for r in m["curves"]}
    assert {r["role"] for r in m["curves"]} == {"pretrain", "fit", "heldout"}
    for dom in ("old", "new"):
        held = rows[(dom, "held")]
        assert held["final_step"] == T_PT + T_CPT - 1 and held["final_rel_err"] < 1e-3 and held["r2"] > 0.999
    pred = pd.read_csv(d / "out" / "predictions.csv")
    held = pred[(pred["curve"] == "held") & (pred["domain"] == "old")]
    assert held["phase"].eq("cpt").all() and held["log_step"].iloc[0] == EVERY  # the log's own count
    assert held["step"].iloc[0] == T_PT + EVERY - 1
    html = (d / "out" / "report.html").read_text()
    assert (d / "out" / "cpt_fit.png").exists() and "data:image/png;base64" in html


def test_the_law_files_feed_select_cpt(restarted):
    d = restarted[0]
    r = CliRunner().invoke(cli, ["select-cpt", str(d / "out" / "cpt_law_old.json"), str(d / "out" / "cpt_law_new.json"),
                                 "--pretrain", PRE.spec, "--steps", str(T_CPT), "--peaks", "3e-4,1e-3",
                                 "--replays", "0,0.5", "--weight-old", "1", "--out", str(d / "sel")])
    assert r.exit_code == 0, r.output + r.stderr
    sel = json.loads((d / "sel" / "metrics.json").read_text())
    assert sel["n_candidates"] == 4 and sel["selected_replay"] == 0.5  # only forgetting counts: replay helps


def test_continued_count_and_whole_run_logs_give_the_same_law(restarted, tmp_path):
    _, _, pre, m = restarted
    cont = {n: _cpt_run(tmp_path, f"{n}", *SETTINGS[n], "continue") for n in ("a", "b", "c")}
    # the default switch step is the step after the pre-training log's last: the count continues
    r = _run(*cont.values(), "--pretrain", pre, "--old-loss-col", "val/old", *_replays(cont), "--out", tmp_path / "c")
    assert r.exit_code == 0, r.output + r.stderr
    again = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert again["laws"]["old"]["params"] == m["laws"]["old"]["params"]  # the very same curves, the same fit
    assert again["runs"][1]["step_count"] == "continued" and again["runs"][1]["cpt_start"] == T_PT
    whole_dir = tmp_path / "whole"
    whole_dir.mkdir()
    whole = {n: _cpt_run(whole_dir, n, *SETTINGS[n], "whole") for n in ("a", "b", "c")}
    r = _run(*whole.values(), "--old-loss-col", "val/old", "--switch-step", T_PT, *_replays(whole), "--out",
             tmp_path / "w")
    assert r.exit_code == 0, r.output + r.stderr
    params = json.loads((tmp_path / "w" / "metrics.json").read_text())["laws"]["old"]["params"]
    for k, v in TRUTH["old"].items():
        assert params[k] == pytest.approx(v, rel=0.02), k


def test_one_run_at_constant_lr_and_one_replay_says_what_is_not_identified(tmp_path):
    run = _cpt_run(tmp_path, "flat", 0, 0, 0.0, "restart", tail=constant(3e-4, T_CPT))
    r = _run(run, "--pretrain", _pretrain(tmp_path), "--old-loss-col", "val/old", "--switch-step", 1,
             "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output + r.stderr
    notes = " ".join(json.loads((tmp_path / "o" / "metrics.json").read_text())["notes"])
    assert "One continual run was fitted" in notes and "rho was fixed at 1" in notes
    assert "(C2) is not identified" in notes
    law = read_law(tmp_path / "o" / "cpt_law_old.json")
    assert law.fixed == {"rho": 1.0} and law.params_["rho"] == 1.0
    assert not (tmp_path / "o" / "cpt_law_new.json").exists()  # only the domain asked for


def test_bad_input_is_one_line_exit_2(restarted, tmp_path):
    d, files, pre, _ = restarted
    a = files["a"]
    (tmp_path / "nolr.csv").write_text("step,val/old,val/new\n10,3,3\n")
    cont = _cpt_run(tmp_path, "cont", *SETTINGS["a"], "continue")
    cases = [((a, "--out", tmp_path / "o"), "--old-loss-col"),
             ((a, *COLS, "--out", tmp_path / "o"), "no switch step"),
             ((a, *COLS, "--switch-step", 0, "--out", tmp_path / "o"), "whole number >= 1"),
             ((a, *COLS, "--switch-step", "x", "--out", tmp_path / "o"), "not a number"),
             ((a, *COLS, "--switch-step", "inf", "--out", tmp_path / "o"), "whole number >= 1"),
             ((a, *COLS, "--switch-step", f"{a}=1.5", "--out", tmp_path / "o"), "whole number >= 1"),
             ((a, *COLS, "--switch-step", 1, "--replay", 1.5, "--out", tmp_path / "o"), "[0, 1]"),
             ((a, *COLS, "--switch-step", 1, "--replay", "zz.csv=0.1", "--out", tmp_path / "o"), "'zz.csv'"),
             ((a, *COLS, "--switch-step", 1, "--replay", 0.1, "--replay", 0.2, "--out", tmp_path / "o"), "twice"),
             ((a, "--predict", a, *COLS, "--switch-step", 1, "--out", tmp_path / "o"), "both as a fit log"),
             ((a, "--pretrain", a, *COLS, "--out", tmp_path / "o"), "pre-training log and as a continual"),
             ((a, "--pretrain", pre, "--old-loss-col", "nope", "--out", tmp_path / "o"), "no column 'nope'"),
             ((a, "--pretrain", tmp_path / "nolr.csv", *COLS, "--out", tmp_path / "o"), "learning-rate"),
             # a restarted count read as continuing: no point at or after the default switch step
             ((a, "--pretrain", pre, *COLS, "--out", tmp_path / "o"), "the switch step is 1"),
             # a continued count read as restarted
             ((cont, "--pretrain", pre, *COLS, "--switch-step", 1, "--out", tmp_path / "o"), "switch step is 1500"),
             # a continual-phase log without the pre-training log
             ((cont, *COLS, "--switch-step", T_PT, "--out", tmp_path / "o"), "no learning rate logged before"),
             ((a, *COLS, "--switch-step", 5000, "--out", tmp_path / "o"), "outside the logged steps")]
    for args, needle in cases:
        r = _run(*args)
        assert r.exit_code == 2, (args, r.output, r.stderr)
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("error:") and needle in r.stderr, (args, r.stderr)
    assert not (tmp_path / "o").exists()


def test_a_sparse_pretraining_log_takes_its_length_from_pretrain_steps(restarted, tmp_path):
    """A pre-training log written every EVERY steps stops before the last update: without
    --pretrain-steps the switch is placed after its last row and a note says so; with it, the switch
    is where the whole log puts it."""
    d, files, _, full = restarted
    rows = np.arange(EVERY, T_PT - 1, EVERY)  # no row at the last update, T_PT - 1
    lrs = PRE.render(T_PT)
    loss = {k: v[:-1] for k, v in _loss(lrs, np.append(rows, T_PT - 1), T_PT, 0.0).items()}
    sparse = _log(tmp_path / "sparse.csv", rows, lrs, rows, loss)
    fit = {n: files[n] for n in "abc"}
    args = [*fit.values(), "--pretrain", sparse, *COLS, "--switch-step", 1, *_replays(fit)]
    r = _run(*args, "--out", tmp_path / "o1")
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "o1" / "metrics.json").read_text())
    assert any("--pretrain-steps" in n for n in m["notes"])
    r = _run(*args, "--pretrain-steps", T_PT - 1, "--out", tmp_path / "o2")
    assert r.exit_code == 0, r.output
    m2 = json.loads((tmp_path / "o2" / "metrics.json").read_text())
    assert not any("--pretrain-steps" in n for n in m2["notes"])
    starts = [{r["name"]: r["cpt_start"] for r in mm["runs"] if r["name"] in "abc"} for mm in (full, m, m2)]
    assert starts[2] == starts[0] == dict.fromkeys("abc", T_PT) and starts[1] == dict.fromkeys("abc", T_PT - EVERY + 1)
    r = _run(files["a"], *COLS, "--switch-step", 1, "--pretrain-steps", 5, "--out", tmp_path / "o3")
    assert r.exit_code == 2 and "--pretrain-steps" in r.output
