"""The predict report (issue 15, item 3): ranking and paired differences from the law's replicates,
the overlay zoomed where schedules differ, and the law's warnings from the law file alone."""
import json
import re

import numpy as np
import pytest

from cltk.analytics.demo_curves import FIT, PEAK, STEPS, WARMUP, synthetic_curves
from cltk.analytics.law_caveats import law_caveats, record_identification
from cltk.analytics.plots import Series, overview_figure
from cltk.analytics.predict.job import run_predict
from cltk.curves import Curve
from cltk.laws import PowerAnnealLaw, read_law
from cltk.schedules import parse

SPECS = {"wsd": f"wsd:peak={PEAK},steps={STEPS},decay=0.2,shape=sqrt,warmup={WARMUP}",
         "cos": f"cosine:peak={PEAK},steps={STEPS},final={0.1 * PEAK},warmup={WARMUP}",
         "flat": f"wsd:peak={PEAK},steps={STEPS},decay=0,warmup={WARMUP}"}


def _fitted(names, n_boot):
    """A law fitted on synthetic curves as fit-scaling leaves it (what law.json records included),
    written to JSON and read back, as `cltk predict` gets it."""
    curves = [synthetic_curves()[n] for n in names]
    law = PowerAnnealLaw().fit(curves)
    if n_boot:
        law.bootstrap(curves, n=n_boot)
    record_identification(law, curves)
    law.fit_info_["notes"] = law_caveats(law, law.fit_info_["annealing_curves"])
    return type(law).from_json(law.to_json())


@pytest.fixture(scope="module")
def law():
    return _fitted(FIT, 3)


@pytest.fixture(scope="module")
def constant_law():
    return _fitted(["constant"], 0)


def test_ranking_is_the_paired_difference_of_the_replicates(law):
    scheds = {n: parse(s) for n, s in SPECS.items()}
    result = run_predict(law, scheds, level=0.8)
    rows = result.metrics["schedules"]
    at = {n: result.details["curves"][n][0] for n in scheds}
    rep = {n: law.predict_replicates(Curve.from_schedule(n, s, at[n]), steps=at[n][-1:])[:, 0]
           for n, s in scheds.items()}
    finals = {n: float(law.predict(Curve.from_schedule(n, s, at[n]), steps=at[n])[-1]) for n, s in scheds.items()}
    assert [r["name"] for r in rows] == sorted(finals, key=finals.get)
    for r in rows[1:]:
        d = rep[r["name"]] - rep[rows[0]["name"]]
        assert r["diff_vs_best"] == pytest.approx(finals[r["name"]] - finals[rows[0]["name"]], abs=1e-12)
        lo_q, med, hi_q = np.quantile(d, [0.1, 0.5, 0.9])
        assert (r["diff_lo"], r["diff_hi"]) == pytest.approx(
            (r["diff_vs_best"] - (med - lo_q), r["diff_vs_best"] + (hi_q - med)), abs=1e-12)
    html = result.report.html()
    table = html.split("<h2>Comparison</h2>")[1].split("</table>")[0]
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert len(heads) <= 8 and "spec" not in heads and "separated?" in heads
    sep = rows[1]["diff_excludes_zero"]
    assert ("the law separates them" in html) == sep and ("cannot separate them" in html) == (not sep)


def test_overlay_zooms_where_schedules_differ(law):
    result = run_predict(law, {n: parse(s) for n, s in SPECS.items()})
    series = [Series(n, at, pred, band) for n, (at, pred, band) in result.details["curves"].items()]
    ax = overview_figure(series, 0.9).axes[0]
    y_lo, y_hi = ax.get_ylim()
    x_lo, _ = ax.get_xlim()
    finals = [r["final_loss"] for r in result.metrics["schedules"]]
    at, pred, _ = result.details["curves"]["flat"]
    assert y_lo < min(finals) and max(finals) < y_hi
    assert y_hi < pred[len(pred) // 10]  # the loss a tenth into the run is above the zoom
    assert x_lo > 0.3 * STEPS  # and so are the first steps


def test_law_fitted_on_constant_lr_says_the_anneal_is_unidentified(constant_law):
    scheds = {"wsd": parse(SPECS["wsd"]), "flat": parse(SPECS["flat"])}
    result = run_predict(constant_law, scheds)  # the law file alone: no fit metrics beside it
    notes = result.metrics["notes"]
    assert any("the annealing term is not identified" in n for n in notes)  # the fit's note, from law.json
    assert any("wsd are guesses" in n for n in notes)
    finals = {r["name"]: r["final_loss"] for r in result.metrics["schedules"]}
    raised = any("ends above holding it" in n for n in notes)
    assert raised == (finals["wsd"] > finals["flat"])
    assert 'class="warn">This ranking rests on what the fit curves did not measure' in result.report.html()


def test_old_law_file_without_the_record_says_it_cannot_tell(constant_law, tmp_path):
    data = json.loads(constant_law.to_json())
    for key in ("annealing_curves", "notes", "fit_lr_max"):
        del data["fit_info"][key]
    (tmp_path / "law.json").write_text(json.dumps(data))
    result = run_predict(read_law(tmp_path / "law.json"), {"wsd": parse(SPECS["wsd"])})
    assert any("is unknown" in n for n in result.metrics["notes"])
    assert not any("are guesses" in n for n in result.metrics["notes"])


def test_lr_above_the_fit_curves_is_said(law):
    hot = f"wsd:peak={3 * PEAK},steps={STEPS},decay=0.2,shape=sqrt,warmup={WARMUP}"
    result = run_predict(law, {"hot": parse(hot), "wsd": parse(SPECS["wsd"])})
    note = next(n for n in result.metrics["notes"] if "extrapolates in LR" in n)
    assert note.startswith("hot reach(es) an LR above") and "wsd" not in note.split(":")[0]
