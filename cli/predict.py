"""``cltk predict``: a fitted law's predicted loss curves for schedules, ranked."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import FiniteFloat, OutDir, ScheduleSpec


class NamedSchedule(click.ParamType):
    """``NAME=SPEC`` or a bare ``SPEC`` (named by itself), converted to ``(name, Schedule)``. A spec's
    own ``=`` signs come after its ``name:``, so a ``NAME`` is text before the first ``=`` that
    holds no ``:``."""

    name = "[NAME=]SPEC"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        head, eq, tail = text.partition("=")
        if eq and ":" not in head and head.strip():
            return head.strip(), ScheduleSpec().convert(tail, param, ctx)
        return text, ScheduleSpec().convert(text, param, ctx)


class StepList(click.ParamType):
    """Steps as a comma-separated list whose items are ``N`` or ``A:B:S`` (A, A+S, ... up to B)."""

    name = "steps"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        out = []
        for item in filter(None, (v.strip() for v in str(value).split(","))):
            try:
                parts = [int(float(p)) for p in item.split(":")]
                ok = all(float(p) == int(float(p)) for p in item.split(":"))
            except (ValueError, OverflowError):  # "x", "inf"
                ok, parts = False, []
            if not ok or len(parts) not in (1, 3) or (len(parts) == 3 and parts[2] < 1):
                self.fail(f"'{item}' is not a step N or a range A:B:S (S >= 1)", param, ctx)
            if max(parts[:2]) > 10**7:
                self.fail(f"'{item}': steps beyond 10^7 (the most optimizer steps a run may have)", param, ctx)
            if len(parts) == 3 and (parts[1] - parts[0]) // parts[2] + 1 > 1_000_000:  # before expanding it
                self.fail(f"'{item}' holds more than 10^6 steps", param, ctx)
            out += parts if len(parts) == 1 else list(range(parts[0], parts[1] + 1, parts[2]))
        if not out:
            self.fail(f"no steps in '{value}'", param, ctx)
        if min(out) < 1:
            self.fail(f"steps must be >= 1, got {min(out)}", param, ctx)
        if len(out) > 1_000_000:
            self.fail(f"{len(out)} steps: at most 10^6", param, ctx)
        return tuple(sorted(set(out)))


@click.command("predict")
@click.argument("law_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--schedule", "schedules", multiple=True, required=True, metavar="[NAME=]SPEC", type=NamedSchedule(),
              help="Schedule to predict (repeatable): a spec as in docs/schedules.md, optionally named, "
                   "e.g. 'wsd20=wsd:peak=3e-4,steps=24000,decay=0.2,warmup=2160'.")
@click.option("--steps", type=StepList(), default=None, metavar="STEPS",
              help="Steps to predict at, e.g. '2176:23904:128' or '1000,5000,23999' (default: 512 steps spread "
                   "over each schedule); the final loss is the prediction at the last of them.")
@click.option("--cpt-start", type=click.IntRange(min=1), default=None,
              help="For a continual-pre-training (cpt) law: the first step of the continual phase.")
@click.option("--replay", type=FiniteFloat(min=0, max=1), default=0.0, show_default=True,
              help="For a cpt law: share of old-domain data in the continual phase's batches.")
@click.option("--level", type=FiniteFloat(min=0.5, max=0.999), default=0.9, show_default=True,
              help="Interval level (needs a law file with bootstrap replicates).")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (metrics.json, comparison.csv, predictions.csv, PNG, report.html).")
def predict(law_file, schedules, steps, cpt_start, replay, level, out_dir):
    """Predict the loss curves of LR schedules with a fitted law, and rank them.

    LAW_FILE is the law.json written by `cltk fit-scaling` (or a cpt_law_*.json of `cltk fit-cpt` or
    `cltk validate`, with --cpt-start).
    """
    named = dict(schedules)
    if len(named) < len(schedules):
        dup = next(n for i, (n, _) in enumerate(schedules) if n in [m for m, _ in schedules[:i]])
        raise click.BadParameter(f"the name '{dup}' is given twice", param_hint="--schedule")
    for name, s in named.items():
        if steps is None and s.steps is None:
            raise click.BadParameter(f"'{name}' has no length: give --steps", param_hint="--schedule")
        if steps is not None and s.steps is not None and steps[-1] >= s.steps:
            raise click.BadParameter(f"step {steps[-1]} is beyond '{name}' ({s.steps} steps)", param_hint="--steps")
    from cltk.analytics.output_folder import check_out_dir
    from cltk.analytics.result import write_result

    check_out_dir(out_dir, [law_file])
    from cltk.analytics.predict.job import fit_notes_beside, run_predict
    from cltk.laws import read_law

    law = read_law(law_file)
    if (law.name == "cpt") != (cpt_start is not None):
        raise click.BadParameter("needed for a cpt law and only for one" if cpt_start is None else
                                 f"given, but {law_file} holds a '{law.name}' law", param_hint="--cpt-start")
    result = run_predict(law, named, steps=steps, level=level, fit_notes=fit_notes_beside(law_file, law),
                         cpt_start=cpt_start, replay=replay)
    write_result(result, out_dir, inputs=[law_file])
    m = result.metrics
    width = max(len(r["name"]) for r in m["schedules"])
    for r in m["schedules"]:
        line = f"{r['rank']:>2}. {r['name']:<{width}}  final loss {r['final_loss']:.4f} (step {r['final_step']})"
        if r["final_lo"] is not None:
            line += f"  [{r['final_lo']:.4f}, {r['final_hi']:.4f}]"
        if r["rank"] > 1:
            line += f"  {r['diff_vs_best']:+.4f} vs best"
            if r["diff_lo"] is not None:
                line += (f" [{r['diff_lo']:+.4f}, {r['diff_hi']:+.4f}]"
                         + ("" if r["diff_excludes_zero"] else ": not separable"))
        click.echo(line)
    for note in m["notes"]:
        click.echo(f"note: {note}")
    click.echo(f"wrote {out_dir / 'report.html'}")
