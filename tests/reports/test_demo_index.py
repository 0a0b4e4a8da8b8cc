"""The demo index's pieces without a browser: each section's one-line verdict is built from its own
figures (the winner is whichever the numbers say, the numbers are the section's), and the thumbnail
is the first figure of the named report shrunk into the thumbnail box."""
import importlib

import matplotlib.image as mpimg
import pytest

from cltk.analytics.demo import SECTIONS, THUMB_HEIGHT, THUMB_WIDTH, thumbnail
from cltk.analytics.report import plt
from cltk.analytics.result import Result, write_result


def _module(folder):
    return importlib.import_module(next(s.module for s in SECTIONS if s.folder == folder))


def test_every_section_module_has_the_three_demo_functions():
    for s in SECTIONS:
        m = importlib.import_module(s.module)
        assert all(callable(getattr(m, f, None)) for f in ("demo_section", "demo_verdict", "demo_figure")), s.module


@pytest.mark.parametrize("best", ["poweranneal", "multipower", "momentum"])
def test_fit_scaling_verdict_names_the_law_with_the_lowest_pred_e(best):
    m = _module("fit_scaling")
    figures = {"heldout_curves": 3, "noise": 1e-3}
    for i, law in enumerate(("poweranneal", "multipower", "momentum")):
        figures[f"{law}_heldout_pred_e"] = 0.0007 if law == best else 0.0009 + 1e-4 * i
        figures[f"{law}_heldout_worst_e"] = 0.003
    v = m.demo_verdict(figures)
    assert v.startswith(f"{best} predicts the 3 held-out schedules best: mean PredE 0.0007, worst 0.003 (")
    assert v.endswith("; the logs carry 0.1% noise).") and v.count("0.0007") == 1
    assert m.demo_figure(figures) == f"{best}/report.html"


def test_select_schedule_verdict_compares_families_and_the_cosine_baseline():
    m = _module("select_schedule")
    figures = {"wsd_final_loss": 3.3561, "cosine_final_loss": 3.3574, "free_final_loss": 3.354,
               "cosine10_baseline_final_loss": 3.4166}
    assert m.demo_verdict(figures) == ("The best free schedule has the lowest predicted final loss, 3.3540 "
                                       "(wsd 3.3561, cosine 3.3574), 0.0626 below cosine to 10% of peak.")
    assert m.demo_figure(figures) == "free/report.html"
    figures["wsd_final_loss"] = 3.35
    assert m.demo_figure(figures) == "wsd/report.html"


def test_simulate_verdict_counts_the_learners_where_power_law_rehearsal_wins():
    m = _module("simulate")
    figures = {"nqm_mc_max_rel_err": 0.0123, "river_cosine_minus_wsd_final": 0.0168,
               "rehearsal_linear_power_minus_uniform_final_acc": 0.012,
               "rehearsal_deep_power_minus_uniform_final_acc": -0.003,
               "rehearsal_mlp_power_minus_uniform_final_acc": 0.0}
    assert m.demo_verdict(figures) == (
        "NQM: Monte Carlo within 1.2% of the exact loss; river valley: WSD ends 0.0168 below cosine; power-law "
        "rehearsal beats uniform in 1 of 3 learners (final accuracy +0.012 linear, -0.003 deep, +0.000 mlp).")
    figures["river_cosine_minus_wsd_final"] = -0.002
    assert "WSD ends 0.002 above cosine" in m.demo_verdict(figures)


def test_validate_verdict_lists_the_laws_it_measured():
    m = _module("validate")
    figures = {"runs_total": 8, "runs_reused": 0, "poweranneal_heldout_final_rel_err_mean": 0.0041,
               "multipower_heldout_final_rel_err_mean": 0.0052, "momentum_heldout_final_rel_err_mean": None,
               "cpt_old_heldout_final_rel_err_mean": 0.008, "cpt_new_heldout_final_rel_err_mean": 0.011,
               "cpt_selected_is_real_best": False}
    assert m.demo_verdict(figures) == (
        "On 8 proxy runs the laws predict held-out final losses within poweranneal 0.41%, multipower 0.52%; the "
        "CPT law within 0.80% (old domain) and 1.10% (new domain), and the setting it selects is not the real best.")


def test_proxy_and_dln_verdicts_carry_their_figures():
    proxy = _module("proxy").demo_verdict({
        "params": 60512, "val_loss_decrease_prose": 0.8123, "val_loss_decrease_code": 0.9456,
        "forgetting_prose": 0.0274, "forgetting_prose_replay": -0.0766})
    assert proxy == ("A 60,512-parameter model lowers its validation loss by 0.812 (prose) and 0.946 (code) "
                     "nats/byte; switching to code changes its prose loss by +0.027 (forgetting), and by -0.077 "
                     "with 10% prose replay.")
    dln = _module("dln").demo_verdict({"modes_max_rel_err": 0.0132, "sim_time_to_converge_D2": 9.20577,
                                       "closed_form_time_to_converge": 9.21024, "sgd_ode_max_abs_diff": 0.04926})
    assert dln == ("Simulated networks follow the closed-form mode dynamics of Saxe et al. within 1.32% (converged "
                   "at t = 9.21, closed form 9.21); in the critical-period model SGD ends within 0.0493 of the "
                   "ODE's pathway strengths.")


def test_thumbnail_is_the_first_figure_shrunk_into_the_box(tmp_path):
    res = Result("two figures", {})
    for name, colour in (("first", "tab:red"), ("second", "tab:blue")):
        fig, ax = plt.subplots(figsize=(10, 4))
        ax.axvspan(0, 1, color=colour)
        ax.set_axis_off()
        res.report.figure(fig, name)
    write_result(res, tmp_path)
    first = mpimg.imread(tmp_path / "first.png")
    thumb = thumbnail(tmp_path / "report.html")
    thumb.savefig(tmp_path / "thumb.png", dpi=110)  # Report.figure's dpi
    got = mpimg.imread(tmp_path / "thumb.png")
    h, w = first.shape[:2]
    scale = min(THUMB_WIDTH / w, THUMB_HEIGHT / h)
    assert abs(got.shape[1] - w * scale) <= 1 and abs(got.shape[0] - h * scale) <= 1
    # the first figure (red), not the second (blue): the middle pixel is red
    r, g, b = got[got.shape[0] // 2, got.shape[1] // 2, :3]
    assert r > 0.7 and b < 0.3
    empty = Result("no figure", {})
    write_result(empty, tmp_path / "empty")
    assert thumbnail(tmp_path / "empty" / "report.html") is None
