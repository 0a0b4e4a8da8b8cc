"""``cltk proxy train`` / ``sweep`` end to end at tiny size, and one-line errors with exit code 2."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from cltk.analytics.curve_files import read_curve
from cltk.cli.main import cli
from cltk.proxy import load_config

torch.set_num_threads(1)



def _one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    out = r.output.strip()
    assert out.startswith("error:") and "\n" not in out and "Traceback" not in out, out
    for n in needles:
        assert n in out, out


def _flag_error(r, *needles):
    """A flag rejected by its click type: exit code 2, the flag and the problem named, no traceback."""
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    for n in needles:
        assert n in r.output, r.output


def test_bad_input_is_one_line_with_exit_code_2(write_tiny, tmp_path, proxy_cache):
    cfg = write_tiny(tmp_path / "c.toml", proxy_cache)
    def run(*a):
        return CliRunner().invoke(cli, ["proxy", "train", *map(str, a), "--out", str(tmp_path / "o")])
    _one_line_error(run(cfg, "--set", "train.learning_rate=1"), "unknown config key 'train.learning_rate'")
    _one_line_error(run(cfg, "--set", "phases.0.schedule=cosine:peak=1e-3"), "phases.0.schedule", "steps")
    _one_line_error(run(cfg, "--set", "phases.0.schedule=zigzag:lr=1"), "unknown schedule 'zigzag'")
    _one_line_error(run(cfg, "--set", "phases.0.steps=7"), "phases.0.schedule lasts", "phases.0.steps = 7")
    _one_line_error(run(tmp_path / "nope.toml"), "nope.toml: no such config file")
    _one_line_error(run(cfg, "--set", "data.domains.mine.files=['/no/such.txt']", "--set", "phases.0.mix.mine=1.0"),
                    "data.domains.mine.files", "/no/such.txt")
    bad = tmp_path / "bad.toml"
    bad.write_text(cfg.read_text().replace("[train]", "[train]\nwarmup = 3"))
    _one_line_error(run(bad), "bad.toml", "unknown config key 'train.warmup'")
    bad.write_text("[model\n")
    _one_line_error(run(bad), "not valid TOML")
    if not torch.cuda.is_available():
        _one_line_error(run(cfg, "--device", "cuda"), "no CUDA device")

    def sweep(*a):
        return CliRunner().invoke(cli, ["proxy", "sweep", str(cfg), *map(str, a), "--out", str(tmp_path / "s")])

    _flag_error(sweep("--schedule", "cosine:peak=1"), "--schedule", "cosine")
    _flag_error(sweep("--schedule", "a/b=cosine:peak=1e-3,steps=30"), "--schedule", "not a valid folder name")
    _flag_error(sweep("--schedule", "constant:lr=1e-3,steps=30", "--seeds", "1,x"), "--seeds")
    _flag_error(sweep("--schedule", "constant:lr=1e-3,steps=30", "--phase", "-1"), "--phase")
    _one_line_error(sweep("--schedule", "constant:lr=1e-3,steps=30", "--phase", "2"), "phase index 2", "2 phase(s)")
    _one_line_error(sweep("--schedule", "a=constant:lr=1e-3,steps=30", "--schedule", "a=constant:lr=2e-3,steps=30"),
                    "run name 'a' is used twice")
    bad_lines = tmp_path / "schedules.txt"
    bad_lines.write_text("# two schedules\ncos=cosine:peak=1e-3,steps=30\nzigzag:lr=1\n")
    _flag_error(sweep("--schedules-file", bad_lines), "line 3", "unknown schedule 'zigzag'")
    assert not (tmp_path / "s").exists()


def test_train_writes_curve_metrics_report_and_resumes(write_tiny, tmp_path, proxy_cache):
    cfg = write_tiny(tmp_path / "c.toml", proxy_cache, n1=30, n2=30)
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["proxy", "train", str(cfg), "--out", str(out), "--seed", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    for key in ("params", "tokens_per_s", "achieved_flops_per_s", "val_loss_decrease_prose", "val_loss_decrease_code",
                "forgetting_prose", "worst_forgetting_prose", "stability_gap_prose", "stability_gap_step_prose",
                "new_domain_rise_code", "max_attn_logit_final", "logit_norm_max", "final_val_loss_code"):
        assert key in m, key
    assert m["params"] < 1_000_000 and m["steps"] == 60 and m["resumed_from_step"] == 0
    assert m["val_loss_decrease_code"] > 0.3  # the loss falls from the first eval on
    curve = read_curve(out / "curves.csv")  # the fit-scaling reader takes the file as is
    assert list(curve.steps) == [9, 19, 29, 39, 49, 59] and len(curve.lrs) == 60
    assert read_curve(out / "curves.csv", loss_col="val_loss_prose").loss.shape == (6,)
    saved = load_config(out / "config.toml")
    assert saved == load_config(cfg, ["seed=1"])
    env = json.loads((out / "env.json").read_text())
    assert {"git_sha", "torch", "python", "device"} <= set(env)
    assert "data:image/png;base64" in (out / "report.html").read_text()
    # the same command again finds the finished checkpoint and resumes (no training left)
    r = CliRunner().invoke(cli, ["proxy", "train", str(cfg), "--out", str(out), "--seed", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    m2 = json.loads((out / "metrics.json").read_text())
    assert m2["resumed_from_step"] == 60 and m2["final_val_loss_code"] == m["final_val_loss_code"]
    # a different config must not silently reuse the checkpoint
    r = CliRunner().invoke(cli, ["proxy", "train", str(cfg), "--out", str(out), "--quiet"])
    _one_line_error(r, "different config", "--fresh")


def test_sweep_runs_schedules_in_a_process_pool(write_tiny, tmp_path, proxy_cache):
    cfg = write_tiny(tmp_path / "c.toml", proxy_cache, n1=20, n2=20)
    r = CliRunner().invoke(cli, ["proxy", "sweep", str(cfg), "--set", "train.eval_every=5",
                                 "--out", str(tmp_path / "s"),
                                 "--schedule", "cos=cosine:peak=3e-3,steps=20,final=3e-4,warmup=4",
                                 "--schedule", "wsd:peak=3e-3,steps=20,decay=0.3,warmup=4", "--workers", "1"])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert m["runs"] == 2 and m["failed_runs"] == 0 and m["best_run"] in ("cos", "1-wsd")
    assert {"final_loss.cos", "final_loss.1-wsd", "mean_excess_loss"} <= set(m)
    c = read_curve(tmp_path / "s" / "curves.csv", lr_col="1-wsd/lr", loss_col="1-wsd/loss")
    assert c.steps[-1] == 39 and c.lrs[-1] == pytest.approx(3e-3 / 6)  # wsd decays over steps 14..20
    assert (tmp_path / "s" / "runs" / "cos" / "checkpoint.pt").exists()
    run_m = json.loads((tmp_path / "s" / "runs" / "cos" / "metrics.json").read_text())
    assert run_m["final_val_loss_code"] == m["final_loss.cos"] and run_m["steps"] == 40
    assert read_curve(tmp_path / "s" / "curves" / "cos.csv").name == "cos"
    assert (tmp_path / "s" / "report.html").exists()


def test_demo_section_shows_forgetting_and_replay(tmp_path, monkeypatch):
    from cltk.analytics.proxy.demo import demo_section

    monkeypatch.setenv("CLTK_CACHE_DIR", str(tmp_path / "cache"))
    f = demo_section(tmp_path / "demo")
    assert f["val_loss_decrease_prose"] > 0.3 and f["val_loss_decrease_code"] > 0.3
    assert f["forgetting_prose"] > 0 and f["stability_gap_prose"] > 0
    assert f["replay_forgetting_reduction"] > 0
    assert (tmp_path / "demo" / "report.html").exists()
    json.dumps(f)
