"""``cltk fit-scaling``: fit a loss-curve law on training curves and predict held-out curves."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.analytics.output_folder import check_out_dir
from cltk.cli.options import FiniteFloat, MultiValueCommand, OutDir
from cltk.errors import InputError
from cltk.laws import DEFAULT_LAW, LAWS
from cltk.schedules import parse


class _Command(MultiValueCommand):
    """Lets ``--predict A B C`` take several files, as the documented usage reads."""

    multi_value_options = ("--predict",)


def _schedules(specs: tuple[str, ...], files: list[str]) -> dict[str, object]:
    out = {}
    for item in specs:
        match = next((f for f in files if item.startswith(f + "=")), None)
        if match is None:
            raise InputError(f"--schedule '{item}': expected FILE=SPEC with FILE one of the given curve files")
        out[match] = parse(item[len(match) + 1:])
    return out


@click.command("fit-scaling", cls=_Command)
@click.argument("fit_files", nargs=-1, required=True, metavar="FIT_FILE...")
@click.option("--predict", "predict_files", multiple=True, metavar="FILE...",
              help="Held-out curve files to predict (several may follow one --predict).")
@click.option("--law", type=click.Choice(list(LAWS)), default=None,
              help=f"Loss-curve law to fit [default: {DEFAULT_LAW}; multipower with --procedure paper, the one "
                   "law that offers it].")
@click.option("--procedure", type=click.Choice(sorted({p for law in LAWS.values() for p in law.procedures})),
              default="converged", show_default=True,
              help="Fitting procedure: 'converged' (robust least squares to the optimum) or 'paper' "
                   "(multipower only: Luo et al.'s released early-stopped AdamW fit, which reproduces "
                   "the paper's reported errors).")
@click.option("--warmup-steps", type=click.IntRange(min=0), default=None,
              help="Linear warmup from 0 before the first logged LR ends at this step "
                   "(default: at the first logged step).")
@click.option("--schedule", "schedules", multiple=True, metavar="FILE=SPEC",
              help="Give FILE's LR history as a schedule spec instead of its lr column.")
@click.option("--loss", "loss_kind", type=click.Choice(["train", "val"]), default="train", show_default=True,
              help="Which loss to read from logs that hold both (training or validation loss).")
@click.option("--step-col", default=None, help="Step column name (default: found by the log's layout, "
                                               "docs/log-formats.md).")
@click.option("--lr-col", default=None, help="LR column name (default: found by the log's layout).")
@click.option("--loss-col", default=None, help="Loss column name (default: the layout's loss chosen by --loss).")
@click.option("--intervals", "n_boot", type=click.IntRange(min=0), default=32, show_default=True,
              help="Bootstrap refits for prediction intervals (0: none).")
@click.option("--level", type=FiniteFloat(min=0.5, max=0.999), default=0.9, show_default=True,
              help="Prediction-interval level.")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0, show_default=True,
              help="Seed of the law's search and of the bootstrap resampling.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (metrics.json, law.json, predictions.csv, PNGs, report.html).")
def fit_scaling(fit_files, predict_files, law, procedure, warmup_steps, schedules, loss_kind, step_col, lr_col,
                loss_col, n_boot, level, seed, quiet, out_dir):
    """Fit a loss-curve law jointly on FIT_FILE... and predict the --predict curves.

    Files: logs as W&B, Hugging Face, Lightning, litgpt, OLMo-core, torchtitan or nanoGPT write them,
    or CSV/JSONL/TensorBoard with step, lr and loss (docs/log-formats.md); a W&B panel export gives
    one curve per run.
    """
    if law is not None and procedure not in LAWS[law].procedures:  # before any file is read
        raise click.BadParameter(f"the {law} law offers {', '.join(LAWS[law].procedures)}, not '{procedure}'",
                                 param_hint="--procedure")
    if law is None:
        # the default law, unless it lacks the procedure asked for (only multipower offers "paper")
        law = DEFAULT_LAW if procedure in LAWS[DEFAULT_LAW].procedures else \
            next(n for n, cls in LAWS.items() if procedure in cls.procedures)
    inputs = list(fit_files) + list(predict_files)
    overlap = set(fit_files) & set(predict_files)
    if overlap:
        raise InputError(f"{min(overlap)}: given both as a fit file and with --predict")
    if n_boot == 1:
        raise click.BadParameter("one refit gives no interval: use 0 (none) or at least 2", param_hint="--intervals")
    check_out_dir(out_dir, inputs)  # before any reading: an input inside --out would be replaced
    scheds = _schedules(schedules, inputs)
    from rich.console import Console

    from cltk.analytics.curve_files import read_runs, unique_names
    from cltk.analytics.fit_scaling.job import run_fit_scaling
    from cltk.analytics.result import write_result

    console = Console(stderr=True, highlight=False)
    per_file = read_runs(inputs, loss=loss_kind, step_col=step_col, lr_col=lr_col, loss_col=loss_col,
                         warmup_steps=warmup_steps, schedules=scheds)
    for p, curves in zip(inputs, per_file):
        for c in curves:
            console.print(read_line(p, c), markup=False, soft_wrap=True)
    n_fit = sum(len(cs) for cs in per_file[: len(fit_files)])
    curves = unique_names([c for cs in per_file for c in cs])
    fit, held = curves[:n_fit], curves[n_fit:]
    from cltk.cli.progress import JobProgress

    with JobProgress(quiet, console) as progress:
        progress(f"fitting the {law} law on {len(fit)} curve(s)")
        result = run_fit_scaling(fit, held, law=law, procedure=procedure, n_boot=n_boot, level=level, seed=seed,
                                 progress=progress)
    write_result(result, out_dir, inputs=inputs)
    _print(result.metrics, out_dir)


def read_line(path: str, curve) -> str:
    """One line saying what was read from a log: its layout, run and columns."""
    m = curve.meta
    run = f' run "{m["run"]}"' if "run" in m else ""
    cols = m.get("columns", {})
    lr = f"schedule {m['schedule']}" if "schedule" in m else cols.get("lr")
    if "lr_source" in m:
        lr = f"{m['lr_source']}: {lr}"
    return (f"read {path} [{m.get('format', '?')}]{run}: step={cols.get('step')} loss={cols.get('loss')} "
            f"({m.get('loss_kind', 'train')}) lr={lr}")


def _print(metrics: dict, out_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{metrics['law']} law, fitted in {metrics['fit_seconds']:.2f} s")
    iv = metrics["interval"] is not None
    for col in ("curve", "role", "R2", "PredE", "WorstE", "final true", "final pred") + (
            (f"{metrics['interval']['level']:.0%} interval",) if iv else ()):
        t.add_column(col, justify="left" if col in ("curve", "role") else "right")
    for r in metrics["curves"]:
        t.add_row(r["name"], r["role"], f"{r['r2']:.4f}", f"{r['pred_e']:.5f}", f"{r['worst_e']:.5f}",
                  f"{r['final_loss_true']:.4f}", f"{r['final_loss_pred']:.4f}",
                  *([f"[{r['final_lo']:.4f}, {r['final_hi']:.4f}]"] if iv else []))
    console = Console(width=110)
    console.print(t)
    if metrics["heldout"]:
        h = metrics["heldout"]
        console.print(f"held-out mean: R2 {h['r2']:.4f}  PredE {h['pred_e']:.5f}  WorstE {h['worst_e']:.5f}  "
                      f"MAE {h['mae']:.5f}  RMSE {h['rmse']:.5f}")
        if iv:
            console.print(f"held-out inside the interval: final loss {h['interval_final_coverage']:.0%}, "
                          f"curve points {h['interval_band_coverage']:.0%}")
    for note in metrics.get("notes", []):
        console.print(f"note: {note}", highlight=False)
    console.print(f"wrote {out_dir / 'report.html'}")
