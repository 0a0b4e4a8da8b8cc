"""Helpers the proxy test modules import (no tests here): a tiny config and a token cache built
once per session under pytest's base temp dir."""
from __future__ import annotations

from pathlib import Path

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


def write_tiny(path: Path, cache: Path, n1: int = 30, n2: int = 30, replay: float = 0.0) -> Path:
    path.write_text(TINY.format(cache=cache.as_posix(), n1=n1, n2=n2, replay=replay))
    return path


def proxy_cache_dir(tmp_path_factory) -> Path:
    """A token cache shared by every proxy test of the session (2% of the stdlib, ~1 s to build);
    a fixed folder under the session's base temp dir, so modules importing this fixture share it."""
    from toolkit.proxy.data import load_domain

    cache = tmp_path_factory.getbasetemp() / "proxy-cache"
    for d in ("prose", "code"):
        load_domain(d, None, cache, stdlib_fraction=0.02)
    return cache
