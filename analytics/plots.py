"""Figures that compare loss curves at a glance, shared by the fit-scaling and predict reports:
an overlay of every curve zoomed where they differ (the end of training, with a y-range set by the
spread of the final losses, not by the early loss that is orders above it), a residual panel, the
ranked final losses with their intervals and paired differences, and a grid of small multiples.

A curve is a :class:`Series`: a law's prediction (and band), optionally the logged loss it
predicts (and its smoothed version, :mod:`cltk.analytics.smoothing`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from cltk.analytics.ranking import short
from cltk.analytics.report import plt

#: the y-window of a zoom is the spread of the final losses widened by this share of it on each side
MARGIN_SHARE = 0.25
#: ... and by at least this share of the loss itself (one schedule, or finals that coincide)
MIN_MARGIN = 0.002
MISS_COLOR = "#c00000"


@dataclass
class Series:
    """One curve of a comparison: the law's prediction ``pred`` at ``steps`` with its band
    ``(lo, hi)``, the logged loss (``logged`` at ``logged_steps``, ``smoothed`` when the log is
    noisy), the LR per step (``lrs[k]`` for step k), the role (``fit``, ``heldout`` or
    ``predicted``), the logged final (smoothed where smoothed) and whether it missed its interval."""

    name: str
    steps: np.ndarray
    pred: np.ndarray
    band: tuple | None = None
    logged_steps: np.ndarray | None = None
    logged: np.ndarray | None = None
    smoothed: np.ndarray | None = None
    lrs: np.ndarray | None = None
    role: str = "predicted"
    final_true: float | None = None
    missed: bool | None = None
    label: str = ""

    @property
    def shown(self) -> np.ndarray | None:
        """The logged loss as plots show it: smoothed where the log is noisy."""
        return self.smoothed if self.smoothed is not None else self.logged


def final_window(series: list[Series]) -> tuple[float, float]:
    """The y-range of a zoom: every final loss (predicted and logged) with a margin of
    :data:`MARGIN_SHARE` of their spread (at least :data:`MIN_MARGIN` of the loss); the intervals of
    the finals widen it by at most half that spread on each side (wide bands would flatten the
    differences the zoom is for; the ranking figure shows them whole)."""
    vals = [s.pred[-1] for s in series] + [s.final_true for s in series if s.final_true is not None]
    lo, hi = float(np.min(vals)), float(np.max(vals))
    spread = hi - lo
    bands = [s.band for s in series if s.band is not None]
    if bands:
        b_lo, b_hi = min(float(b[0][-1]) for b in bands), max(float(b[1][-1]) for b in bands)
        reach = 0.5 * spread if spread > 0 else np.inf  # one final: its interval is the scale
        lo, hi = min(lo, max(b_lo, lo - reach)), max(hi, min(b_hi, hi + reach))
    margin = max(MARGIN_SHARE * spread, MIN_MARGIN * float(np.mean(np.abs(vals))))
    return lo - margin, hi + margin


def x_window(series: list[Series], y_hi: float) -> tuple[float, float]:
    """The step range of a zoom: from a little before the first step at which any prediction falls
    into the y-window (below ``y_hi``) to the last step of the longest curve."""
    end = max(float(s.steps[-1]) for s in series)
    enter = [float(s.steps[np.argmax(s.pred <= y_hi)]) for s in series if np.any(s.pred <= y_hi)]
    start = min(enter) if enter else 0.0
    start = max(0.0, start - 0.03 * (end - start))
    return start, end + 0.02 * (end - start)


def _style(s: Series) -> dict:
    return {"ls": "--" if s.role == "fit" else "-", "lw": 1.6}


def _draw_curve(ax, s: Series, color, finals: bool = True, points: bool = True, logged_color=None,
                dodge: float = 0.0) -> None:
    ax.plot(s.steps, s.pred, color=color, **_style(s))
    if points and s.logged is not None:
        if s.smoothed is not None:
            ax.plot(s.logged_steps, s.smoothed, color=logged_color or color, lw=0.9, alpha=0.8)
        else:
            ax.plot(s.logged_steps, s.logged, "o", ms=2.2, color=logged_color or color, alpha=0.55, mew=0)
    if not finals:
        return
    if s.band is not None:
        p, lo, hi = s.pred[-1], s.band[0][-1], s.band[1][-1]
        ax.errorbar([s.steps[-1] + dodge], [p], yerr=[[p - lo], [hi - p]], fmt="o", color=color, ms=4, capsize=3,
                    lw=1.2)
    if s.final_true is not None:
        x = s.logged_steps[-1] if s.logged_steps is not None else s.steps[-1]
        ax.plot([x], [s.final_true], "D", ms=5, color=color, mec="black", mew=0.8)
        if s.missed:
            ax.plot([x], [s.final_true], "o", ms=14, mfc="none", mec=MISS_COLOR, mew=2)


def relative_residuals(s: Series) -> np.ndarray | None:
    """(logged - predicted) / predicted at the logged steps (smoothed logged loss where smoothed)."""
    if s.logged is None:
        return None
    pred = np.interp(s.logged_steps, s.steps, s.pred)
    return (s.shown - pred) / pred


def _legend_handles(series: list[Series], colors, level) -> tuple[list, list]:
    handles = [Line2D([], [], color=c, **_style(s)) for s, c in zip(series, colors)]
    labels = [s.label or s.name for s in series]
    extra = []
    if any(s.band is not None for s in series):
        extra.append((Line2D([], [], marker="o", color="0.3", ms=4, ls="-"),
                      f"predicted final, {level:.0%} interval" if level else "predicted final, interval"))
    if any(s.final_true is not None for s in series):
        extra.append((Line2D([], [], marker="D", color="0.6", mec="black", ls=""), "logged final"))
    if any(s.missed for s in series):
        extra.append((Line2D([], [], marker="o", ms=10, mfc="none", mec=MISS_COLOR, mew=2, ls=""),
                      "final outside its interval"))
    if any(s.role == "fit" for s in series) and any(s.role != "fit" for s in series):
        extra += [(Line2D([], [], color="0.3", ls="--"), "law on a fit curve"),
                  (Line2D([], [], color="0.3", ls="-"), "law on a held-out curve")]
    if any(s.logged is not None for s in series):
        dots = any(s.logged is not None and s.smoothed is None for s in series)
        extra.append((Line2D([], [], color="0.3", marker="o" if dots else None, ms=3, ls="" if dots else "-",
                             alpha=0.6), "logged loss" if dots else "logged loss (smoothed)"))
    return handles + [h for h, _ in extra], labels + [t for _, t in extra]


def overview_figure(series: list[Series], level: float | None = None, title: str = ""):
    """The comparison at a glance: the curves overlaid on the zoom window (final_window, x_window),
    the relative residuals below when curves are logged, the LR on the same steps, and on the right
    the whole run with the zoom window outlined, and the legend in ``series`` order (ranked)."""
    colors = [f"C{i % 10}" for i in range(len(series))]
    resid = any(s.logged is not None for s in series)
    rows = [3.2] + ([1.4] if resid else []) + [1.0]
    fig = plt.figure(figsize=(11.5, 2.1 * sum(rows)))
    grid = fig.add_gridspec(len(rows), 2, height_ratios=rows, width_ratios=[3, 1.25], hspace=0.12, wspace=0.18)
    ax = fig.add_subplot(grid[0, 0])
    y_lo, y_hi = final_window(series)
    x_lo, x_hi = x_window(series, y_hi)
    # intervals of curves that end at the same step stand side by side, right of the end, not on top of each other
    dx, seen = 0.012 * (x_hi - x_lo), {}
    for s, c in zip(series, colors):
        k = seen[int(s.steps[-1])] = seen.get(int(s.steps[-1]), -1) + 1
        _draw_curve(ax, s, c, dodge=(k + 1) * dx if s.band is not None else 0.0)
    if any(s.band is not None for s in series):
        x_hi = max(x_hi, max(float(s.steps[-1]) for s in series) + (max(seen.values()) + 2) * dx)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.set_title(title or "zoom: the end of training, y-range set by the final losses", fontsize=10)
    below = [ax]
    if resid:
        ax_r = fig.add_subplot(grid[1, 0], sharex=ax)
        top = 0.0
        for s, c in zip(series, colors):
            r = relative_residuals(s)
            if r is None:
                continue
            style = {"lw": 1.0} if s.smoothed is not None else {"marker": "o", "ms": 2, "lw": 0.6, "alpha": 0.8}
            ax_r.plot(s.logged_steps, 100 * r, color=c, **style)
            inside = (s.logged_steps >= x_lo) & (s.logged_steps <= x_hi)
            if inside.any():
                top = max(top, float(np.max(np.abs(r[inside]))))
        top = max(100 * top * 1.15, 0.05)
        ax_r.set_ylim(-top, top)
        ax_r.axhline(0, color="black", lw=0.8)
        ax_r.set_ylabel("logged − law\n(% of loss)")
        ax_r.grid(alpha=0.3)
        below.append(ax_r)
    ax_lr = fig.add_subplot(grid[len(rows) - 1, 0], sharex=ax)
    for s, c in zip(series, colors):
        if s.lrs is not None:
            k = np.arange(len(s.lrs))
            ax_lr.plot(k, s.lrs, color=c, lw=1.1, ls=_style(s)["ls"])
    ax_lr.set_ylabel("lr")
    ax_lr.set_xlabel("step")
    ax_lr.set_ylim(bottom=0)
    ax_lr.grid(alpha=0.3)
    for a in below:
        a.tick_params(labelbottom=False)
    ax_full = fig.add_subplot(grid[0, 1])
    for s, c in zip(series, colors):
        _draw_curve(ax_full, s, c, finals=False, points=False)
    # the whole run, less its first tenth, where the loss is orders above the rest
    vals = np.concatenate([s.pred[len(s.pred) // 10:] for s in series])
    ax_full.set_ylim(float(vals.min()) - (y_hi - y_lo) * 0.1, float(vals.max()) + (y_hi - y_lo) * 0.1)
    ax_full.add_patch(Rectangle((x_lo, y_lo), x_hi - x_lo, y_hi - y_lo, fill=False, ec="black", lw=1, ls=":"))
    ax_full.set_title("whole run (dotted: the zoom)", fontsize=9)
    ax_full.tick_params(labelsize=8)
    ax_full.xaxis.set_major_locator(MaxNLocator(3))  # a narrow panel: long step numbers ran together
    ax_full.grid(alpha=0.3)
    ax_leg = fig.add_subplot(grid[1:, 1])
    ax_leg.axis("off")
    handles, labels = _legend_handles(series, colors, level)
    ax_leg.legend(handles, labels, loc="upper left", frameon=False, fontsize=8.5, borderaxespad=0)
    return fig


def ranking_figure(rows: list[dict], level: float | None, key: str = "final_loss", true_key: str | None = None,
                   missed_key: str | None = None):
    """Ranked final losses (best on top) with their intervals (``final_lo``/``final_hi``) and, on the
    right, the paired differences to the best with their intervals (``diff_lo``/``diff_hi``, a
    dashed line at 0: an interval across it cannot separate the two). ``true_key`` adds the
    logged finals (a diamond; ringed in red where ``missed_key`` is true)."""
    paired = any(r.get("diff_lo") is not None for r in rows)
    fig, axes = plt.subplots(1, 2 if paired else 1, figsize=(11.5, 0.8 + 0.36 * len(rows)), sharey=True,
                             squeeze=False)
    ax = axes[0, 0]
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows):
        if r.get("final_lo") is not None:
            ax.plot([r["final_lo"], r["final_hi"]], [yi, yi], color="C0", lw=2, alpha=0.6)
        ax.plot([r[key]], [yi], "o", color="C0", ms=5)
        if true_key and r.get(true_key) is not None:
            miss = bool(missed_key and r.get(missed_key) is False)
            ax.plot([r[true_key]], [yi], "D", ms=5, color=MISS_COLOR if miss else "0.2", mec="black", mew=0.6)
            if miss:
                ax.plot([r[true_key]], [yi], "o", ms=13, mfc="none", mec=MISS_COLOR, mew=2)
    # names as the tables cut them (an unnamed schedule is named by its spec, which can be kilobytes)
    ax.set_yticks(y, [f"{r['rank']}. {short(r['name'])}" for r in rows], fontsize=9)
    ax.set_xlabel("final loss" + (f"\n(predicted, {level:.0%} interval)" if level else " (predicted)")
                  + ("; diamond: logged" if true_key else ""), fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    if paired:
        ax_d = axes[0, 1]
        ax_d.axvline(0, color="black", lw=1, ls="--")
        for yi, r in zip(y, rows):
            if r.get("diff_lo") is None:
                continue
            color = "C2" if r["diff_excludes_zero"] else "0.55"
            ax_d.plot([r["diff_lo"], r["diff_hi"]], [yi, yi], color=color, lw=2.5)
            ax_d.plot([r["diff_vs_best"]], [yi], "o", color=color, ms=5)
        ax_d.set_xlabel(f"paired difference to the best\n({level:.0%} interval; grey: holds 0, not separable)",
                        fontsize=9)
        ax_d.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def small_multiples(series: list[Series], ncols: int = 3, level: float | None = None):
    """One small panel per curve, each zoomed on the second half of its run (y-range from what is
    drawn there), logged loss, prediction, band, logged final (ringed in red when it missed its
    interval) and the error of the final in the title."""
    n = len(series)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11.5, 2.5 * nrows), squeeze=False)
    for ax, s in zip(axes.flat, series):
        color = "C3" if s.role == "heldout" else "C0"
        lo_x = 0.5 * float(s.steps[-1])
        keep = s.steps >= lo_x
        if s.band is not None:
            ax.fill_between(s.steps[keep], s.band[0][keep], s.band[1][keep], color=color, alpha=0.18, lw=0)
        _draw_curve(ax, s, color, logged_color="0.2")
        vals = [s.pred[keep]] + ([s.band[0][keep], s.band[1][keep]] if s.band is not None else [])
        if s.logged is not None:
            vals.append(s.shown[s.logged_steps >= lo_x])
        vals = np.concatenate(vals)
        pad = 0.08 * max(float(np.ptp(vals)), 1e-4)
        ax.set_xlim(lo_x, float(s.steps[-1]) * 1.02)
        ax.set_ylim(float(vals.min()) - pad, float(vals.max()) + pad)
        title = f"{s.name} ({s.role})"
        if s.final_true is not None:
            err = s.pred[-1] - s.final_true
            title += f"\nerror of the final {err:+.4f} ({err / s.final_true:+.2%})"
        miss = bool(s.missed)
        ax.set_title(title + ("  OUTSIDE its interval" if miss else ""), fontsize=8.5,
                     color=MISS_COLOR if miss else "black")
        ax.tick_params(labelsize=7.5)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig
