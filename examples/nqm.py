"""Analytic models under LR schedules: the noisy quadratic model (Zhang et al. 2019), the river valley
(Wen et al. 2024) and power-law rehearsal environments (Anderson & Schooler 1991)."""
import numpy as np

from cltk.laws import MultiPowerLaw
from cltk.models import nqm
from cltk.models import rehearsal as R
from cltk.models import river_valley as rv
from cltk.schedules import parse

names = ["cosine", "wsd", "twostage"]
lrs = np.stack([parse(s).render(1000) for s in ("cosine:peak=0.5,steps=1000", "wsd:peak=0.5,steps=1000,decay=0.2",
                                                "twostage:peak=0.5,low=0.1,switch=700,steps=1000")])
h, c = nqm.spectrum(32, h_max=1.0, power=1.0, noise=0.1)  # c = 0.1 h: the model of `cltk simulate nqm`
steps, loss = nqm.expected_loss(h, c, lrs, every=10)                   # exact, (3, 101)
_, mc, sem = nqm.sgd_monte_carlo(h, c, lrs, seeds=2_000, every=10)     # Monte Carlo check
print("NQM final loss, exact vs Monte Carlo:", loss[:, -1].round(4), mc[:, -1].round(4))
print(f"max relative error {np.max(np.abs(mc[:, 1:] / loss[:, 1:] - 1)):.2%}")
study = nqm.study_batch_sizes(h, c, 2.0 ** np.arange(13), target=0.01 * loss[0, 0])  # LR tuned per batch
print("critical batch sizes:", {opt: round(b, 1) for opt, b in study.critical.items()})

res = rv.expected(rv.Valley(hill_curv=(0.05, 0.2, 0.8), hill_noise=(0.05,)), lrs, every=10)  # river/hill/loss
curves = rv.to_curves(res, lrs, names)                                 # cltk.curves.Curve objects
pred = MultiPowerLaw().fit(curves[:2]).predict(curves[2])              # the law predicts a third schedule
print(f"river valley: twostage final loss {curves[2].loss[-1]:.4f}, multi-power law predicts {pred[-1]:.4f}")

env = R.make_environment(n_tasks=6, n_blocks=60, budget=0.3, exponent=0.5, seeds=5)
perf = R.run_linear(env, R.make_linear_tasks(6, seeds=5), 20, np.full(1200, 0.02))
metrics = R.continual_metrics(perf, env.tasks, env.intro, block_steps=20, eval_every=1)
for kernel, acc in zip(env.kernels, metrics["final_acc"]):  # metrics: (kernel, seed) arrays
    print(f"rehearsal {kernel}: final accuracy {acc.mean():.3f} +- {acc.std():.3f} over {len(acc)} seeds")
