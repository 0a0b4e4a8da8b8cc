"""Every command's report.html, made through the CLI at the smallest sizes it allows (about a minute
on 2 cores in all), for the screenshot tests and for ``python -m tests.reports.screenshots OUT``.

The inputs are made here too: the synthetic curves of the demo (a multi-power law with a known
truth), CPT laws with known parameters, and tiny proxy configs on a token cache of 2% of the
standard library. ``make_reports(root)`` returns {name: folder holding report.html}.

While the reports are drawn, every figure's text is read back after it is saved: text with TeX
markup that matplotlib did not typeset (``$\\mathdefault{10^{0}}$`` on a log axis when math parsing is
off) is listed per command in ``root/raw_tex.json``, since a screenshot cannot show it to a test."""
from __future__ import annotations

import contextlib
import json
import re
import resource
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from click.testing import CliRunner

from cltk.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
_RAW_TEX = re.compile(r"\$[^$]*\\[A-Za-z]+")  # $...\command...$: math markup shown as typed

PROXY = """
seed = 0
device = "cpu"
[model]
seq_len = 32
d_model = 32
n_layer = 1
n_head = 2
[data]
cache_dir = "{cache}"
stdlib_fraction = 0.02
[train]
batch_size = 8
eval_every = 5
eval_batches = 2
ckpt_every = 40
threads = 1
[[phases]]
name = "A"
steps = 20
mix = {{prose = 1.0}}
schedule = "cosine:peak=3e-3,steps=20,final=3e-4,warmup=2"
[[phases]]
name = "B"
steps = 20
mix = {{code = 1.0}}
replay = 0.1
schedule = "rewarm:start=3e-4,peak=3e-3,warmup=2,steps=20,final=3e-4"
"""

# the validate plan at its smallest: two fit schedules and one held out, three CPT fits and one held out
PLAN = """
name = "tiny"
proxy = "{proxy}"
set = ["model.d_model=32", "model.n_layer=1", "model.n_head=2", "model.seq_len=32", "train.batch_size=4",
       "train.eval_every=5", "train.eval_batches=2", "train.ckpt_every=40", "data.stdlib_fraction=0.02",
       "data.cache_dir={cache}", "train.threads=1"]
seeds = [0]
laws = ["multipower", "momentum"]
workers = 1
domain = "prose"

[schedules]
fit = ["warmup:peak=3e-3,steps=4 + constant:lr=3e-3,steps=36", "cosine:peak=3e-3,steps=40,final=3e-4,warmup=4"]
heldout = ["wsd:peak=3e-3,steps=40,decay=0.2,final=3e-4,warmup=4"]

[cpt]
old = "prose"
new = "code"
pretrain = "cosine:peak=3e-3,steps=20,final=3e-4,warmup=2"
steps = 20
fit = [{{peak = 3e-3, warmup = 2, replay = 0.0}}, {{peak = 1e-3, warmup = 2, replay = 0.0}},
       {{peak = 3e-3, warmup = 2, replay = 0.3}}]
heldout = [{{peak = 1e-3, warmup = 2, replay = 0.3}}]
"""

CPT_TRUTH = {"L0": 2.0, "A": 0.8, "C1": 3.0, "C2": 3.0, "B": 0.3, "alpha": 0.4, "lam": 0.995, "E": 0.5, "beta": 0.7,
             "rho": 2.0}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (proxy workers), all threads."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _cli(*args) -> None:
    r = CliRunner().invoke(cli, [str(a) for a in args])
    if r.exit_code != 0:
        raise RuntimeError(f"cltk {' '.join(map(str, args))} exited {r.exit_code}:\n{r.output}") from r.exception


def _curves(root: Path) -> dict[str, Path]:
    from cltk.analytics.curve_files import write_curve_csv
    from cltk.analytics.demo_curves import synthetic_curves

    paths = {}
    for name, c in synthetic_curves().items():
        paths[name] = root / "inputs" / f"{name}.csv"
        write_curve_csv(c, paths[name])
    return paths


def _cpt_laws(root: Path) -> list[Path]:
    from cltk.laws import CPTLaw

    paths = []
    for dom in ("old", "new"):
        law = CPTLaw(domain=dom)
        law.params_ = dict(CPT_TRUTH)
        law.fit_info_ = {}
        paths.append(root / "inputs" / f"cpt_law_{dom}.json")
        paths[-1].parent.mkdir(parents=True, exist_ok=True)
        paths[-1].write_text(law.to_json())
    return paths


def proxy_cache(cache: Path) -> Path:
    """The token cache of the proxy reports (2% of the stdlib, about a second to build)."""
    from cltk.proxy.data import load_domain

    for d in ("prose", "code"):
        load_domain(d, None, cache, stdlib_fraction=0.02)
    return cache


def make_reports(root: Path, cache: Path | None = None, log: Callable[[str], None] = lambda s: None) -> dict[str, Path]:
    """Run every command into ``root/<name>`` and return {name: folder}; figure text left as raw
    TeX goes to ``root/raw_tex.json``. ``cache``: a token cache folder to share (default ``root/cache``)."""
    root = Path(root)
    raw_tex: dict[str, list[str]] = {}
    current = ["inputs"]
    with _watch_figures(raw_tex, current):
        out = _make(root, cache, log, current)
    (root / "raw_tex.json").write_text(json.dumps({name: raw_tex.get(name, []) for name in out}, indent=1))
    return out


@contextlib.contextmanager
def _watch_figures(found: dict[str, list[str]], current: list[str]):
    """Wrap Report.figure: after each figure is saved, note its texts that hold untypeset TeX."""
    from matplotlib.text import Text

    from cltk.analytics.report import Report

    original = Report.figure

    def figure(self, fig, name, *args, **kwargs):
        done = original(self, fig, name, *args, **kwargs)  # saves the figure: tick labels now hold their text
        raw = sorted({t.get_text() for t in fig.findobj(Text)
                      if not t.get_parse_math() and _RAW_TEX.search(t.get_text())})
        if raw:
            found.setdefault(current[0], []).append(f"figure {name!r} shows raw TeX: {', '.join(raw[:3])}")
        return done

    with mock.patch.object(Report, "figure", figure):
        yield


def _make(root: Path, cache: Path | None, log, current: list[str]) -> dict[str, Path]:
    cache = proxy_cache(cache or root / "cache")
    c = _curves(root)
    out: dict[str, Path] = {}

    def run(name, *args):
        current[0] = name
        t0, c0 = time.perf_counter(), _cpu()
        _cli(*args, "--out", root / name)
        out[name] = root / name
        log(f"{name}: {time.perf_counter() - t0:.1f} s ({_cpu() - c0:.1f} s CPU)")

    run("fit-scaling", "fit-scaling", c["cosine"], c["constant"], c["twostage"],
        "--predict", c["wsd_sqrt"], c["linear"], c["wsd_exp"], "--warmup-steps", 500, "--intervals", 4)
    law = root / "fit-scaling" / "law.json"
    run("predict", "predict", law, "--schedule", "wsd=wsd:peak=3e-4,steps=12000,decay=0.2,final=3e-5,warmup=500",
        "--schedule", "cosine=cosine:peak=3e-4,steps=12000,final=3e-5,warmup=500",
        "--schedule", "constant=warmup:peak=3e-4,steps=500 + constant:lr=3e-4,steps=11500")
    for family in ("wsd", "free"):
        run(f"select-schedule-{family}", "select-schedule", law, "--steps", 12000, "--peak-lr", 3e-4, "--warmup", 500,
            "--family", family)
    old, new = _cpt_laws(root)
    run("select-cpt", "select-cpt", old, new, "--pretrain", "cosine:peak=1e-3,steps=3000,final=1e-4,warmup=100",
        "--steps", 2000, "--peaks", "3e-4,1e-3", "--warmups", "50,200", "--replays", "0,0.5")
    run("simulate-nqm", "simulate", "nqm", "--dim", 8, "--seeds", 64, "--batch-sizes", "1,4,16,64",
        "--optimizers", "sgd,momentum", "--momenta", "0.9", "--emas", "0.9")
    run("simulate-river-valley", "simulate", "river-valley", "--seeds", 8, "--every", 20)
    # 3 tasks over 12 blocks: a few blocks rehearse, so the kernels differ (fewer would rehearse none)
    run("simulate-rehearsal", "simulate", "rehearsal", "--tasks", 3, "--blocks", 12, "--block-steps", 2,
        "--seeds", 2, "--learner", "linear", "--learner", "mlp", "--test-per-task", 20)
    run("simulate-dln", "simulate", "dln", "modes", "--seeds", 1, "--singular-values", "2,1", "--lr", 2e-3,
        "--device", "cpu")
    cfg = root / "inputs" / "proxy.toml"
    cfg.write_text(PROXY.format(cache=cache.as_posix()))
    run("proxy-train", "proxy", "train", cfg, "--quiet")
    plan = root / "inputs" / "plan.toml"
    plan.write_text(PLAN.format(proxy=(ROOT / "toolkit" / "configs" / "proxy" / "tiny_cpu.toml").as_posix(),
                                cache=cache.as_posix()))
    run("validate", "validate", plan, "--quiet")
    current[0] = "demo"
    t0, c0 = time.perf_counter(), _cpu()
    out["demo"] = make_demo_index(root / "demo")
    log(f"demo: {time.perf_counter() - t0:.1f} s ({_cpu() - c0:.1f} s CPU)")
    return out


def make_demo_index(out_dir: Path) -> Path:
    """The demo index at test size: the real index writer over the fastest real section (the deep
    linear networks, a few seconds); the full ``cltk demo`` takes minutes."""
    from cltk.analytics.demo import SECTIONS, run_demo
    from cltk.analytics.result import write_result

    fast = [s for s in SECTIONS if s.folder == "dln"]
    write_result(run_demo(out_dir, sections=fast), out_dir)
    return Path(out_dir)
