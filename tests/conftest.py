"""Fixtures shared by the test packages: the real curve sets of ../shared and a tiny proxy setup."""
import json
from pathlib import Path

import pytest

from cltk.analytics.protocols import MPL_25M

# the real curve sets beside the checkout (../shared/data/loss-curves), read in place, never copied
SHARED_CURVES = Path(__file__).resolve().parents[2] / "shared" / "data" / "loss-curves" / MPL_25M.folder


@pytest.fixture
def mpl25m():
    """The real 25M-model curves of Luo et al. (read from ../shared, never copied)."""
    if not (SHARED_CURVES / "cosine_24000.csv").exists():
        pytest.skip(f"real curves not found at {SHARED_CURVES} (../shared/data is absent)")
    return SHARED_CURVES


# --- proxy: a tiny two-phase config and a token cache built once per session -------------------

TINY = """
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
eval_every = 10
eval_batches = 2
ckpt_every = 20
threads = 1
[[phases]]
name = "A"
steps = {n1}
mix = {{prose = 1.0}}
schedule = "cosine:peak=3e-3,steps={n1},final=3e-4,warmup=5"
[[phases]]
name = "B"
steps = {n2}
mix = {{code = 1.0}}
replay = {replay}
schedule = "rewarm:start=3e-4,peak=3e-3,warmup=5,steps={n2},final=3e-4"
"""


def _write_tiny(path: Path, cache: Path, n1: int = 30, n2: int = 30, replay: float = 0.0) -> Path:
    path.write_text(TINY.format(cache=cache.as_posix(), n1=n1, n2=n2, replay=replay))
    return path


@pytest.fixture(scope="session")
def proxy_cache(tmp_path_factory) -> Path:
    """A token cache shared by every proxy test of the session (2% of the stdlib, ~1 s to build);
    a fixed folder under the session's base temp dir, so modules importing this fixture share it."""
    from cltk.proxy.data import load_domain

    cache = tmp_path_factory.getbasetemp() / "proxy-cache"
    for d in ("prose", "code"):
        load_domain(d, None, cache, stdlib_fraction=0.02)
    return cache


@pytest.fixture
def write_tiny():
    """``write_tiny(path, cache, n1=30, n2=30, replay=0.0)`` writes the tiny config to ``path``."""
    return _write_tiny


# --- command tests: one-line bad-flag errors, folders written by write_result ------------------------
GENERATOR = "<meta name='generator' content='cltk write_result'>"


def _bad_flag(r, needle):
    """Exit code 2 and one error line naming the problem: click's 'Error: ...' for a flag value, the
    CLI's 'error: ...' for bad input found below it."""
    assert r.exit_code == 2, r.output
    errors = [ln for ln in r.output.splitlines() if ln.lower().startswith("error:")]
    assert len(errors) == 1 and needle in errors[0] and "Traceback" not in r.output, r.output


def _written(out):
    """The folder was written by write_result (report.html carries its mark); returns metrics.json."""
    assert GENERATOR in (out / "report.html").read_text()
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture
def bad_flag():
    """``bad_flag(result, needle)``: a CliRunner result exited 2 with one error line containing needle."""
    return _bad_flag


@pytest.fixture
def written():
    """``written(out_dir)`` -> metrics.json of a folder written by write_result."""
    return _written
