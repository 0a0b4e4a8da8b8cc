"""Law files (issue 12): every bad law.json is one LawError line naming the file and the key as
written; parameters outside a law's fit domain are refused (a momentum law with lam = 1 once made
select-schedule predict a final loss of -41.3 and exit 0)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.laws import ALL_LAWS, LawError, MomentumLaw, read_law

#: a momentum law inside its domain (the parameters of test_laws' recovery test)
MOMENTUM = {"L0": 3.0, "A": 0.6, "C": 5.0, "alpha": 0.45, "lam": 0.995}


def momentum_json(**change) -> dict:
    law = MomentumLaw()
    law.params_ = dict(MOMENTUM)
    data = json.loads(law.to_json())
    for key, v in change.items():
        data[key] = v
    return data


def write(tmp_path, data, name="law.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def refused(path, needle: str) -> str:
    with pytest.raises(LawError) as e:
        read_law(path)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{path}: ") and needle in msg, msg
    return msg


def test_valid_file_loads_and_predicts_the_same(tmp_path):
    law = read_law(write(tmp_path, momentum_json()))
    assert law.params_ == MOMENTUM


@pytest.mark.parametrize("lam", [1.0, 0.0, -0.5, 1.5])
def test_momentum_lam_outside_0_1_refused(tmp_path, lam):
    refused(write(tmp_path, momentum_json(params={**MOMENTUM, "lam": lam})), "params.lam")


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_params_refused(tmp_path, bad):
    text = json.dumps(momentum_json()).replace('"L0": 3.0', f'"L0": {bad}')
    refused(write(tmp_path, text), "params.L0: must be finite")


def test_negative_linear_coefficient_and_string_param_refused(tmp_path):
    refused(write(tmp_path, momentum_json(params={**MOMENTUM, "A": -0.1})), "params.A: must be >= 0")
    refused(write(tmp_path, momentum_json(params={**MOMENTUM, "C": "5"})), "params.C: expected a number")
    refused(write(tmp_path, momentum_json(params={**MOMENTUM, "C": True})), "params.C: expected a number")


def test_law_name_must_be_a_known_string(tmp_path):
    refused(write(tmp_path, momentum_json(law=["multipower"])), "law: expected one of")
    refused(write(tmp_path, momentum_json(law="quadratic")), "law: expected one of")


def test_metrics_json_named_as_such(tmp_path):
    metrics = {"law": "poweranneal", "law_params": {"L0": 3.0}, "fit_rmse": 0.01}
    refused(write(tmp_path, metrics, "metrics.json"), "is a metrics.json of a cltk run, not a law file (use law.json)")
    refused(write(tmp_path, metrics, "other.json"), "is a metrics.json of a cltk run")


def test_bootstrap_cv_fit_info_and_config_checked(tmp_path):
    refused(write(tmp_path, momentum_json(bootstrap=[{**MOMENTUM, "lam": 1.0}])), "bootstrap[0].lam")
    refused(write(tmp_path, momentum_json(cv_quantiles=[0.1, float("nan")])), "cv_quantiles[1]")
    refused(write(tmp_path, momentum_json(fit_info=[1])), "fit_info: must be an object")
    refused(write(tmp_path, momentum_json(config={"bogus": 1})), "config.bogus: unknown key")
    refused(write(tmp_path, momentum_json(config={"max_points": 1.5})), "config.max_points: expected an integer")
    refused(write(tmp_path, momentum_json(config={"lam": 1.0})), "config.lam: must be in (0, 1)")


def test_deep_nesting_big_ints_and_size(tmp_path, monkeypatch):
    refused(write(tmp_path, "[" * 100_000 + "]" * 100_000), "")
    refused(write(tmp_path, json.dumps(momentum_json()).replace('"L0": 3.0', '"L0": ' + "9" * 400)), "params.L0")
    refused(write(tmp_path, json.dumps(momentum_json()).replace('"L0": 3.0', '"L0": ' + "9" * 5000)), "")
    import cltk.laws as laws
    monkeypatch.setattr(laws, "MAX_LAW_BYTES", 100)
    refused(write(tmp_path, momentum_json()), "too large for a law file")


def test_every_law_domain_is_its_fit_domain():
    # each law's nonlinear transforms are the ones _in_domain knows; a new transform must be added there
    for law in ALL_LAWS.values():
        assert set(law.nl_transforms) <= {"log", "log1m"}, law.name


def test_select_schedule_refuses_lam_one(tmp_path, bad_flag):
    p = write(tmp_path, momentum_json(params={**MOMENTUM, "lam": 1.0}))
    r = CliRunner().invoke(cli, ["select-schedule", str(p), "--steps", "200", "--peak-lr", "1e-3",
                                 "--out", str(tmp_path / "out")])
    bad_flag(r, "params.lam")
    assert not (tmp_path / "out").exists()
