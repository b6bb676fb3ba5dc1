"""The command line: demo, train, info, bench."""

import functools
import importlib
import os
import subprocess
import sys

import pytest

import xpgrad as xg
from xpgrad import cli


def run_cli(*args, timeout=300, env_extra=None):
    env = dict(os.environ, **env_extra) if env_extra else None
    return subprocess.run([sys.executable, "-m", "xpgrad", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_demo_trains_on_the_shipped_digits():
    result = run_cli("demo", "--quiet")
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("test accuracy:")[1].split()[0])
    assert accuracy >= 0.95


def test_train_command_on_digits_with_options(tmp_path):
    weights = tmp_path / "w.npz"
    result = run_cli("train", "--dataset", "digits", "--hidden", "32", "--activation", "tanh",
                     "--optimizer", "momentum", "--lr", "0.05", "--epochs", "2", "--batch-size", "16",
                     "--dropout", "0.1", "--val-fraction", "0.1", "--backend", "numpy", "--seed", "3",
                     "--save", str(weights), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and weights.exists()


def test_info_lists_backends_and_reasons():
    result = run_cli("info")
    assert result.returncode == 0, result.stderr
    for name in ("numpy", "cpu", "cupy", "cuda"):
        assert name in result.stdout
    assert "CPU:" in result.stdout and "GPU:" in result.stdout


def test_bench_runs_a_quick_benchmark(tmp_path):
    result = run_cli("bench", "--quick", "--only", "bench_autograd", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    # quick numbers under their own name: they must not replace a full run's bench/results files
    assert (tmp_path / "autograd_overhead_quick.json").exists()
    assert (tmp_path / "autograd_overhead_quick.md").exists()
    assert not (tmp_path / "autograd_overhead.json").exists()


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax"])
def test_every_optimizer_name_builds(name):
    model = cli.build_mlp([4, 3, 2], "relu", dropout=0.2, input_dropout=0.1)
    assert cli.make_optimizer(name, model.parameters()).param_groups[0]["lr"] > 0


def test_unknown_dataset_is_rejected():
    result = run_cli("train", "--dataset", "cifar")
    assert result.returncode != 0 and "invalid choice" in result.stderr


@pytest.mark.parametrize("option,value", [
    ("--backend", "bogus"), ("--batch-size", "0"), ("--lr", "-1"), ("--lr", "nan"),
    ("--val-fraction", "1.5"), ("--dropout", "1.5"), ("--input-dropout", "-0.1"),
    ("--hidden", "-5"), ("--hidden", "0"), ("--epochs", "-1"), ("--epochs", "two"),
    ("--early-stopping", "-2"), ("--plot", "{missing}/x.png"),
    ("--save", "{missing}/x.npz"), ("--save", "new_dir/"), ("--save", ""), ("--seed", "-1"),
])
def test_bad_option_values_are_usage_errors(capsys, tmp_path, option, value):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--dataset", "digits", option, value.format(missing=tmp_path / "missing")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"xpgrad train: error: argument {option}" in err and "Traceback" not in err


def test_save_and_plot_to_one_file_is_a_usage_error(capsys, tmp_path):
    """The plot was written over the weights just saved (exit 0, the weights lost)."""
    with pytest.raises(SystemExit, match="2"):
        cli.main(["train", "--dataset", "digits", "--save", str(tmp_path / "m"), "--plot",
                  str(tmp_path / "." / "m")])
    assert "--save and --plot name the same file" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_plot_without_matplotlib_is_refused_before_training(capsys, monkeypatch, tmp_path):
    """--plot passed every check, the training ran and only then failed (exit 1) for want of
    matplotlib, an optional dependency."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "matplotlib" else find_spec(name, *args))
    with pytest.raises(SystemExit, match="2"):
        cli.main(["train", "--dataset", "digits", "--save", str(tmp_path / "m.npz"), "--plot",
                  str(tmp_path / "c.png")])
    assert "--plot needs matplotlib: pip install 'xpgrad[plot]'" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def test_a_directory_is_not_an_output_file(capsys, tmp_path):
    with pytest.raises(SystemExit, match="2"):
        cli.main(["train", "--dataset", "digits", "--save", str(tmp_path)])
    assert "is a directory" in capsys.readouterr().err


def test_early_stopping_needs_validation_data(capsys):
    with pytest.raises(SystemExit, match="2"):
        cli.main(["train", "--dataset", "digits", "--early-stopping", "2"])
    assert "xpgrad train: error: --early-stopping needs validation data" in capsys.readouterr().err


def test_an_unavailable_backend_is_a_one_line_error():
    missing = [n for n in xg.backends.registry.backend_names() if n not in xg.available_backends()]
    if not missing:
        pytest.skip("every backend is available here")
    result = run_cli("train", "--dataset", "digits", "--backend", missing[0], "--quiet")
    assert result.returncode == 1
    assert result.stderr.startswith(f"xpgrad: error: backend {missing[0]!r} is unavailable")
    assert "Traceback" not in result.stderr


def test_missing_data_is_a_one_line_error(capsys, monkeypatch, tmp_path):
    """An empty --data-root and mirrors that refuse the connection (no network needed)."""
    offline = functools.partial(xg.datasets.load_fashion_mnist, mirrors=["http://127.0.0.1:9/"])
    monkeypatch.setattr(xg.datasets, "load_fashion_mnist", offline)
    status = cli.main(["train", "--data-root", str(tmp_path), "--backend", xg.get_backend().name])
    err = capsys.readouterr().err
    assert status == 1 and err.startswith("xpgrad: error: fashion-mnist: missing files")
    assert "Traceback" not in err


def test_a_validation_fraction_too_small_for_the_data_is_an_error(capsys):
    status = cli.main(["train", "--dataset", "digits", "--val-fraction", "0.0001", "--quiet",
                       "--backend", xg.get_backend().name])
    assert status == 1
    assert "leaves no validation samples" in capsys.readouterr().err


def test_demo_says_why_it_fails(capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_training", lambda args: 0.5)
    assert cli.main(["demo", "--quiet"]) == 1
    assert "test accuracy 0.5000 is below 0.9" in capsys.readouterr().err


def test_demo_checks_its_accuracy_only_with_its_full_epochs(capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_training", lambda args: 0.5)
    assert cli.main(["demo", "--epochs", "1", "--quiet"]) == 0
    assert "test accuracy 0.5000 is low after 1 of the demo's 20 epochs" in capsys.readouterr().out
    assert cli.main(["demo", "--epochs", "30", "--quiet"]) == 1


def test_bench_skips_what_cannot_run_here(capsys, monkeypatch, tmp_path):
    """A benchmark that needs xpgrad._C or the cpu backend where they are missing: a skip
    line, the next benchmark still runs, no traceback (bench_gemm raised ImportError from
    main, bench_activations BackendUnavailableError, which ended the whole run)."""
    _, package = cli._bench_package()

    def no_extension(argv):
        raise ImportError("No module named 'xpgrad._C'")

    def no_cpu_backend(argv):
        raise xg.backends.errors.BackendUnavailableError("backend 'cpu' is unavailable")

    monkeypatch.setattr(importlib.import_module(f"{package}.bench_gemm"), "main", no_extension)
    monkeypatch.setattr(importlib.import_module(f"{package}.bench_softmax"), "main", no_cpu_backend)
    out = tmp_path / "results"
    assert cli.main(["bench", "--only", "bench_gemm", "bench_softmax", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "skipping bench_gemm: No module named 'xpgrad._C'" in printed
    assert "skipping bench_softmax: backend 'cpu' is unavailable" in printed
    assert "no results written" in printed and not out.exists()


def test_bench_only_needs_a_name(capsys):
    """`--only` with no name ran every benchmark (minutes) instead of saying what it needs."""
    with pytest.raises(SystemExit, match="2"):
        cli.main(["bench", "--only"])
    assert "argument --only: expected at least one argument" in capsys.readouterr().err


def test_bench_writes_into_each_calls_out_directory(monkeypatch, tmp_path):
    """Two `bench` calls in one process: the second wrote into the first's --out (the results
    directory was read from XPGRAD_BENCH_RESULTS once, when bench.harness was first imported),
    and the variable stayed set in the caller's environment."""
    _, package = cli._bench_package()

    harness = importlib.import_module(f"{package}.harness")

    def fake_main(argv):
        harness.write_results("fake", "Fake", [{"x": 1.0}], ["x"])

    monkeypatch.setattr(importlib.import_module(f"{package}.bench_autograd"), "main", fake_main)
    monkeypatch.delenv("XPGRAD_BENCH_RESULTS", raising=False)
    for out in ("a", "b"):
        assert cli.main(["bench", "--only", "bench_autograd", "--out", str(tmp_path / out)]) == 0
        assert (tmp_path / out / "fake.json").is_file()
    assert "XPGRAD_BENCH_RESULTS" not in os.environ


def test_the_output_layer_counts_every_class_of_the_data(capsys):
    # a validation split that leaves a class out of the training part sized the output layer
    # from the rest, and evaluation on the test set then failed on the missing class
    assert cli.main(["train", "--dataset", "digits", "--val-fraction", "0.999", "--epochs", "1", "--quiet",
                     "--hidden", "8"]) == 0
    assert "MLP 64-8-10" in capsys.readouterr().out


def test_a_bad_xpgrad_backend_is_named_and_info_still_lists_the_backends():
    result = run_cli("info", env_extra={"XPGRAD_BACKEND": "bogus"})
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "default backend: none (XPGRAD_BACKEND=bogus: unknown backend 'bogus'" in result.stdout
    assert "numpy  available" in result.stdout
    result = run_cli("demo", "--epochs", "1", "--quiet", env_extra={"XPGRAD_BACKEND": "bogus"})
    assert result.returncode == 1 and result.stderr.startswith("xpgrad: error: XPGRAD_BACKEND=bogus")


def test_weights_are_saved_before_a_plot_that_fails(capsys, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")  # without it --plot is refused before training

    def disk_full(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(xg.train.History, "plot", disk_full)
    status = cli.main(["train", "--dataset", "digits", "--epochs", "1", "--quiet", "--hidden", "8",
                       "--save", str(tmp_path / "w.npz"), "--plot", str(tmp_path / "c.png")])
    assert status == 1 and "No space left on device" in capsys.readouterr().err
    assert "0.weight" in xg.load(tmp_path / "w.npz")
