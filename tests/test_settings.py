from pathlib import Path

import pytest

from backprop_lab.runs.settings import (
    FIELD_NAMES,
    FIELDS,
    Settings,
    coerce,
    load_toml,
    parse_hidden,
    unused_by_dataset,
)


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
        (((8, "tanh"), (4, None)), ((8, "tanh"), (4, None))),  # parsed layers parse again
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
    assert (s.loss, s.optimizer, s.epochs, s.batch_size) == ("auto", "sgd", 50, 32)
    assert (s.task, s.classes) == ("auto", 2)
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
    assert values == {"batch_size": 16, "test_size": 0.25, "hidden": "4,4:tanh"}
    assert Settings(**values).validate().hidden == ((4, None), (4, "tanh"))


def test_load_toml_types_values_through_the_schema(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('lr = 1\nhidden = 8\nepochs = "3"\n')
    values = load_toml(path)
    assert values == {"lr": 1.0, "hidden": "8", "epochs": 3}
    assert type(values["lr"]) is float
    path.write_text("epochs = 2.5\n")
    with pytest.raises(ValueError, match=r"run.toml: epochs must be an integer, got 2.5$"):
        load_toml(path)


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


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("epochs", 3, 3),
        ("epochs", " 3 ", 3),
        ("lr", 1, 1.0),
        ("lr", "1e-3", 0.001),
        ("lr", None, None),
        ("lr", "", None),  # settings that may be None take empty text for it
        ("seed", "7", 7),
        ("noise", "0", 0.0),
        ("activation", "1e3", "1e3"),  # text stays text; names are checked by validate
        ("hidden", "8,8", "8,8"),
        ("hidden", "8:TANH, 4", "8:tanh,4"),
        ("hidden", 8, "8"),
        ("hidden", [8, "4:relu"], "8,4:relu"),
        ("hidden", ((8, "tanh"), (4, None)), "8:tanh,4"),
        ("hidden", "", ""),
    ],
)
def test_coerce_gives_each_setting_its_type(name, value, expected):
    got = coerce(name, value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("epochs", 2.5, "epochs must be an integer, got 2.5"),
        ("epochs", "2.0", "epochs must be an integer, got '2.0'"),
        ("epochs", True, "epochs must be an integer, got True"),
        ("epochs", None, "epochs must be an integer, got None"),
        ("lr", "abc", "lr must be a number, got 'abc'"),
        ("lr", False, "lr must be a number, got False"),
        ("dataset", 5, "dataset must be text, got 5"),
        ("hidden", "0", "positive widths"),
        ("hidden", 1.5, "hidden must be widths like 8,8"),
        ("hidden", "8:foo", "unknown activation 'foo'"),
        ("epoch", 3, "unknown setting 'epoch'; valid names: .*epochs"),
    ],
)
def test_coerce_refuses_with_one_line_naming_the_setting(name, value, message):
    with pytest.raises(ValueError, match=message) as info:
        coerce(name, value)
    assert "\n" not in str(info.value)


def test_unknown_names_get_the_nearest_valid_one(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("epoch = 3\n")
    with pytest.raises(
        ValueError,
        match=r"valid keys: dataset, task, classes, samples, .*; did you mean 'epochs'\?$",
    ):
        load_toml(path)
    with pytest.raises(ValueError, match=r"; did you mean 'batch_size'\?$"):
        coerce("batchsize", 3)
    path.write_text("zzz = 3\n")
    with pytest.raises(ValueError, match=r"valid keys: .*out$"):  # nothing close: no guess
        load_toml(path)


def test_samples_and_noise_are_unused_by_csv_data_only():
    assert unused_by_dataset("csv:a.csv", {"samples": 5, "noise": 0.1, "epochs": 2}) == [
        "samples",
        "noise",
    ]
    assert unused_by_dataset("CSV:a.csv", ["noise"]) == ["noise"]
    assert unused_by_dataset("circle", {"samples": 5, "noise": 0.1}) == []
    assert FIELD_NAMES[0] == "dataset" and set(FIELD_NAMES) == FIELDS


# --------------------------------------------------------------------------- problem types


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dataset": "spiral", "classes": 9}, "classes must be an integer from 2 to 8, got 9"),
        ({"dataset": "spiral", "classes": 1}, "classes must be an integer from 2 to 8, got 1"),
        ({"dataset": "circle", "classes": 3}, "classes applies to spiral, gaussians, blobs, not"),
        ({"dataset": "bump", "classes": 3}, "classes applies to classification; dataset bump"),
        ({"dataset": "bump", "loss": "binary_crossentropy"}, "loss binary_crossentropy needs"),
        ({"dataset": "bump", "task": "classification"}, "task classification does not fit"),
        ({"dataset": "spiral", "classes": 3, "loss": "binary_crossentropy"}, "fits 2 classes"),
        ({"dataset": "spiral", "classes": 3, "loss": "mse"}, "but the data has 3"),
        ({"task": "clustering"}, "unknown task 'clustering'"),
    ],
)
def test_settings_refuse_a_problem_and_an_option_that_do_not_fit(changes, message):
    with pytest.raises(ValueError, match=message) as info:
        Settings(**changes).validate()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("task", "k", "loss", "expected"),
    [
        ("classification", 2, "auto", ("binary_crossentropy", 1, "sigmoid")),
        ("classification", 2, "mse", ("mse", 1, "sigmoid")),
        ("classification", 2, "sparse_categorical_crossentropy", (None, 2, "softmax")),
        ("classification", 5, "auto", ("sparse_categorical_crossentropy", 5, "softmax")),
        ("regression", 2, "auto", ("mse", 1, "linear")),
        ("regression", 2, "mse", ("mse", 1, "linear")),
    ],
)
def test_the_output_and_the_loss_follow_the_problem(task, k, loss, expected):
    from backprop_lab.runs.settings import output_for

    got = output_for(task, k, loss)
    assert got == (expected[0] or loss, *expected[1:])
