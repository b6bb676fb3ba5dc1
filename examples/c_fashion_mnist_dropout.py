"""(c) The lecture's dropout experiment: Fashion-MNIST, three hidden layers of 1000 ReLU units,
dropout 0.5 at the inputs, SGD lr 0.1 — trained with and without dropout to compare."""

from common import flatten_images, parse_args, record

import xpgrad as xg
import xpgrad.nn as nn
import xpgrad.optim as optim

args = parse_args(__doc__, epochs=10)
xg.set_backend(args.backend)
(X_train, y_train), (X_test, y_test) = xg.datasets.load_fashion_mnist(root=args.data_root)
X_train, X_test = flatten_images(X_train), flatten_images(X_test)


def model_with(input_dropout: float) -> nn.Sequential:
    layers = [nn.Dropout(input_dropout)] if input_dropout else []
    for n_in in (784, 1000, 1000):
        layers += [nn.Linear(n_in, 1000, init="he_normal"), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(1000, 10))


results = {}
for p in (0.0, 0.5):
    xg.manual_seed(args.seed)
    model = model_with(p)
    history = xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                           (X_train, y_train), val=(X_test, y_test), epochs=args.epochs, batch_size=100,
                           seed=args.seed, progress=not args.quiet)
    results[f"dropout_{p}"] = {
        "train_accuracy": history.history["accuracy"][-1],
        "test_accuracy": history.history["val_accuracy"][-1],
        "train_seconds": sum(history.history["time"]),
    }
record("c_fashion_mnist_dropout", epochs=args.epochs, backend=args.backend, **results)
