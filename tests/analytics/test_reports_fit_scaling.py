"""The fit-scaling report answers at a glance (issue 15, item 3): the overview zooms on the final
losses, the ranking's paired differences are those of the law's replicates, a missed interval is
marked, the main table is narrow, noisy logs are smoothed as documented."""
import json
import re

import numpy as np
import pytest

from cltk.analytics import smoothing
from cltk.analytics.demo_curves import FIT, HELDOUT, STEPS, TRUE_PARAMS, synthetic_curves
from cltk.analytics.fit_scaling.job import run_fit_scaling
from cltk.analytics.law_caveats import law_caveats
from cltk.analytics.plots import overview_figure
from cltk.analytics.ranking import length_groups
from cltk.analytics.result import write_result
from cltk.curves import Curve
from cltk.laws import MultiPowerLaw
from cltk.schedules import parse

LEVEL = 0.9


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Three synthetic curves fitted (3 refits); held out: one as generated, one whose last points
    were moved up by 0.08 (its final must miss its interval) and one logged every step (3000 points,
    1% noise: smoothed)."""
    curves = synthetic_curves()
    truth = MultiPowerLaw()
    truth.params_ = dict(TRUE_PARAMS)
    sched = parse(HELDOUT["wsd_exp"])
    steps = np.arange(STEPS - 3000, STEPS)
    clean = truth.predict(Curve.from_schedule("x", sched, steps))
    noisy = clean * (1 + 0.01 * np.random.default_rng(3).standard_normal(len(steps)))
    per_step = Curve("per_step", steps, noisy, sched.render(STEPS), {})
    lin = curves["linear"]
    moved = Curve("moved", lin.steps, np.concatenate([lin.loss[:-10], lin.loss[-10:] + 0.08]), lin.lrs, {})
    result = run_fit_scaling([curves[n] for n in FIT], [curves["wsd_sqrt"], moved, per_step], n_boot=3, level=LEVEL)
    out = tmp_path_factory.mktemp("fit")
    write_result(result, out)
    return result, out, {c.name: c for c in [curves[n] for n in FIT] + [curves["wsd_sqrt"], moved, per_step]}


def _rows(metrics):
    return {r["name"]: r for r in metrics["curves"]}


def test_overview_zooms_on_the_final_losses(fitted):
    result, out, curves = fitted
    fig = overview_figure(result.details["series"], LEVEL)
    y_lo, y_hi = fig.axes[0].get_ylim()
    finals = [r["final_loss_pred"] for r in result.metrics["curves"]]
    early = [float(c.loss[0]) for c in curves.values() if c.steps[0] < 1000]  # logged from the start
    assert y_lo < min(finals) and max(finals) < y_hi
    # the early, high loss is outside the zoom: the y-range is a fraction of the loss range
    assert y_hi < min(early) and (y_hi - y_lo) < 0.5 * (max(early) - min(finals))
    assert (out / "overview.png").stat().st_size > 10_000


def test_ranking_is_the_paired_difference_of_the_replicates(fitted):
    result, _, curves = fitted
    law = result.details["law"]
    ranking = result.metrics["ranking"]
    preds = {r["name"]: r["final_loss_pred"] for r in result.metrics["curves"]}
    ends = {r["name"]: r["final_step"] for r in result.metrics["curves"]}
    # ranked among the runs of the same length: these runs end within 2% of each other (one length)
    assert min(ends.values()) >= 0.98 * max(ends.values())
    assert [r["name"] for r in ranking] == sorted(preds, key=preds.get)
    rep = {n: law.predict_replicates(c, steps=c.steps[-1:])[:, 0] for n, c in curves.items()}
    best = ranking[0]["name"]
    for r in ranking:
        if r["name"] == best:
            assert r["diff_lo"] is None
            continue
        d = rep[r["name"]] - rep[best]
        assert r["diff_vs_best"] == pytest.approx(preds[r["name"]] - preds[best], abs=1e-12)
        # the replicates' spread around their median, placed around the fitted difference
        lo_q, med, hi_q = np.quantile(d, [0.05, 0.5, 0.95])
        lo, hi = r["diff_vs_best"] - (med - lo_q), r["diff_vs_best"] + (hi_q - med)
        assert (r["diff_lo"], r["diff_hi"]) == pytest.approx((lo, hi), abs=1e-12)
        assert r["diff_lo"] <= r["diff_vs_best"] <= r["diff_hi"]
        assert r["diff_excludes_zero"] == bool(lo > 0 or hi < 0)
        assert r["share_best_lower"] == pytest.approx(np.mean(d > 0))
    assert ranking[0]["diff_lo"] is None and ranking[0]["rank"] == 1
    logged = {r["name"]: r["final_loss_logged"] for r in ranking}
    assert sorted(logged, key=logged.get) == [r["name"] for r in sorted(ranking, key=lambda r: r["logged_rank"])]


def test_runs_of_different_lengths_are_ranked_apart():
    """The 25M runs end at steps 71920-71936, 23904-23936 and 14144: three lengths, longest first."""
    rows = [{"name": n, "final_step": s} for n, s in [("wsdcon_3", 14144), ("cosine_72000", 71920),
                                                      ("wsd", 23904), ("constant_72000", 71936), ("cosine", 23920),
                                                      ("constant", 23936), ("wsdcon_9", 14144)]]
    groups = [[r["name"] for r in g] for g in length_groups(rows)]
    assert groups == [["constant_72000", "cosine_72000"], ["constant", "cosine", "wsd"], ["wsdcon_3", "wsdcon_9"]]


def test_missed_interval_is_marked(fitted):
    result, out, _ = fitted
    moved = _rows(result.metrics)["moved"]
    assert moved["final_in_interval"] is False and moved["final_loss_true"] > moved["final_hi"]
    html = (out / "report.html").read_text()
    row = re.search(r"<tr><td class=\"l\">moved</td>.*?</tr>", html).group(0)
    assert '<td class="miss' in row and "MISSED" in row
    assert "ringed in red" in html and "moved" in html.split("Final losses outside their 90% interval")[1][:200]
    assert next(s for s in result.details["series"] if s.name == "moved").missed is True
    ok = re.search(r"<tr><td class=\"l\">wsd_sqrt</td>.*?</tr>", html).group(0)
    assert "MISSED" not in ok and _rows(result.metrics)["wsd_sqrt"]["final_in_interval"] is True


def test_main_table_is_narrow_and_the_rest_collapsed(fitted):
    _, out, _ = fitted
    html = (out / "report.html").read_text()
    main = html.split("<h2>Final losses per curve</h2>")[1].split("</table>")[0]
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", main)
    assert heads == ["curve", "role", "final logged", "final predicted", "error", "90% interval", "inside?"]
    details = html.split("<details><summary>All metrics per curve")[1].split("</details>")[0]
    assert "<th>worst_e</th>" in details and "<th>band_coverage</th>" in details
    assert '<div class="scroll"><table>' in html and ".scroll{overflow-x:auto" in html


def test_smoothing_is_the_local_quadratic_fit():
    rng = np.random.default_rng(0)
    x = np.arange(4001, dtype=float)
    y = 3 + 1 / np.sqrt(1 + x / 100) + 0.02 * rng.standard_normal(len(x))
    w = smoothing.window(len(y))
    assert w == 81 and smoothing.window(2000) is None and smoothing.smooth(y[:2000]) is None
    s = smoothing.smooth(y)
    for k in (0, 37, 2000, 3990, 4000):  # at the ends: the polynomial of the first or last window
        lo = min(max(k - w // 2, 0), len(y) - w)
        coef = np.polyfit(x[lo:lo + w], y[lo:lo + w], 2)
        assert s[k] == pytest.approx(np.polyval(coef, x[k]), abs=1e-9)
    assert smoothing.smoothed_final(y) == pytest.approx(s[-1], abs=0)


def test_noisy_log_gets_a_smoothed_final(fitted):
    result, out, curves = fitted
    rows = _rows(result.metrics)
    c = curves["per_step"]
    w = smoothing.window(len(c.loss))
    x = np.arange(len(c.loss), dtype=float)
    direct = np.polyval(np.polyfit(x[-w:], c.loss[-w:], 2), x[-1])
    r = rows["per_step"]
    assert r["final_loss_true_smoothed"] == pytest.approx(direct, abs=1e-9)
    assert r["final_loss_true"] == c.loss[-1]  # the documented key keeps its meaning: the last logged point
    assert r["final_smoothed_in_interval"] == (r["final_lo"] <= direct <= r["final_hi"])
    assert rows["wsd_sqrt"]["final_loss_true_smoothed"] is None and "final_smoothed_in_interval" not in rows["wsd_sqrt"]
    m = json.loads((out / "metrics.json").read_text())
    assert m["smoothing"].startswith("Savitzky-Golay") and "(smoothed)" in (out / "report.html").read_text()


def test_law_file_records_what_predictions_need(fitted):
    result, out, _ = fitted
    info = json.loads((out / "law.json").read_text())["fit_info"]
    assert info["annealing_curves"] == ["cosine", "twostage"]  # the constant run does not decay
    assert info["fit_lr_max"] == pytest.approx(3e-4)
    # the law's own caveats (here: the fit's notes but the one about the held-out intervals' width)
    assert info["notes"] == law_caveats(result.details["law"], ["cosine", "twostage"])
    assert info["notes"] == [n for n in result.metrics["notes"] if "held-out final losses" not in n]
