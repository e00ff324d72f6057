"""Training configs: unknown keys name the nearest valid key; values of the wrong type are errors,
never silent casts (in YAML files and in ``--set`` overrides)."""
from __future__ import annotations

import pytest

from training.config import Config, ConfigError, load_config


@pytest.mark.parametrize("item, words", [
    ("train.stpes=3", ["train.stpes", "did you mean 'steps'"]),
    ("trian.steps=3", ["trian", "did you mean 'train'"]),
    ("loss.w_fdw=1", ["loss.w_fdw", "did you mean 'w_fwd'"]),
    ("net.hiden=8", ["net.hiden", "did you mean 'hidden'"]),
])
def test_unknown_override_names_nearest_key(item, words):
    with pytest.raises(ConfigError) as e:
        load_config("tiny", [item])
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("item, expected", [
    ("train.steps=abc", "an integer"),
    ("train.steps=2.5", "an integer"),
    ("train.steps=true", "an integer"),          # a bool is not an int
    ("train.steps=[3]", "an integer"),
    ("train.lr=[1]", "a number"),
    ("train.lr=true", "a number"),
    ("train.lr=abc", "a number"),
    ("train.lr={a: 1}", "a number"),
    ("data.mirror=5", "true or false"),          # no bool(5)
    ("data.mirror=[true]", "true or false"),
    ("model=3", "a string"),                     # no str(3)
    ("train.device=[cpu]", "a string"),
])
def test_wrong_type_override_is_an_error(item, expected):
    key = item.split("=")[0]
    with pytest.raises(ConfigError) as e:
        load_config("tiny", [item])
    msg = str(e.value)
    assert key in msg and expected in msg, msg


def test_override_that_is_not_yaml():
    with pytest.raises(ConfigError, match=r"train\.lr=\[1.*not valid YAML"):
        load_config("tiny", ["train.lr=[1"])


@pytest.mark.parametrize("item, key, value", [
    ("train.steps=12", "steps", 12),
    ("train.steps=1.2e+1", "steps", 12),           # an integral float is an int
    ("train.lr=1e-3", "lr", 1e-3),                 # YAML reads 1e-3 as a string: a number in it
    ("train.lr=2", "lr", 2.0),                     # an int is a number
    ("train.grad_clip=0", "grad_clip", 0.0),
])
def test_valid_overrides_keep_their_value(item, key, value):
    cfg = load_config("tiny", [item])
    got = getattr(cfg.train, key)
    assert got == value and type(got) is type(value)


def test_bool_words_accepted():
    assert load_config("tiny", ["data.mirror=false"]).data.mirror is False
    assert load_config("tiny", ["data.mirror=on"]).data.mirror is True


@pytest.mark.parametrize("text, words", [
    ("train: {stepz: 3}\n", ["train.stepz", "did you mean 'steps'"]),
    ("nett: {hidden: 3}\n", ["nett", "did you mean 'net'"]),
    ("train: {steps: '12'}\n", ["train.steps", "an integer"]),
    ("train: {lr: [0.1]}\n", ["train.lr", "a number"]),
    ("data: {mirror: 1}\n", ["data.mirror", "true or false"]),
    ("train: 5\n", ["train", "mapping"]),
    ("train: {steps: [1\n", ["not valid YAML"]),
])
def test_config_file_errors_name_file_and_key(tmp_path, text, words):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert str(p) in msg, msg
    for w in words:
        assert w in msg, msg


def test_from_dict_roundtrip_keeps_types():
    cfg = load_config("tiny")
    assert Config.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="train.batch_size.*an integer"):
        Config.from_dict({"train": {"batch_size": 4.5}})
