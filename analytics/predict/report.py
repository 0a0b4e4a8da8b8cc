"""The predict report: the ranking first, then every predicted curve overlaid, in full and zoomed on
the steps where the schedules differ, with the LR schedules below."""
from __future__ import annotations

import numpy as np

from cltk.analytics.report import Report, plt
from cltk.laws import LossLaw
from cltk.schedules import Schedule

#: the zoomed panel starts where the spread between the curves first reaches this share of their final spread
ZOOM_SHARE = 0.1


def zoom_window(curves: dict) -> tuple[float, float]:
    """The step range where the predicted curves differ: from the first step at which their spread
    (max - min over schedules, on the steps all of them reach) reaches :data:`ZOOM_SHARE` of the
    spread at the last common step, but not before 60% of the horizon (where schedules differ early,
    e.g. cosine against WSD, the late differences that decide the ranking would be flattened; the
    full panel shows the rest), to the last predicted step."""
    end = max(float(at[-1]) for at, _, _ in curves.values())
    common_end = min(float(at[-1]) for at, _, _ in curves.values())
    start = 0.6 * end
    if len(curves) > 1:
        grid = np.linspace(1, common_end, 1024)
        ys = np.array([np.interp(grid, at, pred) for at, pred, _ in curves.values()])
        spread = ys.max(axis=0) - ys.min(axis=0)
        if spread[-1] > 0:
            first = grid[np.argmax(spread >= ZOOM_SHARE * spread[-1])]
            start = max(start, float(first) - 0.05 * (end - first))
    return start, end


def write_report(rep: Report, law: LossLaw, schedules: dict[str, Schedule], rows: list[dict], curves: dict,
                 metrics: dict) -> None:
    params = ", ".join(f"{k}={v:.4g}" for k, v in law.params_.items())
    fitted_on = metrics["fit_curves"]
    rep.text(f"Law: {law.name} ({params})" + (f", fitted on {', '.join(fitted_on)}." if fitted_on else "."))
    best = rows[0]
    iv = (f" ({metrics['interval_level']:.0%} interval [{best['final_lo']:.4f}, {best['final_hi']:.4f}])"
          if best["final_lo"] is not None else "")
    rep.heading("Verdict").text(f"Lowest predicted final loss: {best['name']}, {best['final_loss']:.4f}{iv}.")
    if metrics["notes"]:
        rep.heading("Notes")
        for note in metrics["notes"]:
            rep.text(note)
    rep.heading("Comparison").table([_display(r) for r in rows])
    rep.text("interval: the law's prediction interval of the final loss (bootstrap refits widened by the "
             "leave-one-curve-out error). diff vs best: the final loss minus the best schedule's, with the interval "
             "of the paired differences (each refit predicts both schedules); 'yes' when it excludes 0.")
    rep.figure(_figure(schedules, rows, curves, metrics), "predictions",
               "Predicted loss of every schedule: in full (left), zoomed where they differ (right), and the LR")
    rep.heading("Schedules").code("\n".join(f"{r['name']}: {r['spec']}" for r in rows))


def _display(r: dict) -> dict:
    """A comparison row as the report shows it: short numbers, intervals as one cell."""
    def span(lo, hi):
        return "" if lo is None else f"[{lo:.4f}, {hi:.4f}]"

    excl = {None: "", True: "yes", False: "no"}[r["diff_excludes_zero"]]
    return {"rank": r["rank"], "schedule": r["name"], "final step": r["final_step"],
            "final loss": f"{r['final_loss']:.4f}", "interval": span(r["final_lo"], r["final_hi"]),
            "diff vs best": f"{r['diff_vs_best']:+.4f}", "diff interval": span(r["diff_lo"], r["diff_hi"]),
            "excludes 0": excl}


def _figure(schedules: dict[str, Schedule], rows: list[dict], curves: dict, metrics: dict):
    fig = plt.figure(figsize=(11, 6.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1.4])
    ax_full, ax_zoom, ax_lr = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    lo_x, hi_x = zoom_window(curves)
    zoom_vals = []
    for i, r in enumerate(rows):  # ranked order: the legend reads best first
        at, pred, band = curves[r["name"]]
        color = f"C{i % 10}"
        label = f"{r['rank']}. {r['name']}"
        ax_full.plot(at, pred, color=color, lw=1.5, label=label)
        ax_zoom.plot(at, pred, color=color, lw=1.5)
        if band is not None:
            ax_zoom.errorbar([at[-1]], [pred[-1]], yerr=[[pred[-1] - band[0][-1]], [band[1][-1] - pred[-1]]],
                             fmt="o", color=color, capsize=3, ms=4)
            zoom_vals += [band[0][-1], band[1][-1]]
        inside = (at >= lo_x) & (at <= hi_x)
        zoom_vals += list(pred[inside])
        grid_lr = np.linspace(0, at[-1], min(int(at[-1]) + 1, 4000))
        ax_lr.plot(grid_lr, schedules[r["name"]](grid_lr), color=color, lw=1.2)
    y_lo, y_hi = float(np.min(zoom_vals)), float(np.max(zoom_vals))
    pad = 0.08 * max(y_hi - y_lo, 1e-4)
    ax_zoom.set_xlim(lo_x, hi_x + 0.02 * (hi_x - lo_x))
    ax_zoom.set_ylim(y_lo - pad, y_hi + pad)
    ax_zoom.set_title("zoom: where the schedules differ" + (f" ({metrics['interval_level']:.0%} intervals)"
                                                            if metrics["interval_level"] else ""), fontsize=10)
    ax_zoom.grid(alpha=0.3)
    # the full view skips the first steps, where the loss is orders above the rest
    full_vals = np.concatenate([p[len(p) // 10:] for _, p, _ in curves.values()])
    ax_full.set_ylim(float(full_vals.min()) - pad, float(full_vals.max()) + pad)
    ax_full.set_title("predicted loss", fontsize=10)
    ax_full.set_ylabel("loss")
    ax_full.legend(frameon=False, fontsize=8)
    ax_full.grid(alpha=0.3)
    ax_lr.set_ylabel("lr")
    ax_lr.set_xlabel("step")
    fig.tight_layout()
    return fig
