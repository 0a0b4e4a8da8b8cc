"""Proxy configs (issue 12): bad values are one ConfigError line naming the file and the key;
sizes bounded, domain names safe as cache file names, ``files`` a non-empty list; a truncated
checkpoint names itself and says to rerun with --fresh."""
from __future__ import annotations

import pytest
import torch

from cltk.proxy.config import ConfigError, load_config
from cltk.proxy.data import DataError, load_domain
from cltk.proxy.train import CKPT, _load_checkpoint

PHASE = '[[phases]]\nsteps = 10\nmix = {prose = 1.0}\nschedule = "constant:lr=1e-3,steps=10"\n'


def refused(tmp_path, head: str, needle: str) -> str:
    p = tmp_path / "c.toml"
    p.write_text(head + "\n" + PHASE)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{p}: ") and needle in msg, msg
    return msg


def test_the_tiny_config_loads(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[data.domains]\nmy-notes_1 = {files = ["a.txt"]}\n' + PHASE)
    assert load_config(p)["data"]["domains"]["my-notes_1"] == {"files": ["a.txt"]}


@pytest.mark.parametrize("key", ["model.d_model", "model.n_layer", "model.n_head", "model.seq_len",
                                 "model.vocab_size", "train.batch_size"])
def test_sizes_of_1e9_refused(tmp_path, key):
    sect, k = key.split(".")
    refused(tmp_path, f"[{sect}]\n{k} = 1_000_000_000", key)


@pytest.mark.parametrize("name", ["../../../../escaped", ".hidden", "a/b", "a\\\\b", ""])
def test_traversal_domain_names_refused(tmp_path, name):
    refused(tmp_path, f'[data.domains]\n"{name}" = {{files = ["a.txt"]}}', "a domain name may use only")


def test_traversal_refused_by_load_domain_too(tmp_path):
    with pytest.raises(DataError, match="a domain name may use only"):
        load_domain("../../../../escaped", {"files": [str(tmp_path / "a.txt")]}, tmp_path / "cache")


@pytest.mark.parametrize("files", ["[]", '"notes.txt"', "[1]", '[""]'])
def test_files_must_be_a_non_empty_list_of_names(tmp_path, files):
    refused(tmp_path, f"[data.domains]\nx = {{files = {files}}}", "data.domains.x.files: must be a non-empty list")


@pytest.mark.parametrize("head, key", [("seed = 1.5", "seed"), ("seed = true", "seed"), ("seed = inf", "seed"),
                                       ("[train]\nweight_decay = nan", "train.weight_decay")])
def test_types_and_finite_numbers(tmp_path, head, key):
    refused(tmp_path, head, key)


def test_truncated_checkpoint_is_one_line(tmp_path):
    good = tmp_path / CKPT
    torch.save({"config": {}, "model": {}, "optim": {}, "rng": {}, "step": 1, "rows": [], "elapsed": 0.0}, good)
    assert _load_checkpoint(good)["step"] == 1
    data = good.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        good.write_bytes(data[:cut])
        with pytest.raises(ConfigError) as e:
            _load_checkpoint(good)
        assert "\n" not in str(e.value) and str(good) in str(e.value) and "--fresh" in str(e.value)
    torch.save([1, 2], good)
    with pytest.raises(ConfigError, match="not a cltk proxy checkpoint"):
        _load_checkpoint(good)
