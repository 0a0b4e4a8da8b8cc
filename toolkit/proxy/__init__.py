"""Small-transformer proxy: a pre-LN decoder (model.py), offline byte-level corpora (data.py), one
training loop with phases, schedules, eval and checkpoint/resume (train.py), configs (config.py).

    from cltk.proxy import load_config, train
    cfg = load_config("toolkit/configs/proxy/tiny_cpu.toml", ["phases.0.steps=100"])
    summary = train(cfg, "runs/tiny")          # writes runs/tiny/curves.csv, config.toml, env.json
"""
from cltk.proxy.config import DEFAULTS, ConfigError, apply_overrides, domains, dump_toml, load_config, resolve
from cltk.proxy.data import BUILTIN_DOMAINS, DataError, default_cache_dir
from cltk.proxy.model import GPT, ModelConfig
from cltk.proxy.train import CKPT, CURVES, CheckpointMismatchError, train

__all__ = ["BUILTIN_DOMAINS", "CKPT", "CURVES", "DEFAULTS", "GPT", "CheckpointMismatchError", "ConfigError",
           "DataError", "ModelConfig", "apply_overrides", "default_cache_dir", "domains", "dump_toml", "load_config",
           "resolve", "train"]
