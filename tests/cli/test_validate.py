import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cltk.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
TINY = """
name = "tiny"
proxy = "{proxy}"
set = ["model.d_model=32", "model.n_layer=1", "model.n_head=2", "model.seq_len=32", "train.batch_size=4",
       "train.eval_every=5", "train.eval_batches=2", "train.ckpt_every=10", "data.stdlib_fraction=0.05",
       "train.threads=1"]
seeds = [0]
laws = ["multipower", "momentum"]
workers = 1
domain = "prose"

[schedules]
fit = {fit}
heldout = ["wsd:peak=3e-3,steps=60,decay=0.2,final=3e-4,warmup=6"]

[cpt]
old = "prose"
new = "code"
pretrain = "cosine:peak=3e-3,steps=30,final=3e-4,warmup=3"
steps = 30
fit = [{{peak = 3e-3, warmup = 3, replay = 0.0}}, {{peak = 1e-3, warmup = 3, replay = 0.0}},
       {{peak = 3e-3, warmup = 3, replay = 0.3}}]
heldout = [{{peak = 1e-3, warmup = 3, replay = 0.3}}]
"""
FIT = '["warmup:peak=3e-3,steps=6 + constant:lr=3e-3,steps=54", "cosine:peak=3e-3,steps=60,final=3e-4,warmup=6"]'


def plan(tmp_path, fit=FIT, name="plan.toml"):
    p = tmp_path / name
    p.write_text(TINY.format(proxy=ROOT / "toolkit" / "configs" / "proxy" / "tiny_cpu.toml", fit=fit))
    return p


def test_validate_end_to_end_and_rerun_reuses_runs(tmp_path):
    p = plan(tmp_path)
    r = CliRunner().invoke(cli, ["validate", str(p), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    m1 = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m1["runs_total"] == 7 and m1["runs_trained"] == 7
    for key in ("multipower_heldout_final_rel_err_mean", "momentum_heldout_final_rel_err_mean",
                "cpt_old_heldout_final_rel_err_mean", "cpt_new_heldout_final_rel_err_mean",
                "cpt_selected_is_real_best"):
        assert key in m1
    assert all(not isinstance(v, (dict, list)) for v in m1.values())
    assert m1["multipower_heldout_final_rel_err_mean"] < 0.2  # tiny runs: a sanity bound, not the target
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "out" / "curves.csv").exists()
    # the fitted CPT laws drive `cltk select-cpt`
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["select-cpt", str(out / "cpt_law_old.json"), str(out / "cpt_law_new.json"),
                                 "--pretrain", "cosine:peak=3e-3,steps=30,final=3e-4,warmup=3", "--steps", "30",
                                 "--peaks", "1e-3,3e-3", "--replays", "0,0.3", "--out", str(tmp_path / "sel")])
    assert r.exit_code == 0, r.output
    sel = json.loads((tmp_path / "sel" / "metrics.json").read_text())
    assert sel["n_candidates"] == 4 and sel["selected_peak"] in (1e-3, 3e-3)
    r = CliRunner().invoke(cli, ["select-cpt", str(out / "cpt_law_new.json"), str(out / "cpt_law_new.json"),
                                 "--pretrain", "cosine:peak=3e-3,steps=30", "--steps", "30", "--peaks", "1e-3",
                                 "--out", str(tmp_path / "sel2")])
    assert r.exit_code == 2 and "old domain" in r.output
    r = CliRunner().invoke(cli, ["validate", str(p), "--out", str(tmp_path / "out")])
    m2 = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m2["runs_reused"] == 7 and m2["runs_trained"] == 0
    same = {k: v for k, v in m1.items() if not k.startswith("runs_") and k != "seconds"}
    assert same == {k: m2[k] for k in same}


def test_killed_validate_resumes_with_the_same_numbers(tmp_path):
    """SIGKILL `cltk validate` once the first run has finished; the rerun reuses it, resumes the
    interrupted one and ends with the numbers of an uninterrupted validation."""
    p = plan(tmp_path)
    ref = tmp_path / "ref"
    assert CliRunner().invoke(cli, ["validate", str(p), "--out", str(ref)]).exit_code == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "cltk.cli.main", "validate", str(p), "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("runs/*/metrics.json"))) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(out.glob("runs/*/metrics.json")))
    assert 2 <= done < 7
    r = CliRunner().invoke(cli, ["validate", str(p), "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    m_ref = json.loads((ref / "metrics.json").read_text())
    assert m["runs_reused"] == done
    same = [k for k in m_ref if not k.startswith("runs_") and k != "seconds"]
    assert {k: m[k] for k in same} == {k: m_ref[k] for k in same}


@pytest.mark.parametrize("fit,msg", [('["cosine:peak=3e-3"]', "schedules.fit[0]"),
                                     ('[]', "need at least 1"),
                                     ('["constant:lr=1,steps=5", "zigzag:lr=1,steps=5"]',
                                      "schedules.fit[1]: unknown schedule")])
def test_bad_plans_exit_2(tmp_path, fit, msg):
    r = CliRunner().invoke(cli, ["validate", str(plan(tmp_path, fit)), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and msg in r.output, r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output


@pytest.mark.parametrize("old,new,key", [
    ("workers = 1", "workers = true", "workers"),
    ("workers = 1", "workers = 1.5", "workers"),
    ("workers = 1", 'workers = "2"', "workers"),
    ("workers = 1", "workers = 0", "workers"),
    ('set = ["model.d_model=32",', 'set = [1, "model.d_model=32",', "set"),
    ('set = ["model.d_model=32",', 'set = ["model.width=32",', "set"),
    ('laws = ["multipower", "momentum"]', "laws = []", "laws"),
    ('laws = ["multipower", "momentum"]', 'laws = ["multipower", "powerlaw"]', "laws"),
    ("seeds = [0]", "seeds = []", "seeds"),
    ("seeds = [0]", "seeds = [true]", "seeds"),
    ('domain = "prose"', 'domain = "poetry"', "domain"),
    ('new = "code"', 'new = "poetry"', "cpt.new"),
    ("steps = 30\n", "steps = 1.5\n", "cpt.steps"),
    ("steps = 30\n", "steps = 0\n", "cpt.steps"),
    ("steps = 30\n", "steps = nan\n", "cpt.steps"),
    ('pretrain = "cosine:peak=3e-3,steps=30,final=3e-4,warmup=3"', 'pretrain = "cosine:peak=3e-3"', "cpt.pretrain"),
    ("{peak = 1e-3, warmup = 3, replay = 0.3}]\n", "{peak = 1e-3, warmup = 30, replay = 0.3}]\n",
     "cpt.heldout[0].warmup"),
    ("{peak = 1e-3, warmup = 3, replay = 0.3}]\n", '{peak = "big", warmup = 3, replay = 0.3}]\n',
     "cpt.heldout[0].peak"),
])
def test_plan_types_are_checked(tmp_path, old, new, key):
    """Every plan key is type-checked: one line naming the plan file and the plan's own key."""
    p = plan(tmp_path)
    assert old in p.read_text()
    p.write_text(p.read_text().replace(old, new, 1))
    r = CliRunner().invoke(cli, ["validate", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "Traceback" not in r.output, r.output
    assert r.output.startswith(f"error: {p}: {key}: "), r.output
    assert "phases." not in r.output  # never a key of the derived proxy configs
    assert not (tmp_path / "o").exists()


def test_cpt_pretrain_may_be_a_joined_schedule(tmp_path):
    """A joined pre-training spec runs: the continual phase is the re-warm alone, and pre-training
    then that phase render exactly the whole schedule cltk.selection.cpt_schedule builds."""
    import numpy as np

    from cltk.analytics.validate.job import build_runs
    from cltk.analytics.validate.plan import load_plan
    from cltk.schedules import join, parse

    joined = "warmup:peak=3e-3,steps=4 + cosine:peak=3e-3,steps=26,final=3e-4"
    p = plan(tmp_path, fit="[]")
    text = p.read_text().replace('pretrain = "cosine:peak=3e-3,steps=30,final=3e-4,warmup=3"', f'pretrain = "{joined}"')
    p.write_text(text[:text.index("[schedules]")] + text[text.index("[cpt]"):])  # CPT runs only
    pl = load_plan(p)
    assert pl["cpt"]["pretrain"].steps == 30 and not pl["fit"]
    for st in pl["cpt"]["fit"] + pl["cpt"]["heldout"]:
        assert st["phase"].spec.startswith("rewarm:") and st["phase"].steps == 30
        assert np.array_equal(join(pl["cpt"]["pretrain"], st["phase"]).render(), st["whole"].render())
    runs = build_runs(pl)
    assert len(runs) == 4 and {r["kind"] for r in runs} == {"cpt"}
    for r in runs:
        pre, cpt = r["cfg"]["phases"]
        assert parse(pre["schedule"]).spec == parse(joined).spec and pre["steps"] == 30
        assert cpt["schedule"] == r["setting"]["phase"].spec and cpt["steps"] == 30
    r = CliRunner().invoke(cli, ["validate", str(p), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m["runs_trained"] == 4 and "cpt_new_heldout_final_rel_err_mean" in m
    assert "multipower_heldout_final_rel_err_mean" not in m


def test_bad_plan_keys(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('proxy = "x.toml"\nschedulez = 1\n')
    r = CliRunner().invoke(cli, ["validate", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "unknown key" in r.output
    r = CliRunner().invoke(cli, ["validate", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no such plan" in r.output
