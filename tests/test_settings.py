from pathlib import Path

import pytest

from backprop_lab.runs.settings import FIELDS, Settings, load_toml, parse_hidden


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("8", ((8, None),)),
        ("8,4", ((8, None), (4, None))),
        (" 8:TANH , 4:relu ", ((8, "tanh"), (4, "relu"))),
        ("", ()),
        (8, ((8, None),)),  # TOML: hidden = 8
        ([16, "4:sigmoid"], ((16, None), (4, "sigmoid"))),  # TOML: hidden = [16, "4:sigmoid"]
        ([], ()),
    ],
)
def test_parse_hidden(given, expected):
    assert parse_hidden(given) == expected


@pytest.mark.parametrize("bad", ["8,,8", "0", "abc", "-1", "8,", " ", [8, 0], 0])
def test_parse_hidden_refuses_bad_widths(bad):
    with pytest.raises(ValueError, match="positive widths"):
        parse_hidden(bad)


def test_parse_hidden_refuses_unknown_activation_with_the_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'foo'; valid names: .*relu"):
        parse_hidden("8:foo")


@pytest.mark.parametrize("bad", [True, 1.5, None, {"a": 1}])
def test_parse_hidden_refuses_other_types(bad):
    with pytest.raises(TypeError, match="hidden must be"):
        parse_hidden(bad)


def test_defaults_are_the_article_and_round_trip_through_to_dict():
    s = Settings().validate()
    assert (s.dataset, s.samples, s.hidden, s.activation) == ("circle", 5000, ((8, None),), "relu")
    assert (s.loss, s.optimizer, s.epochs, s.batch_size) == ("binary_crossentropy", "sgd", 50, 32)
    assert s.make_optimizer().learning_rate == 0.01
    d = s.to_dict()
    assert set(d) == FIELDS
    assert Settings(**d).validate() == s


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dataset", 5, "dataset must be text"),
        ("name", 5, "name must be text"),
        ("loss", None, "loss must be text"),
        ("out", 5, "out must be a folder path"),
        ("hidden", ((0, None),), "positive widths"),
        ("hidden", ((8, "foo"),), "unknown activation 'foo'"),
        ("samples", "abc", "samples must be a positive integer"),
        ("samples", 2.0, "samples must be a positive integer"),
        ("seed", True, "seed must be a non-negative integer"),
        ("name", "a/b", "plain folder-name part"),
        ("momentum", 1.0, r"momentum must be in \[0.0, 1.0\)"),
    ],
)
def test_validate_refuses_wrong_types_and_values(field, value, message):
    with pytest.raises((TypeError, ValueError), match=message):
        Settings(**{field: value}).validate()


def test_out_may_be_a_path_and_is_stored_as_text(tmp_path):
    s = Settings(out=tmp_path).validate()
    assert s.out == str(tmp_path)
    assert Settings(hidden=(8, 8)).validate().hidden == ((8, None), (8, None))


def test_load_toml_accepts_dashes_and_underscores(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('batch-size = 16\ntest_size = 0.25\nhidden = [4, "4:tanh"]\n')
    values = load_toml(path)
    assert values == {"batch_size": 16, "test_size": 0.25, "hidden": [4, "4:tanh"]}
    assert Settings(**values).validate().hidden == ((4, None), (4, "tanh"))


def test_load_toml_refuses_unknown_keys_listing_the_valid_ones(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("epoch = 3\n")
    with pytest.raises(ValueError, match=r"unknown key 'epoch'; valid keys: .*epochs"):
        load_toml(path)


def test_load_toml_refuses_invalid_and_missing_files(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("samples = \n")
    with pytest.raises(ValueError, match="is not valid TOML"):
        load_toml(path)
    with pytest.raises(ValueError, match="does not exist"):
        load_toml(Path(tmp_path / "missing.toml"))
