"""``cltk simulate dln EXPERIMENT``: outputs of every experiment at tiny sizes, bad flags (exit 2)."""
import inspect
import json

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cltk.cli.main import cli


def _run(*args):
    return CliRunner().invoke(cli, ["simulate", "dln", *args], catch_exceptions=False)


@pytest.mark.parametrize("args, needle", [
    (["nonsense"], "No such command 'nonsense'"),
    (["modes", "--depths", "2,-1"], "--depths"),
    (["modes", "--width", "0"], "--width"),
    (["depth", "--depths", "two"], "--depths"),
    (["depth", "--threshold", "1.5"], "--threshold"),
    (["sequential", "--similarities", "1.5"], "--similarities"),
    (["critical-period", "--onsets", "-5"], "--onsets"),
    (["critical-period", "--mc-deficits", "noise"], "--mc-deficits"),
    (["critical-period", "--mc-observed", "1.5"], "--mc-observed"),
    (["depth", "--inits", "zeros"], "--inits"),
    (["modes", "--device", "tpu:9"], "'tpu:9' is not a device"),
    (["modes", "--dtype", "float16"], "--dtype"),
    (["rich-lazy", "--lr", "0"], "--lr"),
    (["rich-lazy", "--scales", "nan"], "--scales"),
    (["sequential", "--phases", "ABC"], "--phases"),
    (["modes", "--width", "2"], "width 2 is smaller than the number of teacher singular values"),
    (["modes", "--scales", "1"], "No such option '--scales'"),  # each experiment takes only its own options
])
def test_bad_options_exit_2(tmp_path, args, needle, bad_flag):
    bad_flag(_run(*args, "--out", str(tmp_path)), needle)


def test_cli_defaults_match_the_experiments():
    """Each subcommand's defaults are the experiment function's (the functions are called with
    keyword arguments, so a drift would change results between the CLI and Python)."""
    from cltk.analytics.simulate.dln import continual, critical_period, experiments
    from cltk.cli.simulate.dln import INITS, dln
    from cltk.models.dln import INIT_KINDS

    assert set(INITS) == set(INIT_KINDS)
    jobs = {"modes": experiments.run_modes, "depth": experiments.run_depth, "rich-lazy": experiments.run_rich_lazy,
            "sequential": continual.run_sequential, "critical-period": critical_period.run_critical_period}
    assert set(dln.commands) == set(jobs)
    for name, job in jobs.items():
        cmd = dln.commands[name]
        sig = inspect.signature(job).parameters
        ctx = click.Context(cmd)
        for p in cmd.params:
            if p.name in ("out_dir", "help", "json_out"):  # json_out: every command's --json (cli/json_output.py)
                continue
            assert p.name in sig, (name, p.name)
            value = p.type_cast_value(ctx, p.get_default(ctx))
            expected = sig[p.name].default
            assert value == (tuple(expected) if isinstance(expected, (tuple, list)) else expected), (name, p.name)


def _check_outputs(out, png, written):
    for name in ("metrics.json", "results.csv", "results.json", "curves.csv", "report.html", "README.txt", png):
        assert (out / name).exists(), name
    metrics = written(out)
    assert all(not isinstance(v, (dict, list)) for v in metrics.values())  # flat
    curves = pd.read_csv(out / "curves.csv")
    assert list(curves.columns[:3]) == ["step", "lr", "loss"] and (curves.loss > 0).all()
    assert curves.step.is_monotonic_increasing
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"experiment", "config", "metrics", "tables"} and results["metrics"] == metrics
    return metrics


def test_modes_cli(written, tmp_path):
    res = _run("modes", "--singular-values", "1", "--lr", "0.002", "--seeds", "1", "--width", "2",
               "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    m = _check_outputs(tmp_path, "modes.png", written)
    assert m["closed_form_time_to_converge"] == pytest.approx(9.2102, abs=1e-4)
    assert m["modes_max_rel_err"] < 0.01
    assert m["sim_time_to_half_D2"] == pytest.approx(4.6051, rel=5e-3)


def test_critical_period_cli(written, tmp_path):
    res = _run("critical-period", "--depths", "1,2", "--onsets", "0,400", "--seeds", "1", "--steps", "900",
               "--durations", "0,20", "--after-steps", "300", "--mc-size", "8", "--mc-durations", "0,200",
               "--mc-steps", "200", "--mc-onsets", "300", "--mc-deficit-length", "100", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    m = _check_outputs(tmp_path, "critical_period.png", written)
    assert (m["ode_D2_onset0_Ka"], m["ode_D2_onset0_Kb"]) == pytest.approx((9.99, 0.01), abs=0.01)
    assert (m["ode_D2_onset400_Ka"], m["ode_D2_onset400_Kb"]) == pytest.approx((5, 5), abs=0.01)
    assert m["sgd_ode_max_abs_diff"] < 0.2 and m["sgd_ode_max_abs_diff_durations"] < 0.2
    # duration protocol: no deficit = no damage; a 20-step deficit from 0 harms D = 2 more than D = 1
    assert m["ode_D2_dur0_damage"] == 0 and m["ode_D2_dur20_damage"] > m["ode_D1_dur20_damage"] + 0.5
    for kind in ("rank", "observations"):
        assert m[f"mc_{kind}_damage_dur0"] == 1 and f"mc_{kind}_damage_dur200" in m
        assert f"mc_{kind}_damage_onset300" in m and f"mc_{kind}_steps_to_target_dur200" in m
    assert m["mc_test_loss_control"] == m["mc_observations_test_loss_dur0"] and "mc_damage_onset300" in m
    for name in ("matrix_completion.csv", "deficit_duration.csv", "matrix_completion_curves.csv",
                 "deficit_duration.png", "matrix_completion.png"):
        assert (tmp_path / name).exists(), name  # tables after the first: NAME.csv


def test_modes_keys_follow_the_simulated_teacher(written, tmp_path):
    """Reference keys for any teacher: the unsuffixed ones are the slowest mode's (here s = 2), the
    _s{s} ones each mode's; Saxe et al.'s t = (1/2s) ln[uf (s - u0) / (u0 (s - uf))]."""
    res = _run("modes", "--singular-values", "2", "--lr", "0.002", "--seeds", "1", "--width", "2",
               "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    m = written(tmp_path)
    half = 0.25 * np.log((2 - 1e-4) / 1e-4)
    assert m["reference_singular_value"] == 2 and m["closed_form_time_to_half"] == pytest.approx(half, rel=1e-12)
    assert m["closed_form_time_to_half_s2"] == m["closed_form_time_to_half"]
    assert m["sim_time_to_half_D2"] == pytest.approx(half, rel=5e-3)
    assert m["sim_time_to_converge_D2"] == pytest.approx(m["closed_form_time_to_converge"], rel=5e-3)


def test_sequential_cli(written, tmp_path):
    res = _run("sequential", "--similarities", "0,1", "--depths", "1", "--steps", "200", "--lr", "0.1",
               "--seeds", "1", "--width", "4", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    m = _check_outputs(tmp_path, "sequential.png", written)
    assert m["linear_exact_max_rel_err"] < 1e-4
    assert m["forgetting_sim_D1_c0"] == pytest.approx(m["forgetting_asymptote_c0"], rel=1e-3)


def test_depth_and_rich_lazy_cli(written, tmp_path):
    res = _run("depth", "--depths", "2,8", "--width", "8", "--seeds", "1", "--steps", "200", "--lr", "0.02",
               "--lr-grid", "0.35", "--out", str(tmp_path / "d"))
    assert res.exit_code == 0, res.output
    m = _check_outputs(tmp_path / "d", "depth.png", written)
    assert m["time_to_half_sim_D9"] == pytest.approx(30.9, rel=0.01)
    res = _run("rich-lazy", "--scales", "0.01,3", "--ranks", "8", "--seeds", "1", "--steps", "600", "--width", "8",
               "--out", str(tmp_path / "r"))
    assert res.exit_code == 0, res.output
    m = _check_outputs(tmp_path / "r", "rich_lazy.png", written)
    assert m["rich_theory_rel_err_smallest_scale"] < 0.05
    assert m["weight_change_ratio_smallest_over_largest"] > 10


def test_demo_section(written, tmp_path):
    from cltk.analytics.simulate.dln.experiments import demo_section

    figs = demo_section(tmp_path)
    for sub in (tmp_path, tmp_path / "modes", tmp_path / "critical-period"):
        written(sub)
    json.dumps(figs)
    assert figs["ode_D2_onset0_Ka"] == pytest.approx(9.99, abs=0.01)
