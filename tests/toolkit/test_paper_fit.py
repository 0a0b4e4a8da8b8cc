"""The multi-power law's published fitting procedure (cltk.laws.paper_fit, procedure="paper")."""
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cltk.analytics.protocols import MPL_25M
from cltk.cli.main import cli
from cltk.curves import Curve
from cltk.laws import LawError, MultiPowerLaw, load_law, paper_fit
from cltk.schedules import parse

FIT, HELDOUT = list(MPL_25M.fit), list(MPL_25M.heldout)
SPECS = ["cosine:peak=3e-4,steps=4000,final=3e-5,warmup=200",
         "warmup:peak=3e-4,steps=200 + constant:lr=3e-4,steps=3800",
         "wsd:peak=3e-4,steps=4000,decay=0.3,shape=linear,final=3e-5,warmup=200"]


def test_adamw_step_matches_torch_adamw():
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=7)
    lr = np.array([5e-2, 5e-2, 5e-2, 5e-3, 5e-2, 5e-3, 5e-3])
    params = [torch.nn.Parameter(torch.tensor(v, dtype=torch.float64)) for v in p0]
    opt = torch.optim.AdamW([{"params": [params[i] for i in (0, 1, 2, 4)], "lr": 5e-2},
                             {"params": [params[i] for i in (3, 5, 6)], "lr": 5e-3}])
    p, m, v = p0.copy(), np.zeros(7), np.zeros(7)
    for t in range(1, 31):
        g = rng.normal(size=7) * 10.0 ** rng.integers(-4, 2, size=7)
        for q, gi in zip(params, g):
            q.grad = torch.tensor(gi, dtype=torch.float64)
        opt.step()
        paper_fit.adamw_step(p, g, m, v, t, lr)
    np.testing.assert_allclose(p, [q.item() for q in params], rtol=1e-12, atol=1e-14)


def _curves(truth_fn, specs, n=4000, every=40):
    steps = np.arange(every, n, every)
    out = []
    for spec in specs:
        sched = parse(spec)
        c = Curve.from_schedule(spec, sched, steps)
        out.append(Curve(spec, c.steps, truth_fn(c), c.lrs))
    return out


def test_initial_guess_recovers_the_simplified_law():
    L0, A, alpha, B = 2.9, 0.6, 0.45, 500.0

    def simplified(c):
        return L0 + A * np.cumsum(c.lrs)[c.steps] ** -alpha - B * (3e-4 - c.lrs[c.steps])

    curves = _curves(simplified, SPECS)
    w = np.ones(sum(len(c.steps) for c in curves))
    np.testing.assert_allclose(paper_fit.initial_guess(curves, w, 1e-3), [L0, A, alpha, B], rtol=1e-5)


def test_paper_procedure_fits_round_trips_and_bootstraps():
    truth = MultiPowerLaw(procedure="paper")
    truth.params_ = {"L0": 3.0, "A": 0.5, "B": 400.0, "alpha": 0.5, "C": 2.0, "beta": 0.55, "gamma": 0.6}
    curves = _curves(truth.predict, SPECS)
    law = MultiPowerLaw(procedure="paper").fit(curves)
    assert law.fit_info_["procedure"] == "paper" and 20 < law.fit_info_["nfev"] <= paper_fit.MAX_STEPS
    for c in curves:  # early-stopped, so near but not at the truth
        assert np.max(np.abs(law.predict(c) / c.loss - 1)) < 0.01
    back = load_law(law.to_json())
    assert back.procedure == "paper" and back.curve_weighting == "points"
    np.testing.assert_allclose(back.predict(curves[0]), law.predict(curves[0]), rtol=1e-12)
    law.bootstrap(curves, n=2)
    lo, hi = law.predict_interval(curves[2])
    assert np.all(lo <= hi) and len(law.boot_params_) == 2


def test_bad_procedure_is_rejected(tmp_path):
    with pytest.raises(LawError, match="procedure must be one of"):
        MultiPowerLaw(procedure="adam")
    with pytest.raises(LawError, match="fix none"):
        MultiPowerLaw(procedure="paper", beta=0.5).fit(
            _curves(lambda c: 3 + np.cumsum(c.lrs)[c.steps] ** -0.5,
                    ["cosine:peak=3e-4,steps=4000,final=3e-5,warmup=200"]))
    src = tmp_path / "c.csv"
    src.write_text("step,lr,loss\n" + "".join(f"{s},{3e-4},{3 + 1 / s}\n" for s in range(10, 500, 10)))
    r = CliRunner().invoke(cli, ["fit-scaling", str(src), "--law", "momentum", "--procedure", "paper",
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and r.output.strip().count("\n") == 0 and "momentum law offers converged" in r.output
    assert "--procedure" in r.output  # refused as a flag, before any file is read


def test_paper_procedure_reproduces_published_figures(mpl25m, tmp_path):
    """Luo et al. (2025) report held-out PredE 0.00110 / WorstE 0.00409 on these curves; the
    issue's bounds are 10% above them."""
    args = ["fit-scaling", *MPL_25M.fit_scaling_args(mpl25m), "--procedure", "paper",
            "--intervals", "0", "--out", str(tmp_path)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["procedure"] == "paper"
    assert m["heldout"]["pred_e"] <= 0.00121 and m["heldout"]["worst_e"] <= 0.0045
