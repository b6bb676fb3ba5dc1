"""The command line: demo, train, info, bench."""

import subprocess
import sys

import pytest

from xpgrad import cli


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "xpgrad", *args], capture_output=True, text=True, timeout=timeout)


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
    assert (tmp_path / "autograd_overhead.json").exists() and (tmp_path / "autograd_overhead.md").exists()


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax"])
def test_every_optimizer_name_builds(name):
    model = cli.build_mlp([4, 3, 2], "relu", dropout=0.2, input_dropout=0.1)
    assert cli.make_optimizer(name, model.parameters()).param_groups[0]["lr"] > 0


def test_unknown_dataset_is_rejected():
    result = run_cli("train", "--dataset", "cifar")
    assert result.returncode != 0 and "invalid choice" in result.stderr
