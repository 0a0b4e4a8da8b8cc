"""Deep-linear-network experiments behind ``cltk simulate dln``: each is a function of keyword
arguments that compares the exact theory (lines) with the batched torch simulation (markers) and
returns a :class:`Result` (tables, curves, figures, the flat acceptance metrics). The continual
experiments live in ``continual`` (sequential) and ``critical_period``; ``demo_section`` is the short
version used by ``cltk demo``."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from cltk.analytics.report import plt
from cltk.analytics.result import Result, write_result
from cltk.analytics.simulate.dln.common import crossing_time, dln_result, gd_batch, key, torch_setup
from cltk.errors import InputError
from cltk.models.dln import (
    Task,
    depth_time,
    depth_trajectory,
    infinite_depth_time,
    init_weights,
    lazy_limit_change,
    make_teacher,
    rich_limit_change,
    train,
    two_layer_time,
    two_layer_trajectory,
)

__all__ = ["demo_section", "run_depth", "run_modes", "run_rich_lazy"]


_CONVERGED = 1e-4  # a mode has converged when u >= s (1 - 1e-4): 9.2102 for s = 1, u0 = 1e-4, D = 2


def _theory_modes(t, s, u0, depth):
    """Mode trajectories of Saxe et al. 2014: the sigmoidal closed form for D = 2, the deep mode ODE otherwise."""
    if depth == 2:
        return two_layer_trajectory(np.asarray(t)[:, None], np.asarray(s)[None], u0)
    return depth_trajectory(t, s, u0, depth)


def run_modes(*, singular_values=(3.0, 2.0, 1.0), init_scale: float = 1e-4, lr: float = 5e-4, seeds: int = 2,
              depths=(2,), width: int | None = None, steps: int | None = None, optimizer: str = "gd",
              batch_size: int = 32, seed: int = 0, device: str = "auto", dtype: str = "float64") -> Result:
    """Per-mode learning curves u_a(t) of balanced (decoupled) and small random inits against the
    closed form of Saxe et al. 2014 (the sigmoidal solution; the depth-D mode ODE for D != 2).
    ``width`` defaults to max(#singular values, 4), ``steps`` to 1.1 x the slowest mode's
    convergence time. Float64 by default: near convergence lr x residual falls below float32's
    resolution of the weights."""
    started = time.perf_counter()
    s = np.asarray(singular_values, float)
    u0 = init_scale
    n = width or max(len(s), 4)
    if n < len(s):
        raise InputError(f"width {n} is smaller than the number of teacher singular values ({len(s)})")
    dev, dt = torch_setup(device, dtype)
    batch = gd_batch(optimizer, batch_size)
    teacher = make_teacher(n, n, s, seed=seed)
    task = Task.from_numpy(teacher.matrix, device=dev, dtype=dt)
    uv = (torch.as_tensor(teacher.u, dtype=dt, device=dev), torch.as_tensor(teacher.v, dtype=dt, device=dev))
    # references for every simulated mode (key suffix _s{s}); the unsuffixed keys are the slowest
    # (smallest) mode's, so they exist whatever the teacher (s = 1 for the defaults, as before)
    s_ref = float(s.min())
    metrics = {"reference_singular_value": s_ref}
    for si in sorted(set(s.tolist())) + [None]:
        tag = "" if si is None else f"_s{key(si)}"
        sv = s_ref if si is None else si
        metrics[f"closed_form_time_to_half{tag}"] = float(two_layer_time(u0, sv / 2, sv))
        metrics[f"closed_form_time_to_converge{tag}"] = float(two_layer_time(u0, sv * (1 - _CONVERGED), sv))
    rows, curves, fig_data = [], {}, []
    for depth in depths:
        t_conv = max(depth_time(u0, si - 1e-4 * si, si, depth) for si in s)
        n_steps = steps or int(np.ceil(1.1 * t_conv / lr))
        every = max(1, n_steps // 400)
        widths = [n] * (depth + 1)
        w = [torch.cat(pair, 0) for pair in zip(
            init_weights("balanced", widths, seeds, scale=u0, teacher=teacher, seed=seed + 1, dtype=dt, device=dev),
            init_weights("small", widths, seeds, scale=u0 ** (1 / depth) / np.sqrt(n), seed=seed + 2,
                         dtype=dt, device=dev))]
        t0 = time.perf_counter()
        tr = train(w, task, lr=lr, steps=n_steps, batch_size=batch, seed=seed, record_every=every, modes=uv)
        secs = time.perf_counter() - t0
        t = tr.steps * lr
        th = _theory_modes(t, s, u0, depth)  # (R, m)
        u = tr.modes[:, 0].transpose(0, 2, 1)  # (E, m, R)
        rel = np.abs(u / th.T[None] - 1.0)
        t_half_th = np.array([depth_time(u0, si / 2, si, depth) for si in s])
        t_half = crossing_time(t, u, s[None, :] / 2)
        t_conv_sim = crossing_time(t, u, s[None, :] * (1 - _CONVERGED))
        for e in range(2 * seeds):
            init = "balanced" if e < seeds else "small"
            for a, si in enumerate(s):
                rows.append({"depth": depth, "init": init, "seed": e % seeds, "s": si,
                             "time_to_half_theory": t_half_th[a], "time_to_half_sim": t_half[e, a],
                             "max_rel_err": rel[e, a].max() if init == "balanced" else np.nan,
                             "steps": n_steps, "lr": lr, "seconds": secs})
        bal = slice(0, seeds)
        metrics[f"modes_max_rel_err_D{depth}"] = float(rel[bal].max())
        metrics[f"small_init_time_to_half_rel_err_D{depth}"] = float(np.nanmean(np.abs(t_half[seeds:] / t_half_th - 1)))
        for a, si in [(int(np.argmin(s)), None)] + list(enumerate(s)):
            tag = f"_D{depth}" + ("" if si is None else f"_s{key(si)}")
            sv = s[a]
            metrics[f"ode_time_to_half{tag}"] = depth_time(u0, sv / 2, sv, depth)
            metrics[f"sim_time_to_half{tag}"] = float(np.mean(t_half[bal, a]))
            metrics[f"sim_time_to_converge{tag}"] = float(np.mean(t_conv_sim[bal, a]))
            metrics[f"ode_time_to_converge{tag}"] = depth_time(u0, sv * (1 - _CONVERGED), sv, depth)
        metrics[f"final_loss_D{depth}"] = float(tr.loss[bal, -1].mean())
        curves[f"loss_D{depth}_balanced"] = (tr.steps, tr.loss[bal].mean(0))
        curves[f"loss_D{depth}_small"] = (tr.steps, tr.loss[seeds:].mean(0))
        fig_data.append((depth, t, u, th))
    if 2 in depths:
        metrics["modes_max_rel_err"] = metrics["modes_max_rel_err_D2"]
    fig, axes = plt.subplots(1, len(fig_data), figsize=(5.5 * len(fig_data), 4), squeeze=False)
    for ax, (depth, t, u, th) in zip(axes[0], fig_data):
        pick = slice(None, None, max(1, len(t) // 40))
        for a, si in enumerate(s):
            line, = ax.plot(t, th[:, a], lw=1.5, label=f"theory s={si:g}")
            ax.plot(t[pick], u[0, a, pick], "o", ms=4, color=line.get_color(), label="sim balanced" if a == 0 else None)
            ax.plot(t[pick], u[seeds, a, pick], "x", ms=4, color=line.get_color(),
                    label="sim small" if a == 0 else None)
        ax.set(xlabel="t = step x lr", ylabel="mode strength u(t)", title=f"D = {depth} (N_l = {depth + 1})")
        ax.legend(fontsize=7)
    step0 = curves[next(iter(curves))][0]
    frame = pd.DataFrame({"step": step0, "lr": lr, "loss": curves[next(iter(curves))][1]})
    for name, (st, v) in curves.items():
        if len(st) == len(step0):
            frame[name] = v
    return dln_result("modes", "Deep linear network: mode dynamics vs. closed form",
                      "Mode strengths u_a(t) = u_a^T W_D...W_1 v_a of full-batch-trained deep linear networks "
                      "(markers) against the closed form of Saxe et al. (2014) (D = 2) and their depth-D mode ODE "
                      "(lines). "
                      "Balanced inits start every mode at u0 and follow the theory exactly up to the O(lr) "
                      "discretisation error; small random inits follow it after a seed-dependent delay.",
                      {"singular_values": s.tolist(), "u0": u0, "lr": lr, "depths": list(depths), "width": n,
                       "seeds": seeds, "optimizer": "gd" if batch is None else f"sgd(batch={batch})"},
                      metrics, {"modes": pd.DataFrame(rows)}, frame,
                      [("modes", fig, "Mode trajectories: theory (lines) vs simulation (o balanced, x small init)")],
                      started=started, device=dev)


def _depth_reference(seed, dev, dt, lr):
    """Saxe et al. 2014 deep mode ODE: time from u0 = 1e-3 to 0.5 (s = tau = 1) for D = 2, 4, 9: quadrature,
    ODE integration and a balanced scalar-chain simulation."""
    rows, metrics = [], {}
    teacher = make_teacher(1, 1, [1.0], seed=seed)
    task = Task.from_numpy(teacher.matrix, device=dev, dtype=dt)
    uv = (torch.as_tensor(teacher.u, dtype=dt, device=dev), torch.as_tensor(teacher.v, dtype=dt, device=dev))
    for depth in (2, 4, 9):
        t_q = depth_time(1e-3, 0.5, 1.0, depth)
        tt = np.linspace(0, 1.2 * t_q, 2401)
        t_ode = float(crossing_time(tt, depth_trajectory(tt, [1.0], [1e-3], depth)[:, 0], 0.5))
        steps = int(np.ceil(1.05 * t_q / lr))
        w = init_weights("balanced", [1] * (depth + 1), 1, scale=1e-3, teacher=teacher, dtype=dt, device=dev)
        tr = train(w, task, lr=lr, steps=steps, record_every=1, modes=uv, record=True)
        t_sim = float(crossing_time(tr.steps * lr, tr.modes[0, 0, :, 0], 0.5))
        row = {"D": depth, "N_l": depth + 1, "time_quadrature": t_q, "time_ode": t_ode, "time_sim": t_sim,
               "time_infinite_depth_limit": float(infinite_depth_time(1e-3, 0.5, 1.0, depth)), "lr": lr}
        if depth == 2:
            row["time_closed_form"] = float(two_layer_time(1e-3, 0.5, 1.0))
            metrics["time_to_half_closed_form_D2"] = row["time_closed_form"]
        rows.append(row)
        metrics.update({f"time_to_half_ode_D{depth}": t_ode, f"time_to_half_quadrature_D{depth}": t_q,
                        f"time_to_half_sim_D{depth}": t_sim})
    return pd.DataFrame(rows), metrics


def _digits_task():
    """sklearn's bundled 8x8 digits (1797 images, no download) as the stand-in for MNIST: pixels / 16
    (in [0, 1], uncentred, as raw MNIST), one-hot targets. Full-batch GD on the mean squared error is
    exactly GD on 1/2 tr((W - T) S11 (W - T)^T) + L*, with S11 = X^T X / N and T = S31 S11^+, so the
    simulator's Task with basis B (B B^T = S11) reproduces it; its loss is the excess over L*.
    Returns (task matrix T, basis B, learnable loss L(W=0) - L*, largest eigenvalue of S11)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = d.data / 16.0, np.eye(10)[d.target]
    s11, s31 = x.T @ x / len(x), y.T @ x / len(x)
    lam, q = np.linalg.eigh(s11)
    keep = lam > 1e-10 * lam.max()  # always-blank pixels carry no variance
    t = s31 @ np.linalg.pinv(s11)
    return t, q[:, keep] * np.sqrt(lam[keep]), 0.5 * float(np.trace(t @ s11 @ t.T)), float(lam.max())


def run_depth(*, depths=(2, 4, 9, 19, 29, 49), inits=("orthogonal", "gaussian"), width: int = 64,
              lr_grid=(0.25, 0.5, 1.0, 1.5, 2.0), seeds: int = 2, steps: int = 1500, threshold: float = 0.1,
              lr: float = 2e-3, optimizer: str = "gd", batch_size: int = 32, seed: int = 0, device: str = "auto",
              dtype: str = "float32") -> Result:
    """Learning time vs depth: the DESIGN reference times of the depth-D mode ODE, and random
    orthogonal vs scaled-Gaussian inits by the protocol of Saxe et al. 2014 (Sec. 2, Fig. 4 and Sec. 3,
    Fig. 6A): deep linear nets trained on digit classification with one-hot squared error (sklearn's
    8x8 digits standing in for MNIST: 64 inputs, hidden layers of ``width``, 10 outputs), iterations
    until the training loss falls below a fixed level near complete learning (``threshold`` x the
    learnable loss L(0) - L*, the same level for every run), learning rate optimised separately for
    each depth over a log grid (lr = c / (D lambda_max(S11)), c from ``lr_grid``; they found the
    optimum ~ 1/N_l). Orthogonal stays flat, Gaussian grows. The default grid stops at c = 2, plain
    GD's stability bound at an orthogonal init (Gauss-Newton curvature D lambda_max(S11)), the regime
    of the gradient-flow theory; above it deeper orthogonal nets learn faster still (README).

    Why not the whitened synthetic teacher used before (n x n, rank-8 teacher, steps to 1% of the
    initial loss): orthogonal layers stay balanced, so an end-to-end mode whose target is 0 (24 of 32
    there) decays only as a power law t^{-1/(2-2/D)}, slower with depth; and with whole runs a few steps
    long, any finite depth delay shows as a large ratio (x4 from N_l = 3 to 50). The output bottleneck
    of the classification task (end-to-end rank = task rank) and its long, input-statistics-limited
    learning time are what make Saxe's curve flat.

    ``steps`` caps each run; ``lr`` is the step of the reference-time simulations (always float64)."""
    started = time.perf_counter()
    dev, dt = torch_setup(device, dtype)
    batch = gd_batch(optimizer, batch_size)
    ref, metrics = _depth_reference(seed, dev, torch.float64, lr)
    n = width
    target, basis, learnable, lam_max = _digits_task()
    grid = np.asarray(lr_grid, float)
    cap = steps
    every = 2
    task = Task.from_numpy(target, basis=basis, device=dev, dtype=dt)
    level = threshold * learnable
    metrics["learnable_loss"] = learnable
    rows, curves = [], {}
    for depth in depths:
        widths = [target.shape[1]] + [n] * (depth - 1) + [target.shape[0]]
        ws = [init_weights(k, widths, seeds * len(grid), scale=1.0, seed=seed + 7 * j + 1,
                           dtype=dt, device=dev) for j, k in enumerate(inits)]
        w = [torch.cat(layer, 0) for layer in zip(*ws)]
        lrs = grid / (depth * lam_max)
        lrs_t = torch.as_tensor(np.tile(lrs, seeds * len(inits)), dtype=dt, device=dev)
        t0 = time.perf_counter()
        tr = train(w, task, lr=lrs_t, steps=cap, batch_size=batch, seed=seed, record_every=every)
        secs = time.perf_counter() - t0
        first = crossing_time(tr.steps.astype(float), tr.loss, level, rising=False)  # NaN: never (or diverged)
        first = np.where(np.isnan(first), np.inf, first).reshape(len(inits), seeds, len(grid))
        med = np.median(first, axis=1)  # (inits, grid)
        for j, kind in enumerate(inits):
            best = int(np.argmin(med[j]))
            rows.append({"D": depth, "N_l": depth + 1, "init": kind, "best_c": grid[best], "best_lr": lrs[best],
                         "best_at_grid_edge": best in (0, len(grid) - 1) and np.isfinite(med[j, best]),
                         "time_steps": med[j, best] if np.isfinite(med[j, best]) else np.nan,
                         "reached": bool(np.isfinite(med[j, best])), "cap": cap, "seconds": secs / len(inits)})
            metrics[f"time_{kind}_D{depth}"] = med[j, best] if np.isfinite(med[j, best]) else None
            blk = slice(j * seeds * len(grid), (j + 1) * seeds * len(grid))
            curves[f"loss_{kind}_D{depth}"] = np.median(tr.loss[blk][best::len(grid)], axis=0)
        steps_rec = tr.steps
    table = pd.DataFrame(rows)
    for kind in inits:
        sub = table[table.init == kind].sort_values("D")
        t_first, t_last = sub.time_steps.iloc[0], sub.time_steps.iloc[-1]
        censored = bool(np.isnan(t_last))
        metrics[f"time_ratio_{kind}"] = (cap if censored else t_last) / t_first
        metrics[f"time_ratio_{kind}_censored"] = censored
        if len(sub) >= 3:  # growth over the deeper half, where Saxe et al. predict saturation
            t_mid = sub.time_steps.iloc[len(sub) // 2]
            metrics[f"time_ratio_{kind}_deep_half"] = (cap if censored else t_last) / t_mid
        # max / min over all depths: the acceptance measure of flatness (inf when some depth never gets there)
        metrics[f"time_spread_{kind}"] = float(np.where(sub.reached, sub.time_steps, np.inf).max()
                                               / sub.time_steps.min())
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for kind, mk in zip(inits, "os^v"):
        sub = table[table.init == kind].sort_values("D")
        y = np.where(sub.reached, sub.time_steps, cap)
        ax.plot(sub.N_l, y, mk, ms=7, label=f"sim {kind}" + (" (cap = not reached)" if not sub.reached.all() else ""))
    ax.set(xscale="log", yscale="log", xlabel="N_l = D + 1 layers",
           ylabel=f"GD steps to {threshold:g} x learnable loss",
           title="digits: learning time vs depth (best lr per depth)")
    ax.set_xticks(np.asarray(depths) + 1, [str(d + 1) for d in depths])
    ax.minorticks_off()
    ax.legend(fontsize=7)
    ax2.plot(ref.N_l, ref.time_quadrature, "-", label="theory (quadrature of the mode ODE)")
    ax2.plot(ref.N_l, ref.time_sim, "o", label="simulation (balanced)")
    ax2.set(xlabel="N_l", ylabel="time u: 1e-3 -> 0.5 (tau = s = 1)", title="depth-D ODE reference times")
    ax2.legend(fontsize=7)
    frame = pd.DataFrame({"step": steps_rec, "lr": grid.max() / (depths[0] * lam_max)})
    first_key = next(iter(curves))
    frame["loss"] = curves[first_key]
    for name, v in curves.items():
        frame[name] = v
    return dln_result("depth", "Deep linear network: learning time vs depth",
                      "Reference times of the depth-D mode ODE (Saxe et al. 2014; design notes 3.45, 15.5, "
                      "30.9) by quadrature, ODE integration and simulation; then, by the protocol of Saxe et al. "
                      "2014 (Fig. 6A) on sklearn's 8x8 digits standing in for MNIST, random orthogonal vs scaled "
                      "Gaussian (variance 1/fan_in) inits: GD steps until the excess training loss falls below "
                      "threshold x the learnable loss, learning rate optimised per depth (lr = c / (D lambda_max)), "
                      "median over seeds. Runs that never reach it are drawn at the cap.",
                      {"depths": list(depths), "inits": list(inits), "width": n, "data": "sklearn digits (8x8)",
                       "lr_grid": grid.tolist(), "seeds": seeds, "cap_steps": cap, "threshold": threshold,
                       "reference_lr": lr},
                      metrics, {"depth_times": table, "reference_times": ref}, frame,
                      [("depth", fig, "Learning time vs depth: simulation (markers) and theory (lines)")],
                      started=started, device=dev)


def run_rich_lazy(*, depth: int = 2, width: int = 32, singular_values=(2.0, 1.5, 1.0, 0.5),
                  scales=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0), ranks=None, seeds: int = 3, steps: int = 3000,
                  lr: float = 0.05, optimizer: str = "gd", batch_size: int = 32, seed: int = 0, device: str = "auto",
                  dtype: str = "float32") -> Result:
    """Rich vs lazy learning (Chizat et al. 2019; Liu et al. 2024, "How connectivity structure shapes
    rich and lazy learning in neural circuits"): relative weight and representation change after
    training vs initial scale g and initial rank, against the lazy (linearised, Sylvester) limit and
    the rich (vanishing-init, balanced) limit. Input and output size 8; ``ranks`` defaults to
    1, 4 and full rank; ``lr`` is the base step, lowered per network where large inits need it."""
    started = time.perf_counter()
    dev, dt = torch_setup(device, dtype)
    n_io, hidden = 8, width
    s = np.asarray(singular_values, float)
    scales = np.asarray(scales, float)
    ranks = tuple(int(r) for r in (ranks or (1, 4, min(n_io, hidden))))
    lr0 = lr
    teacher = make_teacher(n_io, n_io, s, seed=seed)
    task = Task.from_numpy(teacher.matrix, device=dev, dtype=dt)
    widths = [n_io] + [hidden] * (depth - 1) + [n_io]
    members = [(g, r, sd) for g in scales for r in ranks for sd in range(seeds)]
    parts = [init_weights("gaussian" if r >= min(n_io, hidden) else "lowrank", widths, 1, scale=g, rank=r,
                          seed=seed + 1000 * sd + 17 * r + 1, dtype=torch.float64) for g, r, sd in members]
    w0 = [torch.cat(layer, 0) for layer in zip(*parts)]
    w = [x.to(dev, dt).contiguous() for x in w0]
    # keep GD stable at large g: curvature grows like the largest squared layer singular value
    top = torch.stack([torch.linalg.matrix_norm(x[:, 0], ord=2) for x in w0]).max(0).values.numpy()
    lr = lr0 / np.maximum(1.0, depth * top**2 * 1.0)
    tr = train(w, task, lr=torch.as_tensor(lr, dtype=dt, device=dev), steps=steps,
               batch_size=gd_batch(optimizer, batch_size), seed=seed, record_every=max(1, steps // 200))
    wf = [x.detach().cpu().double() for x in w]
    k0 = w0[0][:, 0].transpose(-1, -2) @ w0[0][:, 0]
    kf = wf[0][:, 0].transpose(-1, -2) @ wf[0][:, 0]
    repr_change = (torch.linalg.matrix_norm(kf - k0) / torch.linalg.matrix_norm(k0)).numpy()
    tt = torch.as_tensor(teacher.matrix)
    ttt = tt.T @ tt
    align = ((kf * ttt).sum((-1, -2)) / (torch.linalg.matrix_norm(kf) * torch.linalg.matrix_norm(ttt))).numpy()
    norm0 = np.sqrt(sum((x[:, 0] ** 2).sum((-1, -2)).numpy() for x in w0))
    if depth == 2:
        d1, d2 = lazy_limit_change(w0[0][:, 0].numpy(), w0[1][:, 0].numpy(), teacher.matrix)
        lazy = np.sqrt(d1**2 + d2**2) / norm0
    else:
        lazy = np.full(len(members), np.nan)
    rich = rich_limit_change(s, depth) / norm0
    rows = [{"scale": g, "rank": r, "seed": sd, "lr": lr[i], "weight_change": tr.change[i, -1],
             "lazy_theory": lazy[i], "rich_theory": rich[i], "repr_change": repr_change[i],
             "kernel_task_alignment": align[i], "final_loss": tr.loss[i, -1]}
            for i, (g, r, sd) in enumerate(members)]
    table = pd.DataFrame(rows)
    mean = table.groupby(["scale", "rank"], as_index=False).mean(numeric_only=True)
    metrics = {}
    for _, row in mean.iterrows():
        tag = f"g{key(row['scale'])}_r{int(row['rank'])}"
        metrics[f"weight_change_{tag}"] = row.weight_change
        metrics[f"lazy_theory_{tag}"] = row.lazy_theory
        metrics[f"repr_change_{tag}"] = row.repr_change
        metrics[f"final_loss_{tag}"] = row.final_loss
    full = mean[mean["rank"] == max(ranks)].sort_values("scale")
    big, small = full.iloc[-1], full.iloc[0]
    metrics["lazy_theory_rel_err_largest_scale"] = abs(big.weight_change / big.lazy_theory - 1) if depth == 2 else None
    metrics["rich_theory_rel_err_smallest_scale"] = abs(small.weight_change / small.rich_theory - 1)
    metrics["weight_change_ratio_smallest_over_largest"] = small.weight_change / big.weight_change
    metrics["repr_change_ratio_smallest_over_largest"] = small.repr_change / big.repr_change
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for r, mk in zip(ranks, "os^v"):
        sub = mean[mean["rank"] == r].sort_values("scale")
        pts, = ax.plot(sub.scale, sub.weight_change, mk, label=f"sim rank {r}")
        if depth == 2:
            ax.plot(sub.scale, sub.lazy_theory, "-", color=pts.get_color(), lw=1, label=f"lazy limit rank {r}")
        ax2.plot(sub.scale, sub.repr_change, mk + "-", color=pts.get_color(), label=f"rank {r}")
    ax.plot(full.scale, full.rich_theory, "k--", lw=1, label="rich limit (balanced from 0)")
    ax.set(xscale="log", yscale="log", xlabel="init scale g", ylabel="|W(T) - W(0)| / |W(0)|",
           title=f"weight change, D = {depth}")
    ax.legend(fontsize=7)
    ax2.set(xscale="log", yscale="log", xlabel="init scale g", ylabel="hidden-kernel change",
            title="representation change |K(T) - K(0)| / |K(0)|")
    ax2.legend(fontsize=7)
    frame = pd.DataFrame({"step": tr.steps, "lr": lr[0]})
    frame["loss"] = tr.loss[0]
    for g in scales:
        idx = [i for i, (gg, r, _) in enumerate(members) if gg == g and r == max(ranks)]
        frame[f"loss_g{key(g)}"] = tr.loss[idx].mean(0)
    return dln_result("rich-lazy", "Deep linear network: rich vs lazy learning",
                      "Relative weight change and hidden-representation change after training, vs the init "
                      "scale g (Gaussian, variance g^2/fan_in) and the init rank (rank-r inits with the same "
                      "Frobenius norm). Lines: the lazy limit (linearised network trained to convergence, exact "
                      "min-norm Sylvester solution, D = 2) and the rich limit (vanishing balanced init).",
                      {"depth": depth, "width": hidden, "io": n_io, "singular_values": s.tolist(),
                       "scales": scales.tolist(), "ranks": list(ranks), "seeds": seeds, "steps": steps, "lr0": lr0},
                      metrics, {"rich_lazy": table, "rich_lazy_mean": mean}, frame,
                      [("rich_lazy", fig, "Rich vs lazy: simulation (markers) and the two limits (lines)")],
                      started=started, device=dev)


def demo_section(out_dir: Path) -> dict:
    """The ``cltk demo`` section: mode dynamics vs the closed form (Saxe et al. 2014) and the
    critical-period model (ODE + SGD, Kleinman et al. 2024), small sizes (a few seconds on CPU);
    writes out_dir/{modes,critical-period}/ and the index out_dir/report.html."""
    from cltk.analytics.simulate.dln.critical_period import run_critical_period

    out_dir = Path(out_dir)
    runs = {"modes": run_modes(singular_values=(2.0, 1.0), lr=2e-3, seeds=1),
            "critical-period": run_critical_period(depths=(1, 2, 3), onsets=(0, 400), durations=(0, 10, 50),
                                                   after_steps=500, seeds=1, mc_size=0)}
    for sub, res in runs.items():
        write_result(res, out_dir / sub)
    m1, m2 = runs["modes"].metrics, runs["critical-period"].metrics
    figures = {"modes_max_rel_err": m1.get("modes_max_rel_err"),
               "closed_form_time_to_converge": m1["closed_form_time_to_converge"],
               "sim_time_to_converge_D2": m1.get("sim_time_to_converge_D2"),
               "ode_D2_onset0_Ka": m2.get("ode_D2_onset0_Ka"), "ode_D2_onset0_Kb": m2.get("ode_D2_onset0_Kb"),
               "ode_D1_onset0_Ka": m2.get("ode_D1_onset0_Ka"), "sgd_ode_max_abs_diff": m2.get("sgd_ode_max_abs_diff")}
    index = Result("Deep linear networks (demo)", figures)
    index.report.text("Two experiments of `cltk simulate dln` at demo sizes; each links to its full report.")
    for sub, res in runs.items():
        index.report.heading(res.title).text(res.details["summary"])
        index.report.link(f"{sub}/report.html", f"Full report: {sub}/report.html")
        index.report.table([{"metric": k, "value": v} for k, v in res.metrics.items()][:24])
    write_result(index, out_dir)
    return figures
