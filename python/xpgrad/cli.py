"""The ``xpgrad`` command line: ``demo``, ``train``, ``bench`` and ``info``.

Bad option values are argparse errors (``xpgrad train: error: ...``, exit status 2). Errors of
the environment found while running (a backend that cannot run here, data files missing or
corrupt, an output file that cannot be written) print ``xpgrad: error: <message>`` and exit
with status 1, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import sys
import time
from pathlib import Path

from .backends.errors import BackendUnavailableError
from .backends.registry import backend_names

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu")
DATASETS = ("digits", "mnist", "fashion-mnist")
DEMO_EPOCHS = 20
DEMO_MIN_ACCURACY = 0.9  # the demo's MLP reaches about 0.97; less means something is broken
BENCHMARKS = ("bench_autograd", "bench_gemm", "bench_activations", "bench_softmax", "bench_optim",
              "bench_mlp_step", "bench_conv", "bench_gpu")


class CommandError(Exception):
    """An error of the user's environment or data: reported in one line, without a traceback."""


def build_mlp(sizes, activation="relu", dropout=0.0, input_dropout=0.0):
    """Linear layers of the given sizes with ``activation`` between them (He init for the
    ReLU family, Glorot otherwise) and optional dropout on the inputs and hidden layers."""
    from . import nn

    layers = [nn.Dropout(input_dropout)] if input_dropout else []
    init = "he_normal" if activation in ("relu", "leaky_relu", "elu") else "glorot_uniform"
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}[activation]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(nn.Linear(n_in, n_out, init="glorot_uniform" if last else init))
        if not last:
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def make_optimizer(name, params, lr=None):
    """An optimizer by name; ``lr`` None takes the optimizer's default (0.1 for SGD)."""
    from . import optim

    kwargs = {} if lr is None else {"lr": lr}
    if name in ("sgd", "momentum", "nesterov"):
        kwargs.setdefault("lr", 0.1)
        if name != "sgd":
            kwargs.update(momentum=0.9, nesterov=name == "nesterov")
        return optim.SGD(params, **kwargs)
    classes = {"adagrad": optim.Adagrad, "rmsprop": optim.RMSprop, "adam": optim.Adam,
               "adamw": optim.AdamW, "adamax": optim.Adamax}
    return classes[name](params, **kwargs)


def load_dataset(name, root=None):
    """((X_train, y_train), (X_test, y_test)) as flat float32 rows scaled to [0, 1]."""
    from . import datasets

    if name == "digits":
        from .data import train_val_test_split

        X, y = datasets.load_digits()
        X = X.reshape(len(X), -1).astype("float32") / 16.0
        (X_train, y_train), (X_test, y_test) = train_val_test_split(X, y, sizes=(0.8, 0.2), seed=0)
        return (X_train, y_train), (X_test, y_test)
    loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
    (X_train, y_train), (X_test, y_test) = loader(root=root)
    flat = lambda X: X.reshape(len(X), -1).astype("float32") / 255.0  # noqa: E731
    return (flat(X_train), y_train), (flat(X_test), y_test)


def run_training(args) -> float:
    """Train an MLP as ``args`` describes and return its test accuracy."""
    import xpgrad as xg

    from . import nn
    from .data import train_val_test_split

    xg.set_backend(args.backend)
    xg.manual_seed(args.seed)
    try:
        (X_train, y_train), (X_test, y_test) = load_dataset(args.dataset, args.data_root)
    except (RuntimeError, ValueError) as exc:  # files missing and not downloadable, or corrupt
        raise CommandError(exc) from exc
    classes = int(max(y_train.max(), y_test.max())) + 1  # before a validation split takes some
    val = None
    if args.val_fraction:
        (X_train, y_train), (X_val, y_val) = train_val_test_split(
            X_train, y_train, sizes=(1 - args.val_fraction, args.val_fraction), seed=args.seed)
        if len(X_val) == 0:
            raise CommandError(f"--val-fraction {args.val_fraction} of {len(X_train)} training "
                               "samples leaves no validation samples")
        val = (X_val, y_val)
    sizes = [X_train.shape[1], *args.hidden, classes]
    model = build_mlp(sizes, args.activation, args.dropout, args.input_dropout)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    callbacks = []
    if args.early_stopping:
        callbacks.append(xg.train.EarlyStopping(patience=args.early_stopping))
    print(f"xpgrad {xg.__version__}: {args.dataset}, MLP {'-'.join(map(str, sizes))} ({args.activation}), "
          f"{args.optimizer}, batch {args.batch_size}, {args.epochs} epochs, backend {xg.get_backend().name}")
    start = time.perf_counter()
    history = xg.train.fit(
        model, nn.CrossEntropyLoss(), optimizer, (X_train, y_train), val=val, epochs=args.epochs,
        callbacks=callbacks, progress=not args.quiet, batch_size=args.batch_size, seed=args.seed)
    elapsed = time.perf_counter() - start
    result = xg.train.evaluate(model, (X_test, y_test), nn.CrossEntropyLoss())
    print(f"test accuracy: {result['accuracy']:.4f}  test loss: {result['loss']:.4f}  "
          f"(trained in {elapsed:.1f}s)")
    if args.save:  # first: the weights are what took the time
        xg.save(model.state_dict(), args.save)
        print(f"weights saved to {args.save}")
    if args.plot:
        print(f"learning curves: {history.plot(args.plot)}")
    return result["accuracy"]


def cmd_demo(args) -> int:
    """Train a small MLP on the shipped 8×8 digits (offline) and print the test accuracy."""
    args.dataset, args.hidden, args.activation = "digits", [128], "relu"
    args.optimizer, args.lr, args.dropout, args.input_dropout = "adam", 3e-3, 0.0, 0.0
    args.batch_size, args.val_fraction, args.early_stopping = 32, 0.0, 0
    args.data_root, args.plot, args.save = None, None, None
    accuracy = run_training(args)
    if accuracy >= DEMO_MIN_ACCURACY:
        return 0
    if args.epochs < DEMO_EPOCHS:  # the check holds for the demo's epochs, not for fewer
        print(f"xpgrad demo: test accuracy {accuracy:.4f} is low after {args.epochs} of the demo's "
              f"{DEMO_EPOCHS} epochs (they reach about 0.97)")
        return 0
    print(f"xpgrad demo: test accuracy {accuracy:.4f} is below {DEMO_MIN_ACCURACY}: "
          "something is wrong with this installation or backend", file=sys.stderr)
    return 1


def cmd_train(args) -> int:
    run_training(args)
    return 0


def _bench_package():
    """The benchmark scripts: xpgrad.bench when installed, else bench/ of the source checkout."""
    try:
        return importlib.import_module("xpgrad.bench"), "xpgrad.bench"
    except ImportError:
        checkout = Path(__file__).resolve().parents[2]
        if not (checkout / "bench" / "harness.py").is_file():
            raise SystemExit("xpgrad bench: the benchmark scripts are not installed") from None
        sys.path.insert(0, str(checkout))
        return importlib.import_module("bench"), "bench"


def cmd_bench(args) -> int:
    _, package = _bench_package()
    names = args.only or [b for b in BENCHMARKS if b != "bench_gpu" or args.gpu]
    previous = os.environ.get("XPGRAD_BENCH_RESULTS")
    os.environ["XPGRAD_BENCH_RESULTS"] = str(Path(args.out).resolve())
    try:
        for name in names:
            try:
                module = importlib.import_module(f"{package}.{name}")
            except ImportError as exc:
                print(f"skipping {name}: {exc}")
                continue
            print(f"== {name}")
            try:
                module.main(["--quick"] if args.quick else [])
            except (ImportError, BackendUnavailableError) as exc:  # e.g. xpgrad._C not built
                print(f"skipping {name}: {exc}")
    finally:  # the variable is for the benchmarks run here, not for the caller's process
        if previous is None:
            os.environ.pop("XPGRAD_BENCH_RESULTS", None)
        else:
            os.environ["XPGRAD_BENCH_RESULTS"] = previous
    print(f"results in {args.out}" if os.path.isdir(args.out) else "no results written")
    return 0


def cmd_info(args) -> int:
    import platform

    import xpgrad as xg

    from .backends.registry import backend_names, unavailable_reason

    print(f"xpgrad {xg.__version__}, Python {platform.python_version()}, {platform.platform()}")
    try:
        print(f"default backend: {xg.get_backend().name}")
    except (ValueError, BackendUnavailableError) as exc:  # a bad XPGRAD_BACKEND: still list the rest
        print(f"default backend: none ({exc})")
    for name in backend_names():
        reason = unavailable_reason(name)
        print(f"  {name:6} {'available' if reason is None else 'unavailable: ' + reason}")
    try:
        from . import _C

        kernels = sorted(n for n in dir(_C) if not n.startswith("_"))
        print(f"xpgrad._C: ISA {_C.isa()}, {_C.num_threads()} threads, kernels: {', '.join(kernels)}")
    except ImportError as exc:
        print(f"xpgrad._C: not built ({exc})")
    print(f"CPU: {_cpu_description()}")
    try:
        from . import _cuda

        print(f"xpgrad._cuda: built, {_cuda.device_count()} CUDA device(s) visible")
    except ImportError as exc:
        print(f"xpgrad._cuda: not built ({exc})")
    try:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        print(f"GPU: {props['name'].decode()} ({props['totalGlobalMem'] / 2**30:.1f} GiB)")
    except Exception as exc:  # no CuPy, no driver or no device
        print(f"GPU: none usable ({type(exc).__name__}: {exc})")
    return 0


def _cpu_description() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        import platform

        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    wanted = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16") if f in flags]
    return f"{model}, {os.cpu_count()} cores, features: {' '.join(wanted) or 'baseline'}"


def _checked(convert, accept, requirement: str):
    """An argparse ``type``: ``convert(text)``, accepted when ``accept(value)``, else an error
    saying the value must be ``requirement``."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


positive_int = _checked(int, lambda n: n >= 1, "an integer >= 1")
non_negative_int = _checked(int, lambda n: n >= 0, "an integer >= 0")
positive_float = _checked(float, lambda x: 0 < x < math.inf, "a number > 0")
fraction = _checked(float, lambda x: 0 <= x < 1, "a number in [0, 1)")


def output_file(text: str) -> str:
    """An argparse ``type`` for a file to write: its directory must exist and be writable, so
    a typo fails now rather than after training."""
    if not text:
        raise argparse.ArgumentTypeError("the file name is empty")
    directory = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text) or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text} is a directory, not a file")
    if not os.path.isdir(directory):
        raise argparse.ArgumentTypeError(f"directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise argparse.ArgumentTypeError(f"directory {directory} is not writable")
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xpgrad", description="xpgrad: autodiff tensors on swappable backends")
    sub = p.add_subparsers(dest="command", required=True)

    def training_options(sp, epochs):
        sp.add_argument("--epochs", type=positive_int, default=epochs)
        sp.add_argument("--backend", choices=backend_names(), default=None,
                        help="default: the current one (xpgrad info lists those available)")
        sp.add_argument("--seed", type=non_negative_int, default=0)
        sp.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")

    demo = sub.add_parser("demo", help="train an MLP on the shipped 8x8 digits and print test accuracy")
    training_options(demo, epochs=DEMO_EPOCHS)
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="train an MLP on a dataset")
    train.add_argument("--dataset", choices=DATASETS, default="fashion-mnist")
    train.add_argument("--data-root", default=None, help="directory with the IDX files (default $XPGRAD_DATA)")
    train.add_argument("--hidden", type=positive_int, nargs="*", default=[512, 512],
                       help="hidden layer sizes (none: a linear model)")
    train.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="rmsprop")
    train.add_argument("--lr", type=positive_float, default=None)
    train.add_argument("--batch-size", type=positive_int, default=32)
    train.add_argument("--dropout", type=fraction, default=0.0, help="dropout after each hidden layer")
    train.add_argument("--input-dropout", type=fraction, default=0.0, help="dropout on the inputs")
    train.add_argument("--val-fraction", type=fraction, default=0.0,
                       help="share of the training set held out for validation")
    train.add_argument("--early-stopping", type=non_negative_int, default=0, metavar="PATIENCE",
                       help="stop after PATIENCE epochs without a better validation loss "
                            "(needs --val-fraction; 0: off)")
    train.add_argument("--plot", type=output_file, default=None, metavar="PNG",
                       help="write learning curves here")
    train.add_argument("--save", type=output_file, default=None, metavar="NPZ",
                       help="save the trained weights here")
    training_options(train, epochs=3)
    train.set_defaults(func=cmd_train, command_parser=train)

    bench = sub.add_parser("bench", help="kernel microbenchmarks (vs NumPy, and PyTorch when installed)")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions and sizes")
    bench.add_argument("--gpu", action="store_true", help="also the GPU benchmarks")
    bench.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME",
                       help=f"run only these ({', '.join(BENCHMARKS)})")
    bench.add_argument("--out", default="bench-results", help="results directory")
    bench.set_defaults(func=cmd_bench)

    info = sub.add_parser("info", help="backends, kernels, CPU features, GPU")
    info.set_defaults(func=cmd_info)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.command == "train" and args.early_stopping and not args.val_fraction:
        args.command_parser.error("--early-stopping needs validation data: give --val-fraction")
    if args.command == "train" and args.save and args.plot and os.path.realpath(args.save) == os.path.realpath(args.plot):
        args.command_parser.error(f"--save and --plot name the same file ({args.save}): the plot "
                                  "would overwrite the weights")
    if args.command == "train" and args.plot and importlib.util.find_spec("matplotlib") is None:
        args.command_parser.error("--plot needs matplotlib: pip install 'xpgrad[plot]'")
    try:
        if getattr(args, "backend", None) is None and args.command in ("demo", "train"):
            import xpgrad as xg

            try:
                args.backend = xg.get_backend().name
            except ValueError as exc:  # an unknown XPGRAD_BACKEND
                raise CommandError(exc) from None
        return args.func(args)
    except (CommandError, BackendUnavailableError, OSError) as exc:
        print(f"xpgrad: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
