"""``cltk simulate river-valley``: schedules on a river-valley landscape (Wen et al. 2024), the
river / hill decomposition, the hill-excess-vs-LR check, WSD-S vs WSD, and loss-law fits to the
simulated curves (Tissue et al. 2024; Luo et al. 2025)."""
from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd

from cltk.analytics.report import plt
from cltk.analytics.result import Result, json_safe
from cltk.analytics.simulate.schedules import parse_all, render_schedules
from cltk.errors import InputError
from cltk.laws import MomentumLaw, MultiPowerLaw
from cltk.models import river_valley as rv
from cltk.runtime import resolve_device
from cltk.schedules import Schedule, wsd

DEFAULT_SCHEDULES = ["cosine:peak=0.5,steps=1000", "wsd:peak=0.5,steps=1000,decay=0.2",
                     "wsds:peak=0.5,budgets=250/500/1000,decay=0.1", "cyclic:peak=0.5,steps=1000,cycles=4",
                     "twostage:peak=0.5,low=0.1,switch=700,steps=1000"]
TITLE = "River-valley landscape: why WSD, WSD-S and cosine behave as they do"


def make_valley(floor=2.0, amp=1.0, power=1.0, scale=1.0, curv=(0.05, 0.2, 0.8), noise=(0.05,),
                river_noise=0.0, bend=0.0) -> rv.Valley:
    """The valley of ``cltk simulate river-valley`` (Wen et al. 2024, Sec. 2), with its defaults."""
    return rv.Valley(floor, amp, power, scale, tuple(curv), tuple(noise), river_noise, bend)


def _wsd_phases(spec: str, steps: int):
    """(decay start, steps) of a plain WSD spec, from its canonical text."""
    kv = dict(re.findall(r"(\w+)=([^,]+)", spec.split(":", 1)[1]))
    n, d = int(float(kv["steps"])), float(kv["decay"])
    return n - (round(d * n) if d <= 1 else int(d)), min(n, steps)


def simulate(valley, lrs, seeds, every, seed, device="cpu"):
    """Exact expectation where the valley allows it, else the Monte Carlo mean."""
    if valley.bend == 0 and valley.river_noise == 0:
        return rv.expected(valley, lrs, every=every), "exact expectation"
    return (rv.simulate_sgd(valley, lrs, seeds=seeds, every=every, seed=seed, device=device),
            f"SGD mean of {seeds} seeds")


def run_river_valley(*, schedules: list[Schedule] | None = None, steps: int | None = None,
                     valley: rv.Valley | None = None, seeds: int = 256, every: int = 10, seed: int = 0,
                     sweep_lrs=None, fit_laws: bool = True, device: str = "cpu", log=print) -> Result:
    """Simulate every schedule on the valley, decompose loss into river and hill parts (Wen et al.
    2024, Sec. 3), check WSD vs cosine, the hill excess vs LR (constant-LR sweep by SGD), WSD-S vs
    per-budget WSD, and fit the momentum / multi-power laws on the first two curves to predict the
    rest. SGD runs on ``device`` (:func:`cltk.runtime.resolve_device`). The Result holds the results
    and hill_vs_lr tables, the curves, the fitted laws (law_NAME.json) and the report."""
    t0 = time.perf_counter()
    dev = resolve_device(device)
    valley = valley or make_valley()
    scheds, names, lrs, steps = render_schedules(parse_all(schedules or DEFAULT_SCHEDULES), steps)
    if lrs.max() >= valley.max_stable_lr():
        raise InputError(f"peak LR {lrs.max():g} >= 2 / max hill curvature "
                         f"({valley.max_stable_lr():g}): SGD would diverge across the valley")
    log(f"river valley: {len(names)} schedules x {steps} steps")
    res, how = simulate(valley, lrs, seeds, every, seed, dev)
    logged = res["steps"]
    hist = np.concatenate([np.zeros((len(names), 1)), lrs], axis=1)
    metrics = {"model": "river_valley", "steps": steps, "schedules": len(names), "method": how, "device": str(dev)}
    # --- WSD vs cosine ---------------------------------------------------------------------------
    kinds = [s.spec.split(":", 1)[0] for s in scheds]
    iw = kinds.index("wsd") if "wsd" in kinds else None
    ic = kinds.index("cosine") if "cosine" in kinds else None
    cmp_keys = ["wsd_above_cosine_stable_frac", "wsd_minus_cosine_stable_mean", "wsd_final_loss",
                "cosine_final_loss", "cosine_minus_wsd_final", "wsd_below_cosine_final", "wsd_hill_stable",
                "wsd_hill_final", "cosine_hill_final", "wsd_river_final", "cosine_river_final"]
    metrics.update({k: None for k in cmp_keys})
    if iw is not None and ic is not None:
        start, _ = _wsd_phases(scheds[iw].spec, steps)
        # the stable phase after the hills have filled (first 10% of training left out)
        stable = (logged >= 0.1 * steps) & (logged <= start)
        dl = res["loss"][iw] - res["loss"][ic]
        metrics.update(wsd_above_cosine_stable_frac=float((dl[stable] > 0).mean()),
                       wsd_minus_cosine_stable_mean=float(dl[stable].mean()),
                       wsd_final_loss=float(res["loss"][iw, -1]), cosine_final_loss=float(res["loss"][ic, -1]),
                       cosine_minus_wsd_final=float(-dl[-1]), wsd_below_cosine_final=bool(dl[-1] < 0),
                       wsd_hill_stable=float(res["hill"][iw, stable].mean()),
                       wsd_hill_final=float(res["hill"][iw, -1]), cosine_hill_final=float(res["hill"][ic, -1]),
                       wsd_river_final=float(res["river"][iw, -1]), cosine_river_final=float(res["river"][ic, -1]))
    # --- hill excess vs LR: constant-LR SGD sweep -----------------------------------------------
    peak = float(lrs.max())
    sweep = np.asarray(sweep_lrs if sweep_lrs is not None else np.linspace(0.1, 1.0, 6) * peak, dtype=float)
    # long enough for the slowest hill direction to fill (relaxation time 1 / (2 lr lambda_min))
    n_sw = int(min(max(steps, 200, 8.0 / (sweep.min() * valley.curv.min())), 20000))
    sw = rv.simulate_sgd(valley, np.repeat(sweep[:, None], n_sw, 1), seeds=seeds, every=max(n_sw // 100, 1),
                         seed=seed + 1, device=dev)
    tail = sw["steps"] >= n_sw // 2
    hill_mc = sw["hill"][:, tail].mean(1)
    hill_th = rv.hill_steady_state(valley, sweep)
    slope = float(sweep @ hill_mc / (sweep @ sweep))
    r2 = 1.0 - float(((hill_mc - slope * sweep) ** 2).sum() / ((hill_mc - hill_mc.mean()) ** 2).sum())
    # the theory slope is the same least-squares fit applied to the exact steady state at the same LRs
    # (the small-LR limit sum(noise)/4 ignores the 2 - lr lambda denominators, ~8% low at the default LRs)
    metrics.update(hill_lr_slope=slope, hill_lr_r2=r2, hill_lr_slope_theory=float(sweep @ hill_th / (sweep @ sweep)),
                   hill_lr_slope_small_lr_theory=float(valley.noise.sum() / 4),
                   hill_lr_max_rel_dev_from_theory=float(np.max(np.abs(hill_mc - hill_th) / hill_th)),
                   hill_lr_sweep_seeds=int(seeds))
    # --- WSD-S vs one WSD run per budget -----------------------------------------------------------
    wsds_rows = _wsds_vs_wsd(valley, scheds, names, lrs, steps, seeds, seed, dev)
    metrics["wsds_minus_wsd_max"] = max((r["wsds_minus_wsd"] for r in wsds_rows), default=None)
    metrics["wsds_minus_wsd_same_decay_max"] = max((r["wsds_minus_wsd_same_decay"] for r in wsds_rows), default=None)
    # --- curves, laws ----------------------------------------------------------------------------
    curves = rv.to_curves(res, lrs, names, {"method": how})
    for c, s in zip(curves, scheds):
        c.meta["schedule"] = s.spec
    law_rows, preds, files = [], {}, {}
    if fit_laws and len(curves) >= 3:
        for law_cls in (MomentumLaw, MultiPowerLaw):
            law = law_cls().fit(curves[:2])
            files[f"law_{law.name}.json"] = law.to_json()
            for c in curves[2:]:
                p = law.predict(c)
                preds[(law.name, c.name)] = p
                e = np.abs(p - c.loss) / c.loss
                law_rows.append({"law": law.name, "curve": c.name, "pred_e": float(e.mean()),
                                 "worst_e": float(e.max())})
            held = [r for r in law_rows if r["law"] == law.name]
            metrics[f"law_{law.name}_heldout_pred_e"] = float(np.mean([r["pred_e"] for r in held]))
            metrics[f"law_{law.name}_heldout_worst_e"] = float(max(r["worst_e"] for r in held))
        metrics["law_fit_curves"] = ",".join(c.name for c in curves[:2])
    for i, n in enumerate(names):
        metrics[f"final_loss_{n}"] = float(res["loss"][i, -1])
        metrics[f"final_hill_{n}"] = float(res["hill"][i, -1])
    metrics["seconds"] = round(time.perf_counter() - t0, 3)
    metrics = json_safe(metrics)
    tables = {"results": pd.DataFrame({
        "step": np.tile(logged, len(names)), "schedule": np.repeat(names, len(logged)),
        "lr": hist[:, logged].ravel(), "loss": res["loss"].ravel(), "river": res["river"].ravel(),
        "hill": res["hill"].ravel()}),
        "hill_vs_lr": pd.DataFrame({"lr": sweep, "hill_sgd": hill_mc, "hill_theory": hill_th})}
    if wsds_rows:
        tables["wsds_vs_wsd"] = pd.DataFrame(wsds_rows)
    result = Result(TITLE, metrics, tables=tables, curves=curves, files=files)
    _report(result.report, valley, names, scheds, hist, res, how, metrics, sweep, hill_mc, hill_th, wsds_rows,
            law_rows, curves, preds)
    return result


def _wsds_vs_wsd(valley, scheds, names, lrs, steps, seeds, seed, dev):
    """Loss of the first WSD-S schedule at each budget vs one WSD run per budget (Wen et al. 2024, Sec.
    4). Like with like: ``wsd_same_decay`` decays over exactly as many steps as WSD-S's last decay
    before that budget (``decay`` x the segment); ``wsd`` (the older comparison) decays over ``decay``
    x the whole budget, longer after the first budget."""
    rows = []
    for i, s in enumerate(scheds):
        if not s.spec.startswith("wsds:"):
            continue
        kv = dict(re.findall(r"(\w+)=([^,]+)", s.spec.split(":", 1)[1]))
        peak, dec, warm = float(kv["peak"]), float(kv["decay"]), int(float(kv.get("warmup", 0)))
        prev = 0
        for b in (int(v) for v in kv["budgets"].split("/")):
            n_same = round(dec * (b - prev - (warm if prev == 0 else 0)))
            prev = b
            if b > steps:
                break
            # a decay of n steps as wsd's argument: a count when > 1, else the fraction n / b
            common = {"shape": kv["shape"], "final": float(kv["final"]), "warmup": warm}
            same = wsd(peak, b, decay=n_same if n_same > 1 else n_same / b, **common).render(b)
            frac = wsd(peak, b, decay=dec, **common).render(b)
            out = simulate(valley, np.stack([lrs[i, :b], same, frac]), seeds, b, seed, dev)[0]["loss"][:, -1]
            rows.append({"schedule": names[i], "budget": b, "decay_steps": int(n_same),
                         "wsds_loss": float(out[0]), "wsd_same_decay_loss": float(out[1]),
                         "wsds_minus_wsd_same_decay": float(out[0] - out[1]),
                         "wsd_frac_decay_steps": int(round(dec * b)), "wsd_loss": float(out[2]),
                         "wsds_minus_wsd": float(out[0] - out[2])})
        break
    return rows


def _report(rep, valley, names, scheds, hist, res, how, m, sweep, hill_mc, hill_th, wsds_rows, law_rows,
            curves, preds):
    rep.text("Wen et al. (2024): L(x, y) = f(x) + sum_j lambda_j/2 (y_j - g(x))^2. The river part f(x) falls "
             "with the LR area; SGD noise keeps the iterate up the hill sides by an amount proportional "
             f"to the LR; a decay removes that hill part. Curvatures {valley.hill_curv}, noise "
             f"{valley.hill_noise}; curves are the {how}.")
    logged = res["steps"]
    fig, ax = plt.subplots(4, 1, figsize=(8, 11), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2, 1.3]})
    for i, n in enumerate(names):
        line, = ax[0].plot(logged, res["loss"][i], label=n)
        ax[1].plot(logged, res["river"][i], color=line.get_color())
        ax[2].plot(logged, res["hill"][i], color=line.get_color())
        ax[3].plot(np.arange(hist.shape[1]), hist[i], color=line.get_color())
    lo = min(res["loss"][:, len(logged) // 10:].min(), res["river"][:, len(logged) // 10:].min())
    for a, lab in zip(ax, ["total loss", "river part f(x)", "hill part", "LR"]):
        a.set_ylabel(lab)
    ax[0].set_ylim(lo - 0.005, res["loss"][:, len(logged) // 10:].max() + 0.005)
    ax[1].set_ylim(lo - 0.005, res["river"][:, len(logged) // 10:].max() + 0.005)
    ax[0].legend(fontsize=8)
    ax[3].set_xlabel("step")
    rep.heading("Loss, river and hill parts").figure(fig, "river_valley_curves")
    rep.table([{"schedule": n, "spec": s.spec, "final loss": float(res["loss"][i, -1]),
                "final river": float(res["river"][i, -1]), "final hill": float(res["hill"][i, -1])}
               for i, (n, s) in enumerate(zip(names, scheds))])
    rep.heading("WSD vs cosine")
    if m["wsd_above_cosine_stable_frac"] is not None:
        rep.text(f"WSD is above cosine at {m['wsd_above_cosine_stable_frac']:.0%} of the stable-phase log "
                 f"points (mean gap {m['wsd_minus_cosine_stable_mean']:+.4f}, hill part "
                 f"{m['wsd_hill_stable']:.4f}) and ends {m['cosine_minus_wsd_final']:+.4f} below cosine "
                 f"(WSD {m['wsd_final_loss']:.4f}: river {m['wsd_river_final']:.4f} + hill "
                 f"{m['wsd_hill_final']:.4f}; cosine {m['cosine_final_loss']:.4f}).")
    else:
        rep.text("Give a wsd: and a cosine: schedule to compare them.")
    rep.heading("Hill excess vs LR (constant LR, SGD)")
    rep.text(f"Slope through the origin {m['hill_lr_slope']:.4g} (theory: the same fit to the exact steady state "
             f"at the same LRs, {m['hill_lr_slope_theory']:.4g}; small-LR limit sum(noise)/4 = "
             f"{m['hill_lr_slope_small_lr_theory']:.4g}), R^2 = {m['hill_lr_r2']:.4f}; SGD vs the exact "
             f"steady state sum lr c / (2 (2 - lr lambda)): max deviation {m['hill_lr_max_rel_dev_from_theory']:.2%}.")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sweep, hill_mc, "o", label=f"SGD ({m['hill_lr_sweep_seeds']} seeds)")
    ax.plot(sweep, hill_th, "-", label="exact steady state")
    ax.plot(sweep, m["hill_lr_slope"] * sweep, ":", label="linear fit through 0")
    ax.set(xlabel="LR", ylabel="stable-phase hill part")
    ax.legend()
    rep.figure(fig, "hill_vs_lr")
    if wsds_rows:
        rep.heading("WSD-S (one branch, resumed from decayed checkpoints) vs a WSD run per budget")
        rep.text("Like with like: wsd_same_decay decays over the same number of steps (decay_steps) as WSD-S's "
                 "decay before that budget; wsd decays the same fraction of the whole budget (wsd_frac_decay_steps, "
                 "longer after the first budget).")
        rep.table(wsds_rows)
    if law_rows:
        rep.heading("Loss laws fitted on simulated curves")
        rep.text(f"Momentum law (Tissue et al. 2024) and multi-power law (Luo et al. 2025) fitted on "
                 f"{m['law_fit_curves']}, predicting the others (relative errors at the logged points).")
        rep.table(law_rows)
        fig, ax = plt.subplots(figsize=(8, 4))
        for c in curves[2:]:
            line, = ax.plot(c.steps, c.loss, label=f"{c.name} simulated")
            for ls, ln in ((":", "momentum"), ("--", "multipower")):
                ax.plot(c.steps, preds[(ln, c.name)], ls, color=line.get_color(), lw=1)
        ax.set(xlabel="step", ylabel="loss (dotted: momentum, dashed: multi-power)",
               ylim=(min(c.loss.min() for c in curves) - 0.01, min(c.loss.min() for c in curves) + 0.1))
        ax.legend(fontsize=7)
        rep.figure(fig, "law_predictions")
