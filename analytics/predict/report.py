"""The predict report: the verdict and the law's warnings first, then every predicted curve overlaid
and zoomed where the schedules differ (:func:`cltk.analytics.plots.overview_figure`), the comparison
table with paired differences against the best, the ranked finals with their intervals, the specs."""
from __future__ import annotations

from cltk.analytics.plots import Series, overview_figure, ranking_figure
from cltk.analytics.ranking import separation_cell, short, span, tie_sentence
from cltk.analytics.report import Report
from cltk.laws import LossLaw
from cltk.schedules import Schedule

#: notes that make the ranking itself unreliable (the verdict says so)
_UNRELIABLE = ("are guesses", "extrapolates in LR")


def write_report(rep: Report, law: LossLaw, schedules: dict[str, Schedule], rows: list[dict], curves: dict,
                 metrics: dict) -> None:
    params = ", ".join(f"{k}={v:.4g}" for k, v in law.params_.items())
    fitted_on = metrics["fit_curves"]
    level = metrics["interval_level"]
    rep.text(f"Law: {law.name} ({params})" + (f", fitted on {', '.join(fitted_on)}." if fitted_on else "."))
    best = rows[0]
    iv = f" ({level:.0%} interval {span(best['final_lo'], best['final_hi'])})" if best["final_lo"] is not None else ""
    rep.heading("Verdict").text(f"Lowest predicted final loss: {best['name']}, {best['final_loss']:.4f}{iv}.")
    if len(rows) > 1:
        second = rows[1]
        if second["diff_excludes_zero"] is None:
            rep.text(f"Next: {second['name']}, {second['diff_vs_best']:+.4f} (no replicates: no interval).")
        else:
            rep.text(f"Next: {second['name']}, {second['diff_vs_best']:+.4f} ({level:.0%} paired interval "
                     f"{span(second['diff_lo'], second['diff_hi'], signed=True)}): "
                     + ("the law separates them." if second["diff_excludes_zero"] else
                        "the law cannot separate them (the interval holds 0)."),
                     css="" if second["diff_excludes_zero"] else "warn")
    if any(k in n for n in metrics["notes"] for k in _UNRELIABLE):
        rep.text("This ranking rests on what the fit curves did not measure: read the warnings below before "
                 "using it.", css="warn")
    if metrics["notes"]:
        rep.heading("Warnings and notes")
        for note in metrics["notes"]:
            rep.text(note, css="warn" if any(k in note for k in _UNRELIABLE) or "bound" in note else "")
    series = [Series(r["name"], curves[r["name"]][0], curves[r["name"]][1], curves[r["name"]][2],
                     lrs=schedules[r["name"]].render(r["final_step"] + 1), label=f"{r['rank']}. {short(r['name'])}")
              for r in rows]
    rep.figure(overview_figure(series, level, title="predicted loss, zoomed where the schedules differ"),
               "predictions",
               "Every schedule's predicted loss overlaid (legend: ranked), zoomed on the end of training: the y-range "
               "is the spread of the final losses and their intervals plus a margin; below, the LR on the same "
               "steps; right, the whole run with the zoom outlined.")
    rep.heading("Comparison").table([_display(r, level) for r in rows])
    if level:
        tie = tie_sentence(rows, level)
        if tie:
            rep.text(tie, css="warn")
    rep.text("interval: the law's prediction interval of the final loss (bootstrap refits widened by the "
             "leave-one-curve-out error). diff vs best: the final loss minus the best schedule's, with the interval "
             "of the paired differences (each refit predicts both schedules, so their common misfit cancels); "
             "separated: that interval excludes 0 (in brackets: the share of refits in which the best is lower).")
    rep.figure(ranking_figure(rows, level), "ranking",
               "Predicted final losses with their intervals, and the paired differences to the best")
    rep.heading("Schedules").code("\n".join(f"{r['name']}: {r['spec']}" for r in rows))


def _display(r: dict, level) -> dict:
    """A comparison row as the report shows it: short numbers, intervals as one cell, no spec
    (a spec can be kilobytes long: the specs are listed below the table)."""
    pct = f"{level:.0%} " if level else ""
    return {"rank": r["rank"], "schedule": short(r["name"]), "final step": r["final_step"],
            "final loss": f"{r['final_loss']:.4f}", f"{pct}interval": span(r["final_lo"], r["final_hi"]),
            "diff vs best": f"{r['diff_vs_best']:+.4f}",
            "paired interval": span(r["diff_lo"], r["diff_hi"], signed=True),
            "separated?": separation_cell(r)}
