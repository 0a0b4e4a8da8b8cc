"""The fit-scaling report, built to answer "how well does the law predict, and which schedule is
best?" at a glance: the overview figure first (every curve overlaid, zoomed where they differ,
residuals, LR), then the ranking by predicted final loss with paired differences, a compact table of
the final losses (a missed interval marked), and only then the curves one by one."""
from __future__ import annotations

import numpy as np

from cltk.analytics import smoothing
from cltk.analytics.plots import Series, overview_figure, ranking_figure, small_multiples
from cltk.analytics.ranking import SAME_LENGTH, separation_cell, span, tie_sentence
from cltk.analytics.report import Cell, Report, plt
from cltk.curves import Curve
from cltk.laws import LossLaw

INTERVAL_METHOD = ("percentiles of bootstrap refits (moving blocks of 10% of each curve's points), widened in "
                   "quadrature by the leave-one-curve-out relative error at the same level")

#: the columns of the full per-curve table (collapsed under the compact one)
DETAIL_COLUMNS = ["name", "role", "r2", "mae", "rmse", "pred_e", "worst_e", "final_loss_true",
                  "final_loss_true_smoothed", "final_loss_pred", "final_lo", "final_hi", "band_coverage"]


def shown_final(row: dict) -> float:
    """A curve's logged final loss as the report quotes it: smoothed for a noisy log."""
    s = row.get("final_loss_true_smoothed")
    return row["final_loss_true"] if s is None else s


def final_missed(row: dict) -> bool | None:
    """Whether the (smoothed, for a noisy log) logged final lies outside its interval; None without one."""
    key = "final_smoothed_in_interval" if row.get("final_loss_true_smoothed") is not None else "final_in_interval"
    return None if key not in row else not row[key]


def curve_series(c: Curve, pred: np.ndarray, role: str, band, row: dict) -> Series:
    """A fitted or held-out curve as the shared figures draw it."""
    return Series(c.name, c.steps, pred, band, logged_steps=c.steps, logged=c.loss, smoothed=smoothing.smooth(c.loss),
                  lrs=c.lrs, role=role, final_true=shown_final(row), missed=final_missed(row))


def curve_figure(s: Series):
    """One curve over its whole run: loss (markers, or faint raw loss under the smoothed loss for a
    noisy log) with the law's prediction and band above, the LR schedule below."""
    fig, (ax, ax_lr) = plt.subplots(2, 1, figsize=(7, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    if s.smoothed is not None:  # a per-step log: raw points would merge into a blob
        ax.plot(s.logged_steps, s.logged, "-", lw=0.3, color="0.85", label="logged loss")
        ax.plot(s.logged_steps, s.smoothed, "-", lw=1.2, color="0.2", label="logged loss, smoothed")
        # the y-range follows the smoothed loss (after its first 2%), not the per-batch noise
        tail = s.smoothed[len(s.smoothed) // 50:]
        noise = float(np.std(s.logged - s.smoothed))
        ax.set_ylim(float(tail.min()) - 3 * noise, float(tail.max()) + 3 * noise)
    else:
        ax.plot(s.logged_steps, s.logged, "o", ms=2.5, color="0.35", label="logged loss")
    color = "C3" if s.role == "heldout" else "C0"
    ax.plot(s.steps, s.pred, "-", color=color, label=f"law ({s.role})")
    if s.band is not None:
        ax.fill_between(s.steps, s.band[0], s.band[1], color=color, alpha=0.2, lw=0, label="prediction interval")
    ax.set_ylabel("loss")
    ax.set_title(s.name)
    ax.legend(frameon=False)
    ax_lr.plot(np.arange(len(s.lrs)), s.lrs, color="C2")
    ax_lr.set_ylabel("lr")
    ax_lr.set_xlabel("step")
    fig.tight_layout()
    return fig


def _final_row(r: dict, level_pct: str) -> dict:
    """A row of the compact table: the figures a reader checks first, in seven columns."""
    true = shown_final(r)
    err = r["final_loss_pred"] - true
    row = {"curve": r["name"], "role": r["role"], "final logged": f"{true:.4f}" + (" (smoothed)" if
                                                                                    r.get("final_loss_true_smoothed")
                                                                                    is not None else ""),
           "final predicted": f"{r['final_loss_pred']:.4f}", "error": f"{err:+.4f} ({err / true:+.2%})"}
    if "final_lo" in r:
        missed = final_missed(r)
        row[f"{level_pct} interval"] = span(r["final_lo"], r["final_hi"])
        row["inside?"] = Cell("MISSED: outside", "miss") if missed else Cell("yes", "ok")
    return row


def _ranking_rows(ranking: list[dict], level_pct: str) -> list[dict]:
    out = []
    for r in ranking:
        row = {"rank": r["rank"], "curve": r["name"], "role": r["role"], "final step": r["final_step"],
               "predicted final": f"{r['final_loss_pred']:.4f}", "logged final": f"{r['final_loss_logged']:.4f}",
               "logged rank": r["logged_rank"], "diff vs best": f"{r['diff_vs_best']:+.4f}"}
        if any(x["diff_lo"] is not None for x in ranking):
            row[f"paired {level_pct} interval"] = span(r["diff_lo"], r["diff_hi"], signed=True)
            row["separated?"] = separation_cell(r)
        out.append(row)
    return out


def _verdict(metrics: dict) -> list[str]:
    """The headline sentences: the predicted and the logged best, the held-out errors, the misses."""
    out = []
    held = [r for r in metrics["curves"] if r["role"] == "heldout"] or metrics["curves"]
    role = "held-out" if any(r["role"] == "heldout" for r in metrics["curves"]) else "fit"
    # the best schedule among runs of one length, as the ranking groups them (each group starts at rank 1)
    groups: list[list[dict]] = []
    for r in metrics["ranking"]:
        if r["rank"] == 1:
            groups.append([])
        groups[-1].append(r)
    for same in groups:
        if len(same) < 2:
            continue
        pred_best, true_best = same[0], next(r for r in same if r["logged_rank"] == 1)
        head = (f"Of the {len(same)} runs of {max(r['final_step'] for r in same)} steps, the law predicts "
                f"{pred_best['name']} lowest ({pred_best['final_loss_pred']:.4f}; logged "
                f"{pred_best['final_loss_logged']:.4f})")
        out.append(head + (", as the logs do." if pred_best is true_best else
                           f"; the logs put {true_best['name']} lowest ({true_best['final_loss_logged']:.4f}), "
                           f"{pred_best['final_loss_logged'] - true_best['final_loss_logged']:+.4f} better than "
                           "the law's pick."))
    errs = [abs(r["final_loss_pred"] - shown_final(r)) for r in held]
    out.append(f"Error of the {role} final losses: mean {np.mean(errs):.4f}, largest {np.max(errs):.4f} "
               f"({max(held, key=lambda r: abs(r['final_loss_pred'] - shown_final(r)))['name']}).")
    if metrics["interval"]:
        missed = [r["name"] for r in metrics["curves"] if final_missed(r)]
        level = f"{metrics['interval']['level']:.0%}"
        out.append(f"Final losses outside their {level} interval (ringed in red, MISSED in the tables): "
                   f"{', '.join(missed)}." if missed else f"Every final loss lies inside its {level} interval.")
    return out


def write_report(rep: Report, law: LossLaw, metrics: dict, series: list[Series], procedure_text: str) -> None:
    """The fit-scaling report: ``series`` in the order of ``metrics['curves']``."""
    level = metrics["interval"]["level"] if metrics["interval"] else None
    level_pct = f"{level:.0%}" if level else ""
    rep.text(f"Fitted jointly on {len(law.fit_info_['curves'])} curve(s) ({', '.join(law.fit_info_['curves'])}) "
             f"in {metrics['fit_seconds']:.2f} s: {procedure_text} "
             f"(Huber, delta = {law.huber_delta:g}, on log residuals). {law.__doc__.strip()}")
    if metrics["notes"]:
        rep.heading("Read this first")
        for note in metrics["notes"]:
            rep.text(note, css="warn")
    rep.heading("At a glance")
    for sentence in _verdict(metrics):
        rep.text(sentence)
    by_name = {s.name: s for s in series}
    ranked = [by_name[r["name"]] for r in metrics["ranking"]]
    for r, s in zip(metrics["ranking"], ranked):
        s.label = f"{r['rank']}. {s.name} ({'held-out' if s.role == 'heldout' else s.role})"
    rep.figure(overview_figure(ranked, level), "overview",
               "Every curve overlaid (legend: ranked by predicted final loss), zoomed on the end of training: the "
               "y-range is the spread of the final losses plus a margin. Below: logged minus predicted loss "
               "(% of the loss, the same axis for all curves), and the LR. Right: the whole run.")
    if any(s.smoothed is not None for s in series):
        rep.text(f"Noisy logs are drawn and quoted smoothed ({smoothing.METHOD}).")
    rep.heading("Ranking by predicted final loss, among runs of the same length")
    rep.table(_ranking_rows(metrics["ranking"], level_pct))
    if level:
        tie = tie_sentence(metrics["ranking"], level)
        rep.text(tie or "The law separates every curve from the best: each paired interval excludes 0.",
                 css="warn" if tie else "")
        rep.text("diff vs best: predicted final minus the best's; its paired interval comes from the bootstrap "
                 "refits, each predicting both curves, so the misfit they share cancels; separated: that interval "
                 "excludes 0 (in brackets: the share of refits in which the best is lower). Ranks count among "
                 f"the runs of the same length (last steps within {SAME_LENGTH:.0%}).")
    rep.figure(ranking_figure(metrics["ranking"], level, key="final_loss_pred", true_key="final_loss_logged",
                              missed_key="final_inside"), "ranking",
               "Predicted final losses with their intervals (diamonds: logged), and the paired differences to the best")
    rep.heading("Final losses per curve")
    rep.table([_final_row(r, level_pct) for r in metrics["curves"]])
    for key in ("fit", "heldout"):
        if metrics[key]:
            rep.text(f"Mean over {key} curves: " + ", ".join(f"{k} = {v:.5g}" for k, v in metrics[key].items()))
    with rep.details("All metrics per curve (R2, MAE, RMSE, PredE, WorstE, band coverage)"):
        rep.table(metrics["curves"], DETAIL_COLUMNS)
    if metrics["points_dropped_before_training"]:
        rep.text(f"Points logged before any LR area were left out: {metrics['points_dropped_before_training']}")
    rep.heading("Each curve, zoomed on its second half")
    if level:
        rep.text(f"Prediction intervals ({level:.0%}): {INTERVAL_METHOD}")
    rep.figure(small_multiples(series, level=level), "curves_zoomed",
               "Each curve's logged loss, the law's prediction and band; red title: final outside its interval")
    rep.heading("Parameters").table([{"parameter": k, "value": v} for k, v in law.params_.items()])
    with rep.details("Each curve over its whole run"):
        for s in series:  # the report makes the PNG name safe and distinct
            rep.figure(curve_figure(s), f"curve_{s.name}", f"{s.name} ({s.role})")
