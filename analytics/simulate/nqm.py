"""``cltk simulate nqm``: the exact expected loss of the noisy quadratic model under any schedule,
checked by Monte Carlo SGD, the steady-state check (Zhang et al. 2019, Eq. 5-6) and the batch-size
study (steps to target vs batch size, critical batch sizes; :mod:`.nqm_batch`)."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from cltk.analytics.report import plt
from cltk.analytics.result import Result, json_safe
from cltk.analytics.simulate.nqm_batch import report_batch_study, run_batch_study
from cltk.analytics.simulate.schedules import parse_all, render_schedules
from cltk.curves import Curve
from cltk.errors import InputError
from cltk.models import nqm
from cltk.runtime import resolve_device
from cltk.schedules import Schedule

DEFAULT_BATCHES = tuple(2 ** k for k in range(15))
DEFAULT_SCHEDULES = ["constant:lr=0.5", "cosine:peak=0.5,steps=500", "wsd:peak=0.5,steps=500,decay=0.2"]
TITLE = "Noisy quadratic model: exact expected loss vs Monte Carlo SGD"


def run_nqm(*, schedules: list[Schedule] | None = None, steps: int | None = None, dim: int = 32,
            h_max: float = nqm.DEFAULT_SPECTRUM["h_max"], h_power: float = nqm.DEFAULT_SPECTRUM["power"],
            noise: float = nqm.DEFAULT_SPECTRUM["noise"], noise_form: str = nqm.DEFAULT_SPECTRUM["noise_form"],
            x0: float = 1.0, seeds: int = 10000, every: int = 5, seed: int = 0, steady=(1.0, 0.1, 0.5),
            steady_steps: int = 400, batch_sizes=DEFAULT_BATCHES, target_frac: float = 0.01,
            optimizers=nqm.DEFAULT_STUDY["optimizers"], momenta=nqm.DEFAULT_STUDY["momenta"],
            emas=nqm.DEFAULT_STUDY["emas"], precond_power: float = nqm.DEFAULT_STUDY["power"],
            lr_per_octave: int = nqm.DEFAULT_STUDY["per_octave"],
            device: str = "cpu", log=print) -> Result:
    """Exact NQM recursion (Zhang et al. 2019, Eq. 5-6) for every schedule, Monte Carlo SGD with
    ``seeds`` seeds checking it (0: none), the steady state ``lr c / (2 (2 - lr h))`` of one
    coordinate (``steady`` = h, c, lr), and (``batch_sizes`` non-empty) the batch-size study of
    :mod:`cltk.analytics.simulate.nqm_batch` (Zhang et al. 2019, Sec. 3-4). Torch parts run on
    ``device`` (:func:`cltk.runtime.resolve_device`). The Result holds the results table, the curves
    and the report."""
    t0 = time.perf_counter()
    dev = resolve_device(device)
    _check_study(batch_sizes, target_frac, optimizers, momenta, emas, precond_power, lr_per_octave)
    sh, sc, slr = (float(v) for v in steady)
    if sh <= 0 or sc < 0 or not 0 < slr * sh < 2:
        raise InputError(f"steady-state check: need h > 0, c >= 0 and 0 < lr*h < 2, got h={sh}, c={sc}, lr={slr}")
    scheds, names, lrs, steps = render_schedules(parse_all(schedules or DEFAULT_SCHEDULES), steps)
    h, c = nqm.spectrum(int(dim), h_max, h_power, noise, noise_form)
    unstable = (lrs.max(1) * h.max() >= 2)
    if unstable.any():
        bad = scheds[int(np.flatnonzero(unstable)[0])].spec
        raise InputError(f"schedule '{bad}' has lr*h_max >= 2, where SGD on the NQM diverges "
                         f"(keep peak lr below {2 / h.max():g})")
    log(f"NQM: {dim} coordinates, {len(names)} schedules x {steps} steps; exact recursion")
    logged, exact, bias, var = nqm.expected_loss(h, c, lrs, x0=x0, every=every, decompose=True)
    res = {"step": np.repeat(logged[None], len(names), 0).ravel(), "schedule": np.repeat(names, len(logged)),
           "lr": np.concatenate([np.concatenate([[0.0], lrs[i]])[logged] for i in range(len(names))]),
           "exact": exact.ravel(), "bias": bias.ravel(), "variance": var.ravel()}
    metrics = {"model": "nqm", "dim": int(dim), "steps": steps, "schedules": len(names), "mc_seeds": int(seeds),
               "noise": float(noise), "noise_form": noise_form, "device": str(dev)}
    mc = sem = None
    if seeds > 0:
        log(f"Monte Carlo SGD: {seeds} seeds per schedule (torch)")
        _, mc, sem = nqm.monte_carlo(h, c, lrs, x0=x0, seeds=int(seeds), every=every, seed=seed, device=dev)
        rel = np.abs(mc - exact) / exact
        z = np.abs(mc - exact)[:, 1:] / np.maximum(sem[:, 1:], 1e-300)
        res.update(mc=mc.ravel(), mc_sem=sem.ravel(), rel_err=rel.ravel())
        metrics.update(mc_max_rel_err=float(rel.max()), mc_mean_rel_err=float(rel.mean()),
                       mc_final_rel_err=float(rel[:, -1].max()), mc_max_abs_z=float(z.max()),
                       mc_within_1pct=bool(rel.max() < 0.01))
    # steady state of one coordinate: recursion, Monte Carlo (time average over the second half)
    theory = float(nqm.steady_state(sh, sc, slr))
    lr1 = np.full(int(steady_steps), slr)
    _, rec1 = nqm.expected_loss([sh], [sc], lr1, x0=x0)
    metrics.update(steady_h=sh, steady_c=sc, steady_lr=slr, steady_state_theory=theory,
                   steady_state_recursion=float(rec1[0, -1]),
                   steady_state_rel_err=float(abs(rec1[0, -1] - theory) / theory) if theory > 0 else 0.0)
    if seeds > 0:
        _, m1, _ = nqm.monte_carlo([sh], [sc], lr1, x0=x0, seeds=int(seeds), seed=seed + 1, device=dev)
        tail = m1[0, len(lr1) // 2:]
        # successive steps are correlated: the error bar uses the spread of 10 consecutive batches
        batches = np.array([b.mean() for b in np.array_split(tail, 10)])
        metrics.update(steady_state_mc=float(tail.mean()),
                       steady_state_mc_sem=float(batches.std(ddof=1) / np.sqrt(len(batches))),
                       steady_state_mc_rel_err=float(abs(tail.mean() - theory) / theory) if theory > 0 else 0.0)
    for i, n in enumerate(names):
        metrics[f"final_loss_exact_{n}"] = float(exact[i, -1])
        if mc is not None:
            metrics[f"final_loss_mc_{n}"] = float(mc[i, -1])
    study = None
    tables = {"results": pd.DataFrame(res)}
    if len(batch_sizes):
        bm, bt, st, bmc = run_batch_study(h, c, batch_sizes=batch_sizes, target_frac=target_frac,
                                          optimizers=tuple(optimizers), momenta=momenta, emas=emas,
                                          power=precond_power, per_octave=lr_per_octave, x0=x0, seeds=int(seeds),
                                          seed=seed, device=dev, log=log)
        metrics.update(bm)
        tables.update(bt)
        study = (st, bmc)
    metrics["seconds"] = round(time.perf_counter() - t0, 3)
    metrics = json_safe(metrics)

    keep = logged >= 1
    curves = [Curve(n, logged[keep], exact[i, keep], np.concatenate([[0.0], lrs[i]]),
                    {"source": "nqm", "schedule": scheds[i].spec}) for i, n in enumerate(names)]
    result = Result(TITLE, metrics, tables=tables, curves=curves)
    _report(result.report, names, scheds, lrs, logged, exact, bias, var, mc, sem, metrics, h, c, rec1[0])
    if study is not None:
        report_batch_study(result.report, metrics, study[0], study[1], tuple(optimizers))
    return result


def _check_study(batch_sizes, target_frac, optimizers, momenta, emas, power, per_octave):
    problems = []
    if not 0 < target_frac < 1:
        problems.append(f"target fraction must be in (0, 1), got {target_frac}")
    if any(not np.isfinite(b) or b <= 0 for b in batch_sizes):
        problems.append("batch sizes must be finite and > 0")
    bad = [o for o in optimizers if o not in nqm.OPTIMIZERS]
    if bad or not optimizers:
        problems.append(f"optimizers must be among {', '.join(nqm.OPTIMIZERS)}, got {', '.join(bad) or 'none'}")
    if any(not 0 <= v < 1 for v in (*momenta, *emas)) or not momenta or not emas:
        problems.append("momenta and EMA decays must be in [0, 1) (at least one of each)")
    if not np.isfinite(power) or per_octave < 1:
        problems.append("the preconditioning power must be finite and the LR grid >= 1 per octave")
    if problems:
        raise InputError("batch-size study: " + "; ".join(problems))


def _report(rep, names, scheds, lrs, logged, exact, bias, var, mc, sem, metrics, h, c, rec1):
    rep.text("Zhang et al. (2019), NQM: L = 1/2 sum h_i x_i^2, gradient noise variance c_i. The exact "
             "recursion m <- (1 - a h) m, v <- (1 - a h)^2 v + a^2 c gives E[L] = 1/2 sum h (m^2 + v) for "
             f"any schedule. Here {len(h)} coordinates, h from {h.min():.3g} to {h.max():.3g}, "
             f"c from {c.min():.3g} to {c.max():.3g}.")
    rep.table([{"schedule": n, "spec": s.spec, "final exact": float(exact[i, -1]),
                "final MC": float(mc[i, -1]) if mc is not None else "",
                "max rel. err": float((np.abs(mc[i] - exact[i]) / exact[i]).max()) if mc is not None else ""}
               for i, (n, s) in enumerate(zip(names, scheds))])
    fig, ax = plt.subplots(3 if mc is not None else 2, 1, figsize=(8, 9), sharex=True)
    for i, n in enumerate(names):
        line, = ax[0].plot(logged, exact[i], label=f"{n} exact")
        if mc is not None:
            ax[0].plot(logged, mc[i], ".", ms=2, color=line.get_color(), label=f"{n} MC")
            ax[2].plot(logged[1:], ((mc[i] - exact[i]) / exact[i])[1:], color=line.get_color())
            ax[2].fill_between(logged[1:], -2 * sem[i, 1:] / exact[i, 1:], 2 * sem[i, 1:] / exact[i, 1:],
                               color=line.get_color(), alpha=0.15)
        ax[1].plot(np.arange(lrs.shape[1]), lrs[i], color=line.get_color())
    ax[0].set(yscale="log", ylabel="E[loss]")
    ax[0].legend(fontsize=7, ncol=2)
    ax[1].set(ylabel="LR")
    if mc is not None:
        ax[2].axhline(0, color="k", lw=0.5)
        ax[2].set(ylabel="(MC - exact) / exact", xlabel="step")
    rep.heading("Exact recursion vs Monte Carlo").figure(
        fig, "nqm_curves", f"Dots: mean of {metrics['mc_seeds']} SGD seeds; bands: +-2 standard errors.")
    rep.table([{"figure": k, "value": v} for k, v in metrics.items() if k.startswith("mc_")])
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for i, n in enumerate(names):
        line, = ax.plot(logged, bias[i], "--", label=f"{n} bias (m^2)")
        ax.plot(logged, var[i], color=line.get_color(), label=f"{n} variance (v)")
    ax.set(yscale="log", xlabel="step", ylabel="loss part")
    ax.legend(fontsize=7)
    rep.heading("Bias / variance decomposition").figure(fig, "nqm_decomposition",
                                                        "Decay removes the variance term; bias decays with LR area.")
    rep.heading("Steady state at constant LR")
    rep.text(f"h = {metrics['steady_h']}, c = {metrics['steady_c']}, lr = {metrics['steady_lr']}: theory "
             f"lr c / (2 (2 - lr h)) = {metrics['steady_state_theory']:.6f}; recursion "
             f"{metrics['steady_state_recursion']:.6f}"
             + (f"; Monte Carlo {metrics['steady_state_mc']:.6f} +- {metrics['steady_state_mc_sem']:.6f}"
                if "steady_state_mc" in metrics else "") + ".")
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(rec1, label="recursion")
    ax.axhline(metrics["steady_state_theory"], color="k", ls=":", label="theory")
    ax.set(yscale="log", xlabel="step", ylabel="E[loss]")
    ax.legend()
    rep.figure(fig, "nqm_steady_state")
