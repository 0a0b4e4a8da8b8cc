"""``cltk select-schedule``: choose an LR schedule with one fitted law, or compare the choices of
several laws fitted on the same curves."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import POSITIVE, FiniteFloat, MultiValueCommand, NumberList, OutDir
from cltk.errors import InputError
from cltk.laws import LAWS
from cltk.selection import FAMILIES, OBJECTIVES


class _Command(MultiValueCommand):
    """``--fit A B C`` takes several files, as fit-scaling's ``--predict`` does."""

    multi_value_options = ("--fit",)


def _labels(paths: list[Path], names: list[str]) -> list[str]:
    """A label per law: its name, or ``name (folder)`` where two files hold the same law."""
    return [n if names.count(n) == 1 else f"{n} ({p.parent.name or p.stem})" for p, n in zip(paths, names)]


def _export_path(value: Path | None, label: str | None) -> Path | None:
    """Where a law's chosen schedule goes: ``value`` itself for one law, else ``value`` with the
    law's key before the suffix (schedule.csv -> schedule-multipower.csv)."""
    if value is None or label is None:
        return value
    return value.with_name(f"{value.stem}-{label}{value.suffix}")


@click.command("select-schedule", cls=_Command)
@click.argument("law_files", nargs=-1, metavar="[LAW_FILE...]", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--steps", type=click.IntRange(min=2, max=10**7), required=True, help="Total training steps.")
@click.option("--peak-lr", type=POSITIVE, required=True, help="Peak learning rate.")
@click.option("--family", type=click.Choice(FAMILIES), default="wsd", show_default=True,
              help="Schedule family: wsd grid, cosine grid, or free (optimised non-increasing).")
@click.option("--warmup", type=click.IntRange(min=0), default=0, show_default=True, help="Linear warmup steps.")
@click.option("--objective", type=click.Choice(OBJECTIVES), default="final", show_default=True,
              help="final: loss at the last step; anytime: mean loss over --checkpoints.")
@click.option("--checkpoints", type=NumberList(int, min=1), default=None,
              help="Comma-separated steps for --objective anytime "
              "(default: 25/50/75/100% of the post-warmup steps).")
@click.option("--level", type=FiniteFloat(min=0.5, max=0.999), default=0.9, show_default=True,
              help="Interval level (needs laws with bootstrap replicates).")
@click.option("--fit", "fit_files", multiple=True, metavar="FILE...", type=click.Path(path_type=Path),
              help="Fit the --law laws on these curve files here, instead of reading law files.")
@click.option("--law", "law_names", multiple=True, type=click.Choice(list(LAWS)),
              help="With --fit: a law to fit and compare (repeatable) [default: multipower and momentum].")
@click.option("--fit-warmup-steps", type=click.IntRange(min=0), default=None,
              help="With --fit: linear warmup from 0 before the first logged LR ends at this step.")
@click.option("--intervals", "n_boot", type=click.IntRange(min=0, max=1000), default=32, show_default=True,
              help="With --fit: bootstrap refits per law for intervals (0: none).")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0, show_default=True,
              help="Seed of what is random: with --fit, each law's Sobol screening and bootstrap (the default "
                   "reproduces fit-scaling's); law files are used as fitted and the selection is deterministic.")
@click.option("--export-schedule", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.csv|FILE.npy",
              help="Also write the chosen schedule's LR for every step (CSV step,lr or NumPy array); with "
                   "several laws one file each, the law's name before the suffix.")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (metrics.json, selection.json or comparison.json, candidates.csv, "
                   "curves.csv, PNG, report.html).")
def select_schedule(law_files, steps, peak_lr, family, warmup, objective, checkpoints, level, fit_files, law_names,
                    fit_warmup_steps, n_boot, seed, export_schedule, out_dir):
    """Choose the schedule of a family that minimises a fitted law's predicted loss.

    LAW_FILE is a law.json written by `cltk fit-scaling`; several compare their choices (each law
    judges every choice). Or fit the laws here: --fit FILE... [--law NAME ...].
    """
    if steps <= warmup + 1:
        raise click.BadParameter(f"{steps} must exceed --warmup {warmup} by more than one step", param_hint="--steps")
    if checkpoints and max(checkpoints) > steps:
        raise click.BadParameter(f"checkpoint {max(checkpoints)} is beyond the {steps} steps",
                                 param_hint="--checkpoints")
    if bool(law_files) == bool(fit_files):
        raise click.UsageError("give LAW_FILE... or --fit FILE..., one of the two")
    if not fit_files and (law_names or fit_warmup_steps is not None):
        raise click.BadParameter("--law and --fit-warmup-steps go with --fit", param_hint="--law")
    if n_boot == 1:
        raise click.BadParameter("one refit gives no interval: use 0 (none) or at least 2", param_hint="--intervals")
    if export_schedule is not None and export_schedule.suffix.lower() not in (".csv", ".npy"):
        raise click.BadParameter(f"'{export_schedule}' must end in .csv or .npy", param_hint="--export-schedule")
    if export_schedule is not None and (export_schedule.is_dir() or not export_schedule.absolute().parent.is_dir()):
        raise click.BadParameter(f"'{export_schedule}' is a folder or its folder does not exist",
                                 param_hint="--export-schedule")
    from cltk.analytics.output_folder import check_out_dir
    from cltk.analytics.result import write_result

    inputs = list(law_files) + list(fit_files)
    check_out_dir(out_dir, inputs)
    if export_schedule is not None and out_dir.resolve() in export_schedule.resolve().parents:
        raise click.BadParameter(f"'{export_schedule}' lies inside --out, which the run replaces",
                                 param_hint="--export-schedule")
    laws, fit_curves = _laws(law_files, fit_files, law_names, fit_warmup_steps, n_boot, seed)
    kw = {"total_steps": steps, "peak_lr": peak_lr, "family": family, "warmup": warmup, "objective": objective,
          "checkpoints": list(checkpoints) if checkpoints else None, "level": level, "fit_curves": fit_curves,
          "seed": seed}
    if len(laws) == 1:
        from cltk.analytics.select_schedule.job import run_select_schedule

        result = run_select_schedule(next(iter(laws.values())), **kw)
        chosen = {None: result.details["selection"]}
    else:
        from cltk.analytics.select_schedule.compare import law_keys, run_compare_laws

        result = run_compare_laws(laws, **kw)
        keys = law_keys(list(laws))
        chosen = {keys[w]: c["selection"] for w, c in result.details["chosen"].items()}
    write_result(result, out_dir, inputs=inputs)
    exported = []
    if export_schedule is not None:
        from cltk.schedule_export import write_schedule

        for key, sel in chosen.items():
            exported.append(write_schedule(sel.schedule, _export_path(export_schedule, key), steps=steps))
    _print(result, len(laws), family, objective, out_dir, exported)


def _laws(law_files, fit_files, law_names, fit_warmup_steps, n_boot, seed) -> tuple[dict, list | None]:
    """The laws to choose with (label -> fitted law) and, when fitted here, the curves they were
    fitted on (so every caveat of the fit can be checked)."""
    from cltk.laws import get_law, read_law

    if law_files:
        if len(set(map(str, law_files))) < len(law_files):
            raise InputError(f"{law_files[0]}: the same law file is given twice")
        read = [read_law(p) for p in law_files]
        return dict(zip(_labels(list(law_files), [law.name for law in read]), read)), None
    from rich.console import Console

    from cltk.analytics.curve_files import read_curve, unique_names

    curves = unique_names([read_curve(p, warmup_steps=fit_warmup_steps) for p in fit_files])
    names = list(dict.fromkeys(law_names or ("multipower", "momentum")))
    laws = {}
    with Console(stderr=True).status("fitting") as status:
        for name in names:
            status.update(f"fitting the {name} law on {len(curves)} curve(s)")
            law = get_law(name, seed=seed).fit(curves, progress=lambda m, n=name: status.update(f"{n}: {m}"))
            if n_boot:
                law.bootstrap(curves, n=n_boot, seed=seed, progress=lambda m, n=name: status.update(f"{n}: {m}"))
            laws[name] = law
    return laws, curves


def _print(result, n_laws: int, family: str, objective: str, out_dir: Path, exported: list) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    m = result.metrics
    if n_laws == 1:
        from cltk.analytics.select_schedule.job import short_spec

        console.print(f"chosen ({family}, {objective}): {short_spec(m['chosen_spec'])}", highlight=False)
        iv = f"  [{m['chosen_final_lo']:.4f}, {m['chosen_final_hi']:.4f}]" if m["chosen_final_lo"] is not None else ""
        console.print(f"predicted final loss {m['chosen_final_loss']:.4f}{iv}   "
                      f"cosine to 10%: {m['baseline_cosine_to_10pct_final_loss']:.4f}   "
                      f"WSD 20% linear: {m['baseline_wsd_20pct_linear_final_loss']:.4f}", highlight=False)
        for line in result.details["comparisons"][:1]:
            console.print(line, highlight=False)
        notes = {m["law"]: result.details["notes"]}
        tail = f"{m['n_candidates']} candidates in {m['selection_seconds']:.2f} s; "
    else:
        t = Table(title=f"{n_laws} laws, {family} family, {objective} objective")
        for col in ("law", "recommended", "predicted final", "interval"):
            t.add_column(col, justify="right" if col.startswith(("predicted", "interval")) else "left")
        for r in result.details["table"]:
            t.add_row(r["law"], r["recommended"], f"{r['predicted final']:.4f}", r["interval"])
        console.print(t)
        for line in result.details["sentences"]:
            console.print(line, highlight=False)
        notes = {w: c["notes"] for w, c in result.details["chosen"].items()}
        tail = ""
    for who, lines in notes.items():
        for note in lines:
            console.print(f"warning ({who}): {note}", highlight=False)
    for path in exported:
        console.print(f"wrote the chosen schedule per step to {path}", highlight=False)
    console.print(f"{tail}wrote {out_dir / 'report.html'}", highlight=False)
