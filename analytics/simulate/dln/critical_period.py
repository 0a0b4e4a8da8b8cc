"""Critical learning periods in deep linear networks (Kleinman, Achille, Soatto 2024, "Critical
learning periods emerge even in deep linear networks", ICLR): the two-pathway model (ODE and SGD)
and deep matrix completion, by the paper's protocol: a deficit of varying *duration* from step 0,
then long training, damage measured at the end. Steps are counted as in
:mod:`cltk.models.dln.critical` (a deficit of duration d is d updates; the authors' code differs by
one step, documented there)."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from cltk.analytics.report import plt
from cltk.analytics.result import Result
from cltk.analytics.simulate.dln.common import dln_result, gd_batch, torch_setup
from cltk.errors import InputError
from cltk.models.dln import Deficit, Task, completion_task, init_weights, make_teacher, pathway_ode, train, window_sweep

__all__ = ["MC_DEFICITS", "run_critical_period"]

MC_DEFICITS = ("rank", "observations")
_REFERENCE_ONSETS = (-1, 0, 400, 750)  # control and the design notes' onsets, off the fast transition


def run_critical_period(*, depths=(1, 2, 3, 4), onsets=(0, 25, 50, 100, 200, 400, 750), strength: float = 10.0,
                        init_scale: float = 0.01, lr: float = 0.01, steps: int = 1000, seeds: int = 2,
                        deficit_length: int = 150, durations=(0, 5, 10, 20, 30, 50, 100, 150, 300),
                        after_steps: int = 1000, remove_output: bool = False, width: int = 4,
                        optimizer: str = "sgd", batch_size: int = 32, mc_size: int = 50, mc_rank: int = 3,
                        mc_deficits=MC_DEFICITS, mc_deficit_rank: int = 6, mc_depth: int = 3, mc_lr: float = 0.2,
                        mc_init_scale: float = 1e-3, mc_observed: float = 0.3, mc_deficit_observed: float = 0.12,
                        mc_durations=(0, 1000, 3000, 10000, 20000), mc_steps: int = 20000, mc_onsets=(20000,),
                        mc_deficit_length: int = 10000, mc_target_loss: float = 1e-2, seed: int = 0,
                        device: str = "auto", dtype: str = "float32") -> Result:
    """Critical periods (Kleinman, Achille, Soatto 2024). Two-pathway model (their per-mode pathway
    equations, :func:`cltk.models.dln.pathway_ode`, and SGD-trained two-pathway networks): final
    strengths (K_a, K_b) vs the onset of a ``deficit_length`` deficit (``steps`` in all) and vs the
    duration of a deficit from step 0 followed by ``after_steps`` more. Deep matrix completion
    (``mc_size`` 0 skips it): for each deficit in ``mc_deficits`` (``rank``: the same observations
    of an independent rank-``mc_deficit_rank`` matrix; ``observations``: a fraction
    ``mc_deficit_observed`` of the entries instead of ``mc_observed``), a deficit of each of
    ``mc_durations`` from step 0 and late deficits of ``mc_deficit_length`` from each of
    ``mc_onsets``, each followed by ``mc_steps`` steps; damage = final test loss / the no-deficit
    control's, and steps after the deficit to reach ``mc_target_loss``."""
    started = time.perf_counter()
    dev, dt = torch_setup(device, dtype)
    batch = gd_batch(optimizer, batch_size)
    onsets, durations = tuple(int(x) for x in onsets), tuple(sorted({0, *(int(x) for x in durations)}))
    metrics, tables, figs = {}, {}, []
    on_all = np.array([-1] + list(onsets))  # -1: no deficit (control)
    ka, kb = pathway_ode(np.asarray(depths)[:, None], on_all[None], deficit_length, strength=strength, k0=init_scale,
                         dt=lr, steps=steps, remove_output=remove_output)
    teacher = make_teacher(width, width, [strength], seed=seed)
    task = Task.from_numpy(teacher.matrix, device=dev, dtype=dt)
    uv = (torch.as_tensor(teacher.u, dtype=dt, device=dev), torch.as_tensor(teacher.v, dtype=dt, device=dev))

    def sgd(depth, starts, lengths, n_steps):
        """Final (K_a, K_b) of SGD two-pathway networks, members x seeds, and the first seed's trace."""
        m = len(starts)
        w = init_weights("balanced", [width] * (depth + 1), m * seeds, pathways=2, scale=init_scale, teacher=teacher,
                         seed=seed + depth, dtype=dt, device=dev)
        defi = Deficit(torch.as_tensor(np.tile(starts, seeds)), torch.as_tensor(np.tile(lengths, seeds)), pathway=1,
                       remove_output=remove_output)
        tr = train(w, task, lr=lr, steps=n_steps, batch_size=batch, seed=seed + 11 * depth,
                   record_every=max(1, n_steps // 200), modes=uv, deficit=defi)
        return tr.modes[:, :, -1, 0].reshape(seeds, m, 2).mean(0), tr

    rows, diffs, ref_diffs, traj = [], [], [], {}
    for j, depth in enumerate(depths):
        k_end, tr = sgd(depth, np.where(on_all < 0, -10**9, on_all), np.full(len(on_all), deficit_length), steps)
        for i, on in enumerate(on_all):
            tag = f"D{depth}_onset{'none' if on < 0 else on}"
            metrics[f"ode_{tag}_Ka"], metrics[f"ode_{tag}_Kb"] = ka[j, i], kb[j, i]
            metrics[f"sgd_{tag}_Ka"], metrics[f"sgd_{tag}_Kb"] = k_end[i, 0], k_end[i, 1]
            diffs += [abs(k_end[i, 0] - ka[j, i]), abs(k_end[i, 1] - kb[j, i])]
            if on in _REFERENCE_ONSETS:
                ref_diffs += diffs[-2:]
            rows.append({"D": depth, "onset": "none" if on < 0 else int(on), "ode_Ka": ka[j, i], "ode_Kb": kb[j, i],
                         "sgd_Ka": k_end[i, 0], "sgd_Kb": k_end[i, 1],
                         "sgd_loss_final": tr.loss[i::len(on_all), -1].mean()})
        traj[depth] = (tr.steps, tr.modes[:len(on_all), :, :, 0], tr.loss[:len(on_all)])
    # onsets inside the fast learning transition are sensitive to SGD noise in the escape time
    metrics["sgd_ode_max_abs_diff"] = max(diffs)
    if ref_diffs:
        metrics["sgd_ode_max_abs_diff_reference_onsets"] = max(ref_diffs)
    tables["critical_period"] = pd.DataFrame(rows)
    figs.append(("critical_period", _onset_figure(depths, onsets, on_all, ka, kb, tables["critical_period"], traj,
                                                  deficit_length, strength, init_scale, lr, steps, remove_output),
                 "Final pathway strengths vs deficit onset: ODE (lines), SGD (markers); deficit windows shaded"))

    # the paper's protocol: a deficit from step 0 of each duration, then after_steps more
    n_dur = max(durations) + after_steps
    d_arr = np.asarray(durations)
    ka_d, kb_d = pathway_ode(np.asarray(depths)[:, None], np.zeros_like(d_arr)[None], d_arr[None], strength=strength,
                             k0=init_scale, dt=lr, steps=n_dur, remove_output=remove_output)
    rows, d_diffs = [], []
    for j, depth in enumerate(depths):
        k_end, _ = sgd(depth, np.zeros_like(d_arr), d_arr, n_dur)
        for i, d in enumerate(durations):
            tag = f"D{depth}_dur{d}"
            row = {"D": depth, "duration": d, "ode_Ka": ka_d[j, i], "ode_Kb": kb_d[j, i], "sgd_Ka": k_end[i, 0],
                   "sgd_Kb": k_end[i, 1], "ode_damage": 1 - kb_d[j, i] / kb_d[j, 0],
                   "sgd_damage": 1 - k_end[i, 1] / k_end[0, 1]}
            rows.append(row)
            for name in ("ode_Ka", "ode_Kb", "sgd_Ka", "sgd_Kb", "ode_damage", "sgd_damage"):
                src, what = name.split("_")
                metrics[f"{src}_{tag}_{what}"] = row[name]
            d_diffs += [abs(k_end[i, 0] - ka_d[j, i]), abs(k_end[i, 1] - kb_d[j, i])]
    metrics["sgd_ode_max_abs_diff_durations"] = max(d_diffs)
    tables["deficit_duration"] = pd.DataFrame(rows)
    config = {"depths": list(depths), "onsets": list(onsets), "deficit_length": deficit_length, "strength": strength,
              "K0": init_scale, "dt": lr, "steps": steps, "durations": list(durations), "after_steps": after_steps,
              "seeds": seeds, "width": width, "remove_output": remove_output, "sgd_batch": batch}
    d_show = 2 if 2 in depths else depths[0]
    st = traj[d_show][0]
    frame = pd.DataFrame({"step": st, "lr": lr, "loss": traj[d_show][2][0]})
    for i, on in enumerate(on_all):
        frame[f"loss_D{d_show}_onset{'none' if on < 0 else on}"] = traj[d_show][2][i]
    mc = None
    if mc_size:
        mc = _matrix_completion(mc_size, mc_rank, mc_deficits, mc_deficit_rank, mc_depth, mc_lr, mc_init_scale,
                                mc_observed, mc_deficit_observed, mc_durations, mc_steps, mc_onsets, mc_deficit_length,
                                mc_target_loss, seeds, seed, dev, dt)
        metrics.update(mc["metrics"])
        tables["matrix_completion"] = mc["table"]
        tables["matrix_completion_curves"] = mc["curves"]
        figs.append(("matrix_completion", mc["figure"],
                     "Matrix completion: test loss during and after deficits of each duration (windows shaded)"))
        config["matrix_completion"] = mc["config"]
    figs.append(("deficit_duration", _duration_figure(tables["deficit_duration"], depths, mc),
                 "Damage at the end vs deficit duration from step 0 (the paper's protocol)"))
    return dln_result("critical-period", "Deep linear network: critical learning periods",
                      "Two depth-D pathways share one mode of strength S; pathway b is deprived (no learning"
                      + (", output removed" if remove_output else "") + ") during the deficit. Onset sweep: a "
                      f"{deficit_length}-step deficit from each onset. Duration sweep (the protocol of Kleinman, "
                      "Achille, Soatto 2024): a deficit from step 0 of each duration, then training on; damage = "
                      "1 - K_b / K_b(no deficit). Early deficits let pathway a win the whole mode for D >= 2; late "
                      "ones leave (S/2, S/2). SGD: two-pathway networks (balanced init, Gaussian inputs), lr = dt."
                      + (" " + mc["summary"] if mc else ""),
                      config, metrics, tables, frame, figs, started=started, device=dev)


def _matrix_completion(n, rank, deficits, deficit_rank, depth, lr, init_scale, observed, deficit_observed, durations,
                       after, late_onsets, late_length, target_loss, seeds, seed, dev, dt):
    """Deep matrix completion (Kleinman et al. 2024, their ``matrixcompletion`` code): n x n target of
    rank ``rank``, depth ``depth``, width n, Gaussian init of end-to-end scale ``init_scale``, GD with
    ``lr`` on 1/2 the mean squared error over the observations. Members (all batched, every duration
    and late onset of a seed from the same init): deficits from 0 of each duration, late deficits,
    each trained ``after`` steps past its deficit. Test loss: mean squared error over all entries."""
    for name in deficits:
        if name not in MC_DEFICITS:
            raise InputError(f"unknown matrix-completion deficit '{name}' (choose from {', '.join(MC_DEFICITS)})")
    durations = tuple(sorted({0, *(int(x) for x in durations)}))
    late_onsets = tuple(int(x) for x in late_onsets)
    wins = [(0, d) for d in durations] + [(o, late_length) for o in late_onsets]
    m = len(wins)
    on, du = np.tile([w[0] for w in wins], seeds), np.tile([w[1] for w in wins], seeds)
    metrics, rows, curves, sweeps = {}, [], {}, {}
    for kind in deficits:
        probs = [completion_task(n, rank, observed, kind, deficit_observed=deficit_observed, deficit_rank=deficit_rank,
                                 seed=seed + sd) for sd in range(seeds)]

        def stack(field, probs=probs):
            return torch.as_tensor(np.repeat(np.stack([getattr(p, field) for p in probs]), m, 0), dtype=dt, device=dev)
        base = init_weights("gaussian", [n] * (depth + 1), seeds, scale=init_scale ** (1 / depth), seed=seed + 100,
                            dtype=dt, device=dev)
        w = [x.repeat_interleave(m, 0).contiguous() for x in base]
        target, mask = stack("target"), stack("mask")
        sw = window_sweep(w, Task(stack("deficit_target"), mask=stack("deficit_mask")), Task(target, mask=mask),
                          on, du, after, lr=lr, eval_tasks=[Task(target, mask=stack("test")), Task(target, mask=mask)],
                          record_every=max(1, (max(durations) + after) // 200))
        sweeps[kind] = (sw, on, du)
        test = sw.evals[:, 0].reshape(seeds, m, -1)
        final = sw.final[:, 0].reshape(seeds, m)
        ends = (on + du).reshape(seeds, m)
        reach = np.full((seeds, m), np.nan)
        half = np.full((seeds, m), np.nan)
        for sd in range(seeds):
            for i in range(m):
                after_win = (sw.steps >= ends[sd, i]) & ~np.isnan(test[sd, i])
                hit = after_win & (test[sd, i] <= target_loss)
                reach[sd, i] = sw.steps[hit][0] - ends[sd, i] if hit.any() else np.nan
                mid = int(np.argmin(np.abs(sw.steps - (ends[sd, i] + after / 2))))
                half[sd, i] = final[sd, i] / test[sd, i, mid]
        gm = np.exp(np.log(np.maximum(final, 1e-300)).mean(0))  # geometric mean over seeds
        control = gm[0]
        for i, (o, d) in enumerate(wins):
            tag = f"dur{d}" if i < len(durations) else f"onset{o}"
            metrics[f"mc_{kind}_test_loss_{tag}"] = gm[i]
            metrics[f"mc_{kind}_damage_{tag}"] = gm[i] / control
            got = reach[:, i]  # None: most seeds never reach the target loss
            metrics[f"mc_{kind}_steps_to_target_{tag}"] = float(np.nanmedian(got)) if np.mean(np.isnan(got)) < 0.5 \
                else None
            metrics[f"mc_{kind}_last_half_change_{tag}"] = float(np.exp(np.log(half[:, i]).mean()))
            for sd in range(seeds):
                rows.append({"deficit": kind, "seed": sd, "onset": o, "duration": d, "test_loss_final": final[sd, i],
                             "damage": final[sd, i] / final[sd, 0],
                             "train_loss_final": sw.final[sd * m + i, 1], "steps_to_target": reach[sd, i],
                             "last_half_change": half[sd, i]})
            logs = np.log(np.maximum(test[:, i], 1e-300))
            seen = (~np.isnan(logs)).sum(0)  # seeds still training at each record (NaN once all stopped)
            curves[f"test_loss_{kind}_{tag}"] = np.exp(np.nansum(logs, 0) / np.maximum(seen, 1)) \
                * np.where(seen > 0, 1.0, np.nan)
        metrics[f"mc_{kind}_test_loss_control"] = control
        dmg = [metrics[f"mc_{kind}_damage_dur{d}"] for d in durations[1:]]
        late = [metrics[f"mc_{kind}_damage_onset{o}"] for o in late_onsets]
        # the paper's curve: an early deficit's damage grows with its duration, a late one's is nil
        metrics[f"mc_{kind}_damage_longest"] = dmg[-1] if dmg else None
        metrics[f"mc_{kind}_damage_late_max"] = max(late) if late else None
        metrics[f"mc_{kind}_matches_paper"] = bool(dmg and dmg[-1] >= 10 and max(dmg) <= 2 * dmg[-1]
                                                   and (not late or max(late) <= 2))
    if "observations" in deficits:  # the keys of the former onset protocol (same deficit type)
        metrics["mc_test_loss_control"] = metrics["mc_observations_test_loss_control"]
        for o in late_onsets:
            metrics[f"mc_test_loss_onset{o}"] = metrics[f"mc_observations_test_loss_onset{o}"]
            metrics[f"mc_damage_onset{o}"] = metrics[f"mc_observations_damage_onset{o}"]
    steps0 = next(iter(sweeps.values()))[0].steps
    frame = pd.DataFrame({"step": steps0, **{k: v for k, v in curves.items() if len(v) == len(steps0)}})
    config = {"size": n, "rank": rank, "deficits": list(deficits), "deficit_rank": deficit_rank, "depth": depth,
              "lr": lr, "init_scale": init_scale, "observed": observed, "deficit_observed": deficit_observed,
              "durations": list(durations), "steps_after": after, "late_onsets": list(late_onsets),
              "late_length": late_length, "target_loss": target_loss}
    summary = (f"Matrix completion ({n} x {n}, rank {rank}, D = {depth}, lr {lr:g}, init {init_scale:g}, "
               f"{observed:g} of the entries observed): deficits from step 0 ("
               + ", ".join({"rank": f"rank switch from a rank-{deficit_rank} matrix",
                            "observations": f"{deficit_observed:g} of the entries observed"}[k] for k in deficits)
               + f"), then {after} steps; damage = final test loss (all entries) / the no-deficit control's.")
    return {"metrics": metrics, "table": pd.DataFrame(rows), "curves": frame, "config": config, "summary": summary,
            "figure": _completion_figure(sweeps, seeds, m, durations, late_onsets, late_length, target_loss)}


def _onset_figure(depths, onsets, on_all, ka, kb, table, traj, length, strength, k0, dtau, steps, remove_output):
    """Final strengths vs onset (ODE lines, SGD markers) and strength trajectories with the deficit shaded."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x = np.array(onsets, float)
    for j, depth in enumerate(depths):
        line, = axes[0].plot(x, ka[j, 1:], "-", label=f"ODE K_a, D={depth}")
        axes[0].plot(x, kb[j, 1:], "--", color=line.get_color(), lw=1)
        sub = table[table.D == depth].iloc[1:]
        axes[0].plot(x, sub.sgd_Ka, "o", color=line.get_color(), ms=4)
        axes[0].plot(x, sub.sgd_Kb, "x", color=line.get_color(), ms=5)
    axes[0].set(xlabel=f"deficit onset (step; length {length})", ylabel="final strength (K_a solid/o, K_b dashed/x)",
                title="critical period: ODE (lines) vs SGD (markers)")
    axes[0].legend(fontsize=7)
    d_show = 2 if 2 in depths else depths[0]
    st, kk, _ = traj[d_show]
    _, _, ta_, tb_ = pathway_ode(d_show, on_all, length, strength=strength, k0=k0, dt=dtau, steps=steps,
                                 remove_output=remove_output, record_every=1)
    for i in sorted({1, len(on_all) - 1}):
        line, = axes[1].plot(np.arange(steps + 1), ta_[i], "-", label=f"ODE K_a onset {on_all[i]}")
        axes[1].plot(np.arange(steps + 1), tb_[i], "--", color=line.get_color())
        axes[1].axvspan(on_all[i], on_all[i] + length, color=line.get_color(), alpha=0.12)
        pick = slice(None, None, 8)
        axes[1].plot(st[pick], kk[i, 0, pick], "o", ms=3, color=line.get_color())
        axes[1].plot(st[pick], kk[i, 1, pick], "x", ms=3, color=line.get_color())
    axes[1].set(xlabel="step", ylabel="pathway strength",
                title=f"trajectories, D = {d_show} (shaded: deficit window)")
    axes[1].legend(fontsize=7)
    return fig


def _duration_figure(table, depths, mc):
    """Damage vs deficit duration: the pathway model (ODE lines, SGD markers) and matrix completion."""
    fig, axes = plt.subplots(1, 2 if mc else 1, figsize=(11 if mc else 5.5, 4), squeeze=False)
    ax = axes[0, 0]
    for depth in depths:
        sub = table[table.D == depth]
        line, = ax.plot(sub.duration, sub.ode_damage, "-", label=f"ODE D={depth}")
        ax.plot(sub.duration, sub.sgd_damage, "o", ms=4, color=line.get_color())
    ax.set(xlabel="deficit duration from step 0 (steps)", ylabel="damage 1 - K_b / K_b(no deficit)",
           title="two pathways: ODE (lines), SGD (markers)")
    ax.legend(fontsize=7)
    if mc:
        ax = axes[0, 1]
        t = mc["table"]
        for kind, sub in t[t.onset == 0].groupby("deficit"):
            g = sub.groupby("duration").test_loss_final.apply(lambda v: np.exp(np.log(v).mean()))
            line, = ax.plot(g.index, g.values, "o-", label=f"{kind} deficit from 0")
            late = t[(t.deficit == kind) & (t.onset > 0)]
            if len(late):
                ax.plot(late.duration, late.test_loss_final, "s", mfc="none", color=line.get_color(),
                        label=f"{kind}: same length, late onset")
            ax.axhline(g.values[0], color=line.get_color(), lw=0.8, ls=":")
        ax.set(yscale="log", xlabel="deficit duration (steps)", ylabel="final test loss",
               title="matrix completion (dotted: no deficit)")
        ax.legend(fontsize=7)
    return fig


def _completion_figure(sweeps, seeds, m, durations, late_onsets, late_length, target_loss):
    """Test-loss trajectories of the first seed, one panel per deficit, each deficit window shaded."""
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5.5 * len(sweeps), 4), squeeze=False)
    for ax, (kind, (sw, on, du)) in zip(axes[0], sweeps.items()):
        for i in range(m):
            line, = ax.plot(sw.steps, sw.evals[i, 0], lw=1.2,
                            label=f"duration {du[i]}" if on[i] == 0 else f"late: {du[i]} from {on[i]}")
            if du[i]:
                ax.axvspan(on[i], on[i] + du[i], color=line.get_color(), alpha=0.08)
        ax.axhline(target_loss, color="k", lw=0.6, ls=":")
        ax.set(yscale="log", xlabel="step", ylabel="test loss (all entries)", title=f"{kind} deficit (seed 0)")
        ax.legend(fontsize=6)
    return fig


