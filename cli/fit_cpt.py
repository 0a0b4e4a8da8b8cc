"""``cltk fit-cpt``: fit the continual-pre-training law (Wang et al. 2025) per domain on your own
two-phase logs, predict held-out continual runs, and write the law files `cltk select-cpt` reads."""
from __future__ import annotations

import math
from pathlib import Path

import click

from cltk.cli.options import MultiValueCommand, OutDir
from cltk.errors import InputError


def _per_file(items: tuple[str, ...], files: list[str], option: str, convert) -> tuple[object, dict[str, object]]:
    """``[FILE=]VALUE`` items: the value for every continual log (a bare VALUE, once) and per file."""
    default, per = None, {}
    for item in items:
        match = max((f for f in files if item.startswith(f + "=")), key=len, default=None)
        text = item[len(match) + 1:] if match else item
        if match is None and "=" in item:
            raise click.BadParameter(f"'{item}': '{item.partition('=')[0]}' is not one of the continual logs",
                                     param_hint=option)
        value = convert(text.strip(), item)
        if match is None:
            if default is not None:
                raise click.BadParameter(f"a value for every log is given twice ('{item}')", param_hint=option)
            default = value
        elif match in per:
            raise click.BadParameter(f"{match} is given twice", param_hint=option)
        else:
            per[match] = value
    return default, per


def _number(kind, lo: float, hi: float | None, option: str):
    def convert(text: str, item: str):
        try:
            v = float(text)
        except ValueError:
            raise click.BadParameter(f"'{item}': '{text}' is not a number", param_hint=option) from None
        if not (math.isfinite(v) and v >= lo and (hi is None or v <= hi)) or (kind is int and v != int(v)):
            want = f"a whole number >= {lo:g}" if kind is int else f"a share in [{lo:g}, {hi:g}]"
            raise click.BadParameter(f"'{item}': expected {want}", param_hint=option)
        return kind(v)
    return convert


class _Command(MultiValueCommand):
    """``--predict A B`` takes several logs, as in ``cltk fit-scaling``."""

    multi_value_options = ("--predict",)


@click.command("fit-cpt", cls=_Command)
@click.argument("cpt_files", nargs=-1, required=True, metavar="CPT_LOG...")
@click.option("--pretrain", "pretrain_file", default=None, metavar="LOG",
              help="The pre-training run's log (its LR history and losses); without it each continual log must "
                   "hold the whole run, pre-training rows included.")
@click.option("--predict", "predict_files", multiple=True, metavar="LOG...",
              help="Held-out continual logs to predict (several may follow one --predict).")
@click.option("--old-loss-col", default=None, metavar="COL",
              help="Column of the loss on the old (pre-training) domain's validation set.")
@click.option("--new-loss-col", default=None, metavar="COL",
              help="Column of the loss on the new (continual) domain's validation set.")
@click.option("--step-col", default=None, help="Step column name (default: step/_step/iter/...).")
@click.option("--lr-col", default=None, help="LR column name (default: lr/learning_rate/train/lr/...).")
@click.option("--pretrain-steps", type=click.IntRange(min=1), default=None,
              help="Length of the pre-training run (its last update), when its log stops before it (a log "
                   "written every N steps); default: the log's last step, with a note.")
@click.option("--switch-step", "switch_steps", multiple=True, metavar="[LOG=]N",
              help="Step, in a continual log's own count, of its first continual update: N for every log, "
                   "LOG=N for one (repeatable). Default with --pretrain: the step after the pre-training log's "
                   "last (the count continues); 1 if the count restarts at the switch.")
@click.option("--replay", "replays", multiple=True, metavar="[LOG=]R",
              help="Share of old-domain data in the continual batches, in [0, 1]: R for every log, LOG=R for "
                   "one (repeatable) [default: 0].")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (metrics.json, cpt_law_old.json, cpt_law_new.json, predictions.csv, PNG, "
                   "report.html).")
def fit_cpt(cpt_files, pretrain_file, pretrain_steps, predict_files, old_loss_col, new_loss_col, step_col, lr_col,
            switch_steps, replays, out_dir):
    """Fit the continual-pre-training law per domain on CPT_LOG... and predict the --predict logs.

    Each log is a CSV, JSONL, W&B export or TensorBoard log with a step, an LR and the loss on the
    old and/or the new domain's validation set. The law files it writes feed `cltk select-cpt`.
    """
    cols = {d: c for d, c in (("old", old_loss_col), ("new", new_loss_col)) if c is not None}
    if not cols:
        raise click.UsageError("name the loss column of at least one domain: --old-loss-col and/or --new-loss-col")
    logs = list(cpt_files) + list(predict_files)
    inputs = logs + ([pretrain_file] if pretrain_file else [])
    overlap = set(cpt_files) & set(predict_files)
    if overlap:
        raise InputError(f"{min(overlap)}: given both as a fit log and with --predict")
    if pretrain_steps is not None and pretrain_file is None:
        raise click.BadParameter("needs the pre-training log (--pretrain)", param_hint="--pretrain-steps")
    if pretrain_file in logs:
        raise InputError(f"{pretrain_file}: given both as the pre-training log and as a continual log")
    if len(set(logs)) < len(logs):
        raise InputError(f"{next(f for f in logs if logs.count(f) > 1)}: given twice")
    switch, switch_per = _per_file(switch_steps, logs, "--switch-step", _number(int, 1, None, "--switch-step"))
    replay, replay_per = _per_file(replays, logs, "--replay", _number(float, 0, 1, "--replay"))
    if pretrain_file is None and switch is None and len(switch_per) < len(logs):
        missing = next(f for f in logs if f not in switch_per)
        raise click.BadParameter(f"{missing}: no switch step; give it, or the pre-training log with --pretrain",
                                 param_hint="--switch-step")
    from cltk.analytics.output_folder import check_out_dir

    check_out_dir(out_dir, inputs)  # before any reading: an input inside --out would be replaced
    from cltk.analytics.curve_files import read_curve, unique_names
    from cltk.analytics.fit_cpt.job import run_fit_cpt
    from cltk.analytics.fit_cpt.runs import CPTLog
    from cltk.analytics.result import write_result

    def read(path, col):
        return read_curve(path, step_col=step_col, lr_col=lr_col, loss_col=col)

    per_dom = {d: unique_names([read(p, c) for p in logs]) for d, c in cols.items()}
    runs = [CPTLog(name=per_dom[next(iter(cols))][i].name, source=p, logs={d: per_dom[d][i] for d in cols},
                   switch=switch_per.get(p, switch), replay=replay_per.get(p, replay if replay is not None else 0.0))
            for i, p in enumerate(logs)]
    pretrain = _read_pretrain(pretrain_file, cols, read) if pretrain_file else None
    from rich.console import Console

    with Console(stderr=True).status(f"fitting the CPT law on {len(cpt_files)} continual run(s)") as status:
        result = run_fit_cpt(runs[: len(cpt_files)], runs[len(cpt_files):], pretrain=pretrain,
                             pretrain_steps=pretrain_steps, progress=lambda msg: status.update(f"cpt law, {msg}"))
    write_result(result, out_dir, inputs=inputs)
    _print(result.metrics, out_dir)


def _read_pretrain(path: str, cols: dict[str, str], read) -> dict:
    """The pre-training log's curve per domain whose column it holds (it may not have evaluated the
    new domain); holding neither is an error."""
    out, missing = {}, []
    for d, col in cols.items():
        try:
            out[d] = read(path, col)
        except InputError as e:  # only an absent or empty column is allowed here; anything else is bad input
            if f"no column '{col}'" not in str(e) and f"column '{col}' has no values" not in str(e):
                raise
            missing.append(col)
    if not out:
        raise InputError(f"{path}: holds none of the loss columns {', '.join(missing)} (the pre-training log needs "
                         "at least one)")
    return out


def _print(metrics: dict, out_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="CPT law per domain")
    for col in ("domain", "curve", "role", "R2", "PredE", "final true", "final pred"):
        t.add_column(col, justify="left" if col in ("domain", "curve", "role") else "right")
    for r in metrics["curves"]:
        t.add_row(r["domain"], r["name"], r["role"], f"{r['r2']:.4f}", f"{r['pred_e']:.5f}",
                  f"{r['final_loss_true']:.4f}", f"{r['final_loss_pred']:.4f}")
    console = Console(width=110)
    console.print(t)
    for d, law in metrics["laws"].items():
        p = law["params"]
        console.print(f"{d}: " + " ".join(f"{k}={v:.4g}" for k, v in p.items()), highlight=False)
    for note in metrics["notes"]:
        console.print(f"note: {note}", highlight=False)
    files = " ".join(str(out_dir / law["file"]) for law in metrics["laws"].values())
    console.print(f"law files: {files}", highlight=False)
    if len(metrics["laws"]) == 2:
        console.print(f"choose a setting: cltk select-cpt {files} --pretrain SPEC --steps N --peaks ... "
                      f"--replays ...", highlight=False)
    console.print(f"wrote {out_dir / 'report.html'}", highlight=False)
