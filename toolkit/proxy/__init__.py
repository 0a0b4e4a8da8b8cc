"""Small-transformer proxy: a pre-LN decoder (model.py), offline byte-level corpora (data.py), one
training loop with phases, schedules, eval and checkpoint/resume (train.py), configs (config.py).

    from toolkit.proxy import load_config, train
    cfg = load_config("configs/proxy/tiny_cpu.toml", ["phases.0.steps=100"])
    summary = train(cfg, "runs/tiny")          # writes runs/tiny/curves.csv, config.toml, env.json
"""
from toolkit.proxy.config import DEFAULTS, ConfigError, apply_overrides, dump_toml, load_config, resolve
from toolkit.proxy.data import BUILTIN_DOMAINS, DataError, default_cache_dir
from toolkit.proxy.model import GPT, ModelConfig
from toolkit.proxy.train import CKPT, CURVES, train

#: the errors that mean bad user input (config, data files); the CLI reports them in one line, exit 2
ERRORS = (ConfigError, DataError)

__all__ = ["BUILTIN_DOMAINS", "CKPT", "CURVES", "DEFAULTS", "ERRORS", "GPT", "ConfigError", "DataError",
           "ModelConfig", "apply_overrides", "default_cache_dir", "dump_toml", "load_config", "resolve", "train"]
