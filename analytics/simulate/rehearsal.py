"""``cltk simulate rehearsal``: power-law vs uniform vs exponential rehearsal at equal budget
(Anderson & Schooler 1991 environments; Gandhi et al. 2024), on a linear, a deep-linear and an MLP
learner, with per-iteration evaluation, forgetting, knowledge accumulation and the stability gap
(De Lange et al. 2023), several seeds and 95% confidence intervals."""
from __future__ import annotations

import importlib.util
import time

import numpy as np
import pandas as pd

from cltk.analytics.report import plt
from cltk.analytics.result import Result, json_safe
from cltk.analytics.simulate.schedules import ci95, parse_all, render_schedules
from cltk.errors import InputError
from cltk.models import rehearsal as R
from cltk.schedules import Schedule

TITLE = "Power-law rehearsal environments: forgetting, knowledge accumulation, stability gap"
LEARNERS = ("linear", "deep", "mlp")
METRICS = ("final_acc", "knowledge", "forgetting", "min_acc", "stability_gap", "avg_acc", "bwt", "fwt", "wc_acc",
           "worst_after_switch")
#: what "acc" means per learner: the regression learners score explained variance, which can be negative
SCORE = {"linear": "explained variance 1 - L/L(0) (can be negative)",
         "deep": "explained variance 1 - L/L(0) (can be negative)", "mlp": "test accuracy"}
#: regression learners see a population gradient (no noise) and would refit each block fully at the
#: MLP's rate; a smaller rate lets them integrate over blocks, as the MLP does
DEFAULT_LR = {"linear": "constant:lr=0.02", "deep": "constant:lr=0.02", "mlp": "constant:lr=0.1"}
HIGHER_IS_BETTER = {"final_acc": True, "knowledge": True, "forgetting": False, "min_acc": True,
                    "stability_gap": False, "avg_acc": True, "bwt": True, "fwt": True, "wc_acc": True,
                    "worst_after_switch": True}


def rehearsal_lags(env: R.Environment, e: int) -> np.ndarray:
    """Blocks since the rehearsed task last occurred, at every rehearsal block (all seeds)."""
    out = []
    for n in range(env.tasks.shape[1]):
        seq = env.tasks[e, n]
        for b in np.flatnonzero(env.rehearse[n]):
            prev = np.flatnonzero(seq[:b] == seq[b])
            out.append(b - prev[-1])
    return np.asarray(out, dtype=int)


def run_rehearsal(*, learners=LEARNERS, schedule: Schedule | None = None, n_tasks: int = 6, n_blocks: int = 60,
                  block_steps: int = 20, budget: float = 0.3, exponent: float = 0.5, tau: float | None = None,
                  seeds: int = 5, eval_every: int = 2, dim: int = 32, rank: int = 16, similarity: float = 0.5,
                  hidden: int = 64, batch: int = 32, test_per_task: int = 200, seed: int = 0, log=print) -> Result:
    """Run every learner on the power-law, uniform and exponential environments of one seed set
    (Anderson & Schooler 1991 recurrence odds; equal rehearsal budget) and compare them with paired
    95% CIs. ``schedule``: the LR over the whole run (default per learner, :data:`DEFAULT_LR`).
    The Result holds the runs, results (curves with CIs) and environment tables and the report."""
    t0 = time.perf_counter()
    learners = list(dict.fromkeys(learners))
    bad = [ln for ln in learners if ln not in LEARNERS]
    if bad or not learners:
        raise InputError(f"unknown learner(s) {bad} (choose from {', '.join(LEARNERS)})")
    # cross-value constraints (each value alone is checked where it is read)
    if n_blocks < n_tasks:
        raise InputError(f"need at least one block per task ({n_tasks} tasks), got {n_blocks} blocks")
    if block_steps % eval_every:
        raise InputError(f"the evaluation interval ({eval_every} steps) must divide the steps per block "
                         f"({block_steps}): task switches must fall on evaluations")
    if rank > dim:
        raise InputError(f"task input rank {rank} exceeds the input dimension {dim}")
    if "mlp" in learners and importlib.util.find_spec("sklearn") is None:
        raise InputError("the mlp learner needs scikit-learn (pip install scikit-learn)")
    T = n_blocks * block_steps
    scheds = {ln: schedule or parse_all([DEFAULT_LR[ln]])[0] for ln in learners}
    lr_of = {ln: render_schedules([scheds[ln]], T)[2][0] for ln in learners}
    # gradient descent on a quadratic diverges once lr * (largest input variance) >= 2
    if "linear" in learners and lr_of["linear"].max() * dim / rank >= 2:
        raise InputError(f"schedule '{scheds['linear'].spec}': peak LR {lr_of['linear'].max():g} >= "
                         f"2 rank/dim = {2 * rank / dim:g}: the linear learner would diverge")
    env = R.make_environment(n_tasks, n_blocks, budget, R.KERNELS, exponent, tau, seeds, seed)
    metrics = {"model": "rehearsal", "tasks": n_tasks, "blocks": n_blocks, "block_steps": block_steps,
               "budget": budget, "rehearsal_blocks_per_seed": int(env.rehearse[0].sum()), "exponent": exponent,
               "tau": env.tau, "seeds": seeds, "eval_every": eval_every, "learners": ",".join(learners)}
    lags = {k: rehearsal_lags(env, e) for e, k in enumerate(env.kernels)}
    for k, v in lags.items():
        metrics[f"rehearsal_lag_mean_{k}"] = float(v.mean()) if len(v) else None
    perfs, runs, rows = {}, [], []
    for learner in learners:
        t1 = time.perf_counter()
        lrs = lr_of[learner]
        metrics[f"{learner}_schedule"] = scheds[learner].spec
        metrics[f"{learner}_score"] = SCORE[learner]
        log(f"rehearsal: {learner} learner, {len(env.kernels)} environments x {seeds} seeds x {T} steps")
        if learner == "mlp":
            from cltk.models.rehearsal.mlp import load_digit_tasks, run_mlp

            data = load_digit_tasks(n_tasks, seeds, test_per_task, seed)
            perf = run_mlp(env, data, block_steps, lrs, eval_every, hidden, batch, seed)
        else:
            lt = R.make_linear_tasks(n_tasks, dim, rank, similarity, seeds, seed)
            perf = R.run_linear(env, lt, block_steps, lrs, eval_every, depth=1 if learner == "linear" else 2,
                                hidden=16, init_scale=0.01 if learner == "linear" else 0.1, seed=seed)
        # an explained variance below -1e3 means the weights blew up: the LR is past the stable range
        if not np.all(np.isfinite(perf)) or perf.min() < -1e3:
            raise InputError(f"schedule '{scheds[learner].spec}': the {learner} learner diverged "
                             "(non-finite performance); lower the LR")
        perfs[learner] = perf
        cm = R.continual_metrics(perf, env.tasks, env.intro, block_steps, eval_every)
        for e, k in enumerate(env.kernels):
            for n in range(seeds):
                runs.append({"learner": learner, "kernel": k, "seed": n, **{m: float(cm[m][e, n]) for m in METRICS}})
        for m in METRICS:
            for e, k in enumerate(env.kernels):
                mean, half = ci95(cm[m][e])
                metrics[f"{learner}_{k}_{m}"] = float(mean)
                metrics[f"{learner}_{k}_{m}_ci95"] = float(half)
            for other in ("uniform", "exponential"):
                d = cm[m][env.kernels.index("power")] - cm[m][env.kernels.index(other)]
                mean, half = ci95(d)
                metrics[f"{learner}_power_minus_{other}_{m}"] = float(mean)
                metrics[f"{learner}_power_minus_{other}_{m}_ci95"] = float(half)
            means = np.array([cm[m][e].mean() for e in range(len(env.kernels))])
            best = int(np.argmax(means) if HIGHER_IS_BETTER[m] else np.argmin(means))
            metrics[f"{learner}_best_{m}"] = env.kernels[best]
        metrics[f"{learner}_seconds"] = round(time.perf_counter() - t1, 3)
        mean_curve = perf.mean(-1)  # (E, N, n_eval): mean accuracy over all tasks
        for e, k in enumerate(env.kernels):
            mu, half = ci95(mean_curve[e], axis=0)
            rows.append(pd.DataFrame({"learner": learner, "kernel": k,
                                      "step": np.arange(perf.shape[2]) * eval_every, "mean_acc": mu,
                                      "ci95": half}))
    metrics["seconds"] = round(time.perf_counter() - t0, 3)
    metrics = json_safe(metrics)
    environment = pd.DataFrame(
        [{"kernel": k, "seed": n, "block": b, "task": int(env.tasks[e, n, b]), "rehearsal": bool(env.rehearse[n, b])}
         for e, k in enumerate(env.kernels) for n in range(seeds) for b in range(n_blocks)])
    result = Result(TITLE, metrics, tables={"runs": pd.DataFrame(runs), "results": pd.concat(rows, ignore_index=True),
                                            "environment": environment})
    _report(result.report, env, lags, perfs, metrics, learners, block_steps, eval_every)
    return result


def verdict(metrics: dict, learner: str) -> str:
    """One honest sentence per learner: who wins on final accuracy and whether the paired CI says so."""
    parts, any_sig = [], False
    for other in ("uniform", "exponential"):
        d = metrics[f"{learner}_power_minus_{other}_final_acc"]
        h = metrics[f"{learner}_power_minus_{other}_final_acc_ci95"]
        sig = h is not None and abs(d) > h
        any_sig |= sig
        parts.append(f"power - {other} = {d:+.3f} +- {h or 0:.3f} ({'significant' if sig else 'not significant'})")
    if not any_sig:  # a "best" kernel would be noise (or a tie: every kernel rehearsed the same tasks)
        return f"{learner}: the paired CIs do not separate the kernels on final accuracy; " + "; ".join(parts) + "."
    return (f"{learner}: best final accuracy under '{metrics[f'{learner}_best_final_acc']}' rehearsal; "
            + "; ".join(parts) + f"; least forgetting under '{metrics[f'{learner}_best_forgetting']}'.")


def _report(rep, env, lags, perfs, m, learners, block_steps, eval_every):
    rep.text("Accuracy: test accuracy (MLP on permuted digits) or explained variance 1 - L/L(0) (linear and "
             "deep-linear regression; not an accuracy: negative when worse than the zero predictor). Metrics: "
             "cltk.continual_metrics (forgetting over the first K-1 tasks, Chaudhry et al. 2018; BWT/FWT, "
             "Lopez-Paz & Ranzato 2017; min-ACC / WC-ACC per task over every later evaluation and the "
             "stability gap, De Lange et al. 2023).")
    rep.text(f"{env.n_tasks} tasks introduced in order over {env.n_blocks} blocks of {block_steps} steps; "
             f"{m['rehearsal_blocks_per_seed']} blocks per seed (budget {env.budget:.0%} of the eligible "
             f"blocks) rehearse an old task, chosen by its lag d since last occurrence with odds d^-{env.exponent} "
             f"(power, Anderson & Schooler 1991), 1 (uniform) or exp(-d/{env.tau:g}) (exponential). Same "
             f"rehearsal positions and random numbers under every kernel: equal budget, paired seeds.")
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    for e, k in enumerate(env.kernels):
        ax[0].plot(np.arange(env.n_blocks), env.tasks[e, 0] + 0.12 * (e - 1), ".", ms=5, label=k)
        if len(lags[k]):
            cnt = np.bincount(lags[k])
            d = np.flatnonzero(cnt)
            ax[1].loglog(d, cnt[d] / cnt.sum(), "o-", ms=3, label=k)
    ax[0].set(xlabel="block", ylabel="task (seed 0)")
    ax[0].legend(fontsize=8)
    ax[1].set(xlabel="lag of the rehearsed task (blocks)", ylabel="fraction of rehearsals")
    if ax[1].get_legend_handles_labels()[0]:  # no rehearsal at all (budget 0): nothing to label
        ax[1].legend(fontsize=8)
    rep.heading("Environments").figure(fig, "environments")
    rep.heading("Verdict (final accuracy, paired 95% CIs over seeds)")
    for ln in learners:
        rep.text(verdict(m, ln))
    for ln in learners:
        perf = perfs[ln]
        rep.heading(f"Learner: {ln}")
        rep.table([{"kernel": k, **{met: f"{m[f'{ln}_{k}_{met}']:.4f} +- {m[f'{ln}_{k}_{met}_ci95']:.4f}"
                                    for met in METRICS}} for k in env.kernels])
        steps = np.arange(perf.shape[2]) * eval_every
        fig, ax = plt.subplots(1, 2, figsize=(12, 3.8))
        for e, k in enumerate(env.kernels):
            mu, half = ci95(perf[e].mean(-1), axis=0)
            line, = ax[0].plot(steps, mu, lw=1, label=k)
            ax[0].fill_between(steps, mu - half, mu + half, color=line.get_color(), alpha=0.2)
        ax[0].set(xlabel="step", ylabel="mean accuracy over all tasks", title="knowledge accumulation (95% CI)")
        ax[0].legend(fontsize=8)
        for t in range(perf.shape[3]):
            ax[1].plot(steps, perf[0, 0, :, t], lw=0.8, label=f"task {t}")
        ax[1].set(xlabel="step", ylabel="accuracy", title="per-task, power-law env., seed 0 (dips: stability gap)")
        ax[1].legend(fontsize=6, ncol=2)
        rep.figure(fig, f"rehearsal_{ln}")
