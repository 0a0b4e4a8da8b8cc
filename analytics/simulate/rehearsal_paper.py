"""``cltk simulate rehearsal --setting paper``: the phase-mixture setting of Gandhi, Shah, Marupudi &
Varma (2024, "Catastrophic interference is mitigated in naturalistic power-law learning
environments", arXiv:2401.10393 v1) on the permuted-digits stand-in for permuted MNIST: power-law vs
uniform vs exponential replay at equal budget, no/full-rehearsal baselines, bounded reservoir and
class-balanced buffers, the standard continual-learning metrics (:mod:`cltk.continual_metrics`)
with paired 95% CIs, and sweeps of the power-law exponent and of the budget."""
from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd

from cltk import continual_metrics as CM
from cltk.analytics.report import plt
from cltk.analytics.result import Result, json_safe
from cltk.analytics.simulate.schedules import ci95
from cltk.errors import InputError

TITLE = "Power-law rehearsal in the setting of Gandhi et al. (2024): phase mixtures on permuted digits"
METRICS = ("avg_acc", "forgetting", "bwt", "fwt", "min_acc", "wc_acc", "stability_gap")
#: the conditions of the headline comparison: (kernel, replay source)
CONDITIONS = (("power", "all"), ("uniform", "all"), ("exponential", "all"), ("power", "reservoir"),
              ("uniform", "reservoir"), ("power", "class_balanced"), ("uniform", "class_balanced"))


def _train(conds, *, data, labels, tasks, budget, exponent, tau, seeds, memory_size, epochs, hidden, batch, lr,
           evals, seed, device):
    from cltk.models.rehearsal.phase_mlp import run_mlp_phases
    from cltk.models.rehearsal.phases import make_phase_plans

    plan = make_phase_plans(labels, tasks, conds, budget, seeds, exponent, tau, memory_size, seed=seed)
    out = run_mlp_phases(plan, data, epochs, hidden, batch, lr, evals, seed, device=device)
    curve, ends = out["curve"], out["task_ends"]
    R = CM.accuracy_matrix(curve, ends)
    m = CM.standard_metrics(R, baseline=curve[..., 0, :], curve=curve, learned_at=ends)
    old = np.arange(tasks)[None, :] < np.arange(1, tasks)[:, None]  # switch s: tasks learned before it
    m["stability_gap"] = CM.stability_gap(curve, ends[:-1], evals, old)
    return {c: {k: v[i] for k, v in m.items()} for i, c in enumerate(conds)}, R


def _paired(metrics, prefix, a, b, name="avg_acc"):
    mean, half = ci95(a[name] - b[name])
    metrics[f"{prefix}"] = float(mean)
    metrics[f"{prefix}_ci95"] = float(half)
    return float(mean), float(half)


def run_paper(*, tasks: int = 10, budget: float = 0.5, exponent: float = 1.5, tau: float = 1.0, seeds: int = 20,
              epochs: int = 3, hidden=(100, 100), batch: int = 32, lr: float = 0.1, memory_size: int = 200,
              evals_per_phase: int = 4, test_per_task: int = 200, exponents=(), budgets=(), sweep_seeds: int = 10,
              conditions=CONDITIONS, seed: int = 0, device: str = "cpu", log=print) -> Result:
    """The Gandhi et al. (2024) comparison (see the module doc; environment in
    :mod:`cltk.models.rehearsal.phases`): every condition at ``budget`` with ``seeds`` paired seeds,
    then power vs uniform at each of ``exponents`` and ``budgets`` with ``sweep_seeds`` seeds.
    Scores are test accuracies (classification), so ``avg_acc`` is an accuracy."""
    t0 = time.perf_counter()
    if tasks < 2 or seeds < 2:
        raise InputError(f"need at least 2 tasks and 2 seeds (got {tasks}, {seeds})")
    if not 0 < budget <= 1 or any(not 0 < b <= 1 for b in budgets):
        raise InputError("budgets must be in (0, 1]")
    from cltk.models.rehearsal.mlp import load_digit_tasks

    n = max(seeds, sweep_seeds if (exponents or budgets) else 0)
    data = load_digit_tasks(tasks, n, test_per_task, seed)
    labels = data.y_train.numpy()
    kw = dict(data=data, labels=labels, tasks=tasks, tau=tau, memory_size=memory_size, epochs=epochs,
              hidden=tuple(hidden), batch=batch, lr=lr, evals=evals_per_phase, seed=seed, device=device)
    metrics = {"model": "rehearsal_paper", "tasks": tasks, "budget": budget, "exponent": exponent, "tau": tau,
               "seeds": seeds, "epochs": epochs, "hidden": ",".join(map(str, hidden)), "batch": batch, "lr": lr,
               "memory_size": memory_size, "train_per_task": len(labels), "test_per_task": len(data.y_test),
               "score": "test accuracy"}
    log(f"rehearsal paper setting: {len(conditions)} conditions x {seeds} seeds, {tasks} phases")
    n_train, done = 3 + len(exponents) + len(budgets), itertools.count(1)  # conditions, 2 baselines, sweeps

    def trained() -> None:  # one training of the conditions, a baseline or a sweep point finished
        log(f"rehearsal paper trainings {next(done)}/{n_train}")

    log(f"rehearsal paper trainings 0/{n_train}")
    res, R = _train(tuple(conditions), budget=budget, exponent=exponent, seeds=seeds, **kw)
    trained()
    for base in (("none", "all"), ("full", "all")):
        r, _ = _train((base,), budget=budget, exponent=exponent, seeds=seeds, **kw)
        res.update(r)
        trained()
    runs = []
    for (k, mem), m in res.items():
        tag = k if mem == "all" else f"{k}_{mem}"
        for name in METRICS:
            mean, half = ci95(m[name])
            metrics[f"paper_{tag}_{name}"] = float(mean)
            metrics[f"paper_{tag}_{name}_ci95"] = float(half)
        runs += [{"kernel": k, "memory": mem, "seed": s, **{x: float(m[x][s]) for x in METRICS}} for s in range(seeds)]
    for mem in ("all", "reservoir", "class_balanced"):
        if ("power", mem) in res and ("uniform", mem) in res:
            tag = "" if mem == "all" else f"_{mem}"
            for name in METRICS:
                _paired(metrics, f"paper{tag}_power_minus_uniform_{name}", res[("power", mem)],
                        res[("uniform", mem)], name)
    sweep = []
    # one factor at a time: the exponent at the paper's budget, the budget at the paper's exponent
    runs = [("exponent", v, {"budget": budget, "exponent": v}) for v in exponents] + \
           [("budget", v, {"budget": v, "exponent": exponent}) for v in budgets]
    for what, v, setting in runs:
        r, _ = _train((("power", "all"), ("uniform", "all")), seeds=sweep_seeds, **setting, **kw)
        d, h = _paired(metrics, f"sweep_{what}_{v:g}_power_minus_uniform_avg_acc", r[("power", "all")],
                       r[("uniform", "all")])
        sweep.append({"sweep": what, "value": v, "power_minus_uniform_avg_acc": d, "ci95": h})
        trained()
    metrics["sweep_seeds"] = sweep_seeds if sweep else 0
    metrics["verdict"] = paper_verdict(metrics)
    metrics["seconds"] = round(time.perf_counter() - t0, 3)
    metrics = json_safe(metrics)
    tables = {"runs": pd.DataFrame(runs)}
    if sweep:
        tables["sweep"] = pd.DataFrame(sweep)
    result = Result(TITLE, metrics, tables=tables)
    _report(result.report, metrics, R, conditions, sweep)
    return result


def paper_verdict(m: dict) -> str:
    """One sentence: the sign of power - uniform average accuracy and whether its paired 95% CI excludes 0."""
    d, h = m["paper_power_minus_uniform_avg_acc"], m["paper_power_minus_uniform_avg_acc_ci95"]
    if abs(d) <= h:
        word = "no detectable difference between power-law and uniform rehearsal"
    elif d > 0:
        word = "power-law rehearsal beats uniform rehearsal"
    else:
        word = "uniform rehearsal beats power-law rehearsal (the paper's advantage is not reproduced)"
    return (f"{word}: power - uniform average accuracy = {d:+.4f} +- {h:.4f} (paired 95% CI, {m['seeds']} seeds, "
            f"budget {m['budget']:g}, exponent {m['exponent']:g}).")


def _report(rep, m, R, conditions, sweep):
    rep.text(f"{m['tasks']} permuted-digit tasks, one phase each; phase i trains on task i plus "
             f"{m['budget']:.0%} as many rehearsal examples of earlier tasks, shared out by lag^-{m['exponent']:g} "
             f"(power), evenly (uniform) or exp(-lag/{m['tau']:g}) (exponential); buffers hold "
             f"{m['memory_size']} examples. Scores are test accuracies. Stand-in for permuted MNIST: sklearn's 8x8 "
             "digits (no download possible).")
    rep.heading("Verdict").text(m["verdict"])
    rows = []
    for k, mem in list(conditions) + [("none", "all"), ("full", "all")]:
        tag = k if mem == "all" else f"{k}_{mem}"
        rows.append({"condition": tag, **{x: f"{m[f'paper_{tag}_{x}']:.4f} +- {m[f'paper_{tag}_{x}_ci95']:.4f}"
                                           for x in METRICS}})
    rep.heading("Standard metrics (mean +- 95% CI over seeds)").table(rows)
    fig, ax = plt.subplots(1, 1 + bool(sweep), figsize=(11 if sweep else 5.5, 4), squeeze=False)
    ax = ax[0]
    for i, (k, mem) in enumerate(conditions[:3]):
        ax[0].plot(R[i].mean(0)[-1], "o-", label=f"{k} ({mem})")
    ax[0].set(xlabel="task", ylabel="final test accuracy", title="R[K-1, j], mean over seeds")
    ax[0].legend(fontsize=7)
    if sweep:
        for name, mk in (("exponent", "o-"), ("budget", "s-")):
            pts = [r for r in sweep if r["sweep"] == name]
            if pts:
                ax[1].errorbar([r["value"] for r in pts], [r["power_minus_uniform_avg_acc"] for r in pts],
                               [r["ci95"] for r in pts], fmt=mk, label=name, capsize=3)
        ax[1].axhline(0, color="grey", lw=0.5)
        ax[1].set(xlabel="exponent / budget", ylabel="power - uniform ACC (95% CI)", title="sweeps")
        ax[1].legend(fontsize=7)
    rep.figure(fig, "rehearsal_paper")
