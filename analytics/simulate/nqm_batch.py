"""The batch-size study of ``cltk simulate nqm``: steps to a target loss vs batch size for SGD, heavy-ball
momentum, preconditioning and EMA with the LR tuned per batch size, the critical batch sizes, verdicts
on Zhang et al. (2019)'s qualitative results, and the exact recursion checked by Monte Carlo."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cltk.analytics.report import plt
from cltk.models import nqm

#: perfect scaling below B_crit / 2: the least-squares log-log slope of steps vs B is <= -0.8 (ideal
#: -1); diminishing returns above 4 B_crit: no doubling of B there saves more than 2^-0.2 of the steps
SLOPE_PERFECT, SLOPE_FLAT = -0.8, -0.2
LABELS = {"sgd": "SGD", "momentum": "heavy-ball momentum", "precond": "preconditioned (H^-p)",
          "precond_momentum": "preconditioned + momentum", "ema": "SGD + EMA of iterates"}


def _slopes(b, s):
    ok = np.isfinite(s)
    b, s = b[ok], s[ok]
    return b[:-1], b[1:], np.diff(np.log(s)) / np.diff(np.log(b))


def _fit_slope(b, s):
    ok = np.isfinite(s)
    return float(np.polyfit(np.log(b[ok]), np.log(s[ok]), 1)[0]) if ok.sum() >= 2 else None


def run_batch_study(h, c, *, batch_sizes, target_frac, optimizers, momenta, emas, power, per_octave, x0,
                    seeds, seed, device, log):
    """Run :func:`cltk.models.nqm.study_batch_sizes` (Zhang et al. 2019, Sec. 3-4) and a Monte Carlo
    check of its best runs. Returns (metrics, tables, study, mc) for :func:`report_batch_study`."""
    target = float(target_frac * 0.5 * np.sum(h * np.broadcast_to(np.asarray(x0, float) ** 2, h.shape)))
    log(f"batch-size study: {len(batch_sizes)} batch sizes x {', '.join(optimizers)}, target {target:.4g}")
    st = nqm.study_batch_sizes(h, c, batch_sizes, target, optimizers=optimizers, momenta=momenta, emas=emas,
                               power=power, per_octave=per_octave, x0=x0, device=device)
    best = st.best
    m = {"batch_target_frac": float(target_frac), "batch_target_loss": target,
         "batch_sizes": ",".join(f"{b:g}" for b in sorted(set(map(float, batch_sizes)))),
         "batch_optimizers": ",".join(optimizers), "batch_momenta": ",".join(f"{v:g}" for v in momenta),
         "batch_emas": ",".join(f"{v:g}" for v in emas), "batch_precond_power": float(power),
         "batch_lr_per_octave": int(per_octave), "batch_lr_at_grid_edge": int(best["at_edge"].sum()),
         "batch_runs": int(len(st.grid["lr"]))}
    for name in optimizers:
        sel = best["optimizer"] == name
        b, s = best["batch"][sel], best["steps"][sel]
        bc = st.critical[name]
        lo_b, _, slope = _slopes(b, s)
        below = _fit_slope(b[b <= bc / 2], s[b <= bc / 2]) if np.isfinite(bc) else _fit_slope(b, s)
        above = slope[lo_b >= 4 * bc] if np.isfinite(bc) else slope[:0]
        m.update({f"critical_batch_{name}": bc, f"noise_scale_{name}": st.noise_scale[name],
                  f"min_steps_{name}": float(np.min(s)), f"steps_smallest_batch_{name}": float(s[0]),
                  f"slope_below_critical_{name}": below,
                  f"slope_above_critical_{name}": float(above.min()) if len(above) else None,
                  f"perfect_scaling_below_{name}": bool(below is not None and below <= SLOPE_PERFECT),
                  f"diminishing_returns_above_{name}": bool(len(above) and above.min() >= SLOPE_FLAT)})
    for name in optimizers:
        if name != "sgd" and "sgd" in optimizers:
            ratio = st.critical[name] / st.critical["sgd"]
            m[f"critical_batch_ratio_{name}"] = float(ratio)
            m[f"{name}_raises_critical_batch"] = bool(ratio > 1)
    mc = _mc_check(h, c, st, optimizers, x0, seeds, seed, device, log) if seeds > 0 else None
    if mc is not None:
        za = np.abs(mc["z"])
        # under a correct recursion each |z| > 3 with probability 0.27%: with hundreds of (correlated)
        # points a few are expected; the family-wise 5% (Bonferroni) bound is the consistency test
        bound = float(stats.norm.isf(0.025 / za.size))
        m.update(batch_mc_seeds=int(seeds), batch_mc_points=int(za.size), batch_mc_max_abs_z=float(za.max()),
                 batch_mc_mean_z=float(mc["z"].mean()), batch_mc_points_beyond_3se=int((za > 3).sum()),
                 batch_mc_expected_beyond_3se=float(za.size * 2 * stats.norm.sf(3.0)),
                 batch_mc_within_3se=bool(za.max() < 3.0), batch_mc_bonferroni_z=bound,
                 batch_mc_consistent=bool(za.max() < bound))
    tables = {"batch_sizes": pd.DataFrame({k: v for k, v in best.items()}),
              "batch_grid": pd.DataFrame({k: st.grid[k] for k in ("optimizer", "batch", "lr", "momentum", "ema",
                                                                   "power", "steps", "censored")})}
    return m, tables, st, mc


def _mc_check(h, c, st, optimizers, x0, seeds, seed, device, log):
    """Exact recursion vs Monte Carlo for each optimizer's best run at the smallest batch, the batch
    nearest its critical batch size and the largest batch, up to the longest of their step counts."""
    best, rows = st.best, []
    for name in optimizers:
        sel = np.flatnonzero((st.best["optimizer"] == name) & np.isfinite(best["steps"]))
        if len(sel) == 0:
            continue
        bc = st.critical[name]
        near = sel[np.argmin(np.abs(np.log(best["batch"][sel] / bc)))] if np.isfinite(bc) else sel[len(sel) // 2]
        rows += sorted({int(sel[0]), int(near), int(sel[-1])})
    horizon = int(min(max(best["steps"][rows].max(), 2), 4000))
    every = max(horizon // 20, 1)
    cfg = nqm.Configs(len(rows), best["batch"][rows], best["momentum"][rows], best["ema"][rows], best["power"][rows])
    lrs = np.repeat(best["lr"][rows][:, None], horizon, 1)
    log(f"Monte Carlo check of the batch-size study: {len(rows)} runs x {horizon} steps, {seeds} seeds")
    steps, exact = nqm.expected(h, c, lrs, cfg, x0=x0, every=every, device=device)
    _, mean, sem = nqm.monte_carlo(h, c, lrs, cfg, x0=x0, seeds=int(seeds), every=every, seed=seed + 2,
                                   device=device)
    z = (mean - exact)[:, 1:] / np.maximum(sem[:, 1:], 1e-300)
    return {"rows": rows, "steps": steps, "exact": exact, "mc": mean, "sem": sem, "z": z}


def report_batch_study(rep, m, st, mc, optimizers):
    """Steps-vs-batch plot, critical batch sizes table and verdict lines (Zhang et al. 2019, Fig. 3-5)."""
    rep.heading("Steps to a target loss vs batch size")
    rep.text(f"Target: {m['batch_target_frac']:g} of the initial expected loss ({m['batch_target_loss']:.4g}). For "
             f"each optimizer and batch size B (gradient noise c / B), a constant LR from a geometric grid "
             f"({m['batch_lr_per_octave']} per octave, down from the stability limit) is tuned: the cost is the fewest "
             "steps after which the exact expected loss is at or below the target. Momentum is tuned over "
             f"{m['batch_momenta']}, the EMA decay over {m['batch_emas']}; preconditioning is P = H^-p with p = "
             f"{m['batch_precond_power']:g}. The critical batch size is where B x steps reaches twice its value at "
             "the smallest batch (McCandlish et al. 2018's B_noise in their model); E_min / S_min beside it.")
    fig, ax = plt.subplots(figsize=(7, 5))
    best = st.best
    for name in optimizers:
        sel = best["optimizer"] == name
        b, s = best["batch"][sel], best["steps"][sel]
        line, = ax.plot(b, s, "o-", ms=3, label=LABELS.get(name, name))
        ok = np.isfinite(s)
        if ok.any():
            ax.plot(b, s[ok][0] * b[ok][0] / b, ":", color=line.get_color(), lw=0.8)
        if np.isfinite(st.critical[name]):
            ax.axvline(st.critical[name], color=line.get_color(), ls="--", lw=0.8)
    fin = best["steps"][np.isfinite(best["steps"])]
    ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="steps to target (LR tuned per B)",
           ylim=(0.5 * fin.min(), 2.0 * fin.max()) if len(fin) else None)
    ax.legend(fontsize=8)
    rep.figure(fig, "nqm_steps_vs_batch", "Dotted: perfect scaling (steps ~ 1/B) from the smallest batch; "
               "dashed: critical batch sizes.")
    rep.table([{"optimizer": n, "critical batch": m[f"critical_batch_{n}"],
                "vs SGD": m.get(f"critical_batch_ratio_{n}", ""), "E_min / S_min": m[f"noise_scale_{n}"],
                "steps at smallest B": m[f"steps_smallest_batch_{n}"], "min steps": m[f"min_steps_{n}"]}
               for n in optimizers])
    rep.heading("Verdicts (Zhang et al. 2019's qualitative results)")
    for line in verdict_lines(m, optimizers):
        rep.text(line)
    if mc is not None:
        rep.heading("Exact recursion vs Monte Carlo (best runs of the study)")
        rep.text(mc_line(m) + f" ({len(mc['rows'])} runs x {mc['z'].shape[1]} logged steps, "
                 f"{m['batch_mc_seeds']} seeds each).")
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for k, i in enumerate(mc["rows"]):
            ax.plot(mc["steps"][1:], mc["z"][k], lw=0.8,
                    label=f"{best['optimizer'][i]} B={best['batch'][i]:g}" if k < 12 else None)
        ax.axhline(3, color="k", ls=":")
        ax.axhline(-3, color="k", ls=":")
        ax.set(xlabel="step", ylabel="(MC - exact) / SE")
        ax.legend(fontsize=6, ncol=3)
        rep.figure(fig, "nqm_batch_mc_z")
    rep.table([{k: (v if not isinstance(v, np.generic) else v.item()) for k, v in zip(best, vals)}
               for vals in zip(*best.values())])


def mc_line(m) -> str:
    """The Monte Carlo check of the study in words."""
    return (f"exact recursion vs Monte Carlo at {m['batch_mc_points']} points: max |z| {m['batch_mc_max_abs_z']:.2f}, "
            f"{m['batch_mc_points_beyond_3se']} beyond 3 SE (about {m['batch_mc_expected_beyond_3se']:.1f} expected "
            f"by chance), mean z {m['batch_mc_mean_z']:+.3f}; "
            + ("consistent" if m["batch_mc_consistent"] else "NOT consistent")
            + f" (family-wise 5% bound |z| < {m['batch_mc_bonferroni_z']:.2f})")


def verdict_lines(m, optimizers) -> list[str]:
    """One sentence per qualitative result, saying whether it holds on this run."""
    out = []
    for n in optimizers:
        sb, sa = m[f"slope_below_critical_{n}"], m[f"slope_above_critical_{n}"]
        out.append(f"{n}: perfect scaling below the critical batch size "
                   + ("holds" if m[f"perfect_scaling_below_{n}"] else "does NOT hold")
                   + (f" (log-log slope of steps vs B up to B_crit/2: {sb:.2f}; -1 is perfect)" if sb is not None
                      else " (no batch pair below B_crit/2)")
                   + "; diminishing returns above it "
                   + ("hold" if m[f"diminishing_returns_above_{n}"] else "do NOT hold")
                   + (f" (steepest log-log slope above 4 B_crit: {sa:.2f}; 0 is flat)" if sa is not None
                      else " (no batch pair above 4 B_crit)") + ".")
    for n in optimizers:
        if f"critical_batch_ratio_{n}" in m:
            out.append(f"{n} " + ("raises" if m[f"{n}_raises_critical_batch"] else "does NOT raise")
                       + f" the critical batch size: {m[f'critical_batch_{n}']:.4g} vs SGD "
                       f"{m['critical_batch_sgd']:.4g} (x{m[f'critical_batch_ratio_{n}']:.3g}).")
    return out
