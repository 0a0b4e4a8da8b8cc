"""The select-schedule figures. Predicted finals of competing schedules differ by thousandths
while the curves fall by tenths, so every panel that compares finals takes its limits from the
spread of those finals (with a margin), not from the whole curves."""
from __future__ import annotations

import numpy as np

from cltk.analytics.report import plt
from cltk.selection import Selection, spec_fields


def _limits(values, margin: float = 0.25, floor: float = 1e-4) -> tuple[float, float]:
    """Limits around ``values`` with ``margin`` of their spread either side (at least ``floor``)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = max(margin * (hi - lo), floor)
    return lo - pad, hi + pad


def finals_panel(ax, rows: list[dict]) -> None:
    """Predicted final loss per schedule (``rows``: label, final, lo, hi), one row each, placed by
    its excess over the best on a symmetric-log axis: a 0.0001 and a 0.04 gap are both readable
    (linear within the smallest gap). Interval bars (separate intervals share most of the law's
    error: the paired differences in the text are what rank the schedules) are drawn faintly."""
    finals = np.array([r["final"] for r in rows])
    best = float(finals.min())
    gaps = finals - best
    positive = gaps[gaps > 0]
    lin = float(max(positive.min() if len(positive) else 1e-4, 1e-5))  # below 1e-5: a tie at 4 decimals
    y = np.arange(len(rows))[::-1]
    for yi, r, gap in zip(y, rows, gaps):
        color = "C3" if gap == 0 else "0.3"
        if r.get("lo") is not None:
            ax.plot([r["lo"] - best, r["hi"] - best], [yi, yi], color=color, lw=1, alpha=0.35)
        ax.plot(gap, yi, "*" if gap == 0 else "o", ms=11 if gap == 0 else 6, color=color)
        ax.annotate(f"{r['final']:.4f} (+{gap:.4f})" if gap else f"{r['final']:.4f}", (gap, yi),
                    textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8, color=color)
    ax.set_xscale("symlog", linthresh=lin)
    top = float(gaps.max()) if gaps.max() > 0 else lin
    ax.set_xlim(-0.5 * lin, 2.5 * top)
    # decades as plain numbers (labels are not parsed as TeX in reports, so no "10^{-4}")
    decades = 10.0 ** np.arange(np.ceil(np.log10(lin)), np.floor(np.log10(2.5 * top)) + 1)
    ax.set_xticks([0.0, *decades], ["0", *(f"{d:g}" for d in decades)], fontsize=8)
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_yticks(y, [r["label"] for r in rows], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("predicted final loss above the best (symlog; best: star)")


def sweep_panel(ax, sel: Selection) -> None:
    """Predicted final loss against the family's parameter (WSD: cooldown fraction per shape, the
    best final LR of each; cosine: final-LR ratio), the chosen one starred. The upper limit is the
    median candidate: the region near the optimum is what a choice turns on, and the worst
    candidates (clipped) would flatten it."""
    pts: dict[str, dict[float, float]] = {}
    peak = None
    for r in sel.candidates:
        family, f = spec_fields(r["spec"])
        if family in ("wsd", "wsds") and "decay" in f:
            key, x = f["shape"], float(f["decay"])
        elif family == "cosine":
            peak = peak or float(f["peak"])
            key, x = "cosine", float(f.get("final", 0)) / float(f["peak"])
        else:
            continue
        pts.setdefault(key, {})
        pts[key][x] = min(r["final_loss"], pts[key].get(x, np.inf))
    finals = [v for d in pts.values() for v in d.values()]
    if not finals:
        ax.axis("off")
        return
    for i, (key, d) in enumerate(sorted(pts.items())):
        xs = sorted(d)
        ax.plot(xs, [d[x] for x in xs], "o-", ms=3, lw=1, color=f"C{i}", label=key)
    ax.axhline(sel.final_loss, color="C3", lw=0.8, ls=":")
    family, f = spec_fields(sel.spec)
    if family in ("wsd", "wsds", "cosine") and f:
        x = float(f["decay"]) if "decay" in f else float(f.get("final", 0)) / float(f["peak"])
        ax.plot([x], [sel.final_loss], "*", ms=14, color="C3", label="chosen")
    else:
        ax.plot([], [], ":", color="C3", label=f"chosen ({sel.family}) {sel.final_loss:.4f}")
    lo = min(min(finals), sel.final_loss)
    hi = max(float(np.median(finals)), lo + 2e-4)
    ax.set_ylim(lo - 0.08 * (hi - lo), hi)
    ax.set_xlabel("final LR / peak" if set(pts) == {"cosine"} else "cooldown fraction of the run")
    ax.set_ylabel("predicted final loss")
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.legend(frameon=False, fontsize=8)


def selection_figure(sel: Selection, base: dict, base_schedules: dict, finals: list[dict]):
    """Left: the chosen schedule's predicted curve and LR against the baselines (loss zoomed on
    the last two thirds); right: the finals side by side and the family sweep."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.2), gridspec_kw={"height_ratios": [3, 2], "width_ratios": [3, 2]})
    ax, ax_lr = axes[0, 0], axes[1, 0]
    ax.plot(sel.steps, sel.predicted, color="C3", lw=2, label=f"chosen ({sel.family})")
    for i, (name, pred) in enumerate(base.items()):
        ax.plot(sel.steps, pred, color=f"C{i}", lw=1, label=name)
    tail = [p[len(p) // 3:] for p in [sel.predicted, *base.values()]]
    lo, hi = float(min(map(np.min, tail))), float(max(map(np.max, tail)))
    ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.3 * (hi - lo))
    ax.set_ylabel("predicted loss")
    ax.legend(frameon=False, fontsize=8)
    grid = np.arange(sel.steps[-1] + 1, dtype=float)
    ax_lr.plot(grid, sel.schedule(grid), color="C3", lw=2)
    for i, s in enumerate(base_schedules.values()):
        ax_lr.plot(grid, s(grid), color=f"C{i}", lw=1)
    ax_lr.set_ylabel("lr")
    ax_lr.set_xlabel("step")
    finals_panel(axes[0, 1], finals)
    sweep_panel(axes[1, 1], sel)
    fig.tight_layout()
    return fig


def comparison_figure(labels: list[str], selections: dict, cross: list[dict], total_steps: int):
    """Several laws' choices: their LR schedules, each law's predicted curve of its own choice
    zoomed on the steps where the choices differ, and the cross-evaluation — how much worse each
    choice is than the judging law's own, under every law (0 for its own; bars: paired intervals)."""
    fig, (ax_lr, ax_loss, ax_x) = plt.subplots(1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [4, 4, 5]})
    grid = np.arange(total_steps, dtype=float)
    starts = []
    for i, who in enumerate(labels):
        sel = selections[who]
        lr = sel.schedule(grid)
        ax_lr.plot(grid, lr, color=f"C{i}", lw=1.5, label=who)
        post = lr[int(np.argmax(lr)):]
        starts.append(total_steps - len(post) + int(np.argmax(post < 0.999 * post.max())) if np.any(
            post < 0.999 * post.max()) else total_steps)
    x0 = max(0, min(starts) - 0.15 * (total_steps - min(starts)))
    for i, who in enumerate(labels):
        sel = selections[who]
        m = sel.steps >= x0
        ax_loss.plot(sel.steps[m], sel.predicted[m], color=f"C{i}", lw=1.5, label=f"{who} (its own choice)")
    ax_loss.set_ylim(*_limits(np.concatenate([selections[w].predicted[selections[w].steps >= x0] for w in labels]),
                              margin=0.05))
    for ax in (ax_lr, ax_loss):
        ax.set_xlabel("step")
        ax.legend(frameon=False, fontsize=8)
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))
    ax_lr.set_ylabel("lr")
    ax_loss.set_ylabel("predicted loss")
    ax_loss.ticklabel_format(axis="y", useOffset=False)
    width = 0.8 / len(labels)
    for j, judge in enumerate(labels):
        for i, who in enumerate(labels):
            r = next(r for r in cross if r["law"] == judge and r["schedule_of"] == who)
            x = i + (j - (len(labels) - 1) / 2) * width
            ax_x.bar(x, r["regret"], width * 0.9, color=f"C{j}", alpha=0.8,
                     label=f"judged by {judge}" if i == 0 else None)
            if r["regret_lo"] is not None and who != judge:
                ax_x.plot([x, x], [r["regret_lo"], r["regret_hi"]], color="k", lw=1)
    ax_x.axhline(0, color="0.4", lw=0.8)
    ax_x.set_xticks(range(len(labels)), [f"choice of {w}" for w in labels], fontsize=8)
    ax_x.set_ylabel("predicted loss above the judge's own choice")
    ax_x.legend(frameon=False, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(labels))
    fig.tight_layout()
    return fig
