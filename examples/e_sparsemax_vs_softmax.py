"""(e) A sparsemax output layer against softmax on MNIST.

The same 784-512-10 network trained twice: softmax + cross-entropy, and sparsemax + the
sparsemax loss (Martins & Astudillo 2016). Sparsemax gives exactly-zero probabilities to most
classes; we report accuracy and the mean number of output probabilities above 1e-6 (float32
softmax outputs are almost never exactly 0: counted so, softmax would have all 10).
"""

from common import flatten_images, parse_args, record

import xpgrad as xg
import xpgrad.nn as nn
import xpgrad.nn.functional as F
import xpgrad.optim as optim

args = parse_args(__doc__, epochs=5)
xg.set_backend(args.backend)
(X_train, y_train), (X_test, y_test) = xg.datasets.load_mnist(root=args.data_root)
X_train, X_test = flatten_images(X_train), flatten_images(X_test)

results = {}
for name, loss_fn, to_probs in (
    ("softmax", nn.CrossEntropyLoss(), F.softmax),
    ("sparsemax", nn.SparsemaxLoss(), F.sparsemax),
):
    xg.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(784, 512, init="he_normal"), nn.ReLU(), nn.Linear(512, 10))
    xg.train.fit(model, loss_fn, optim.Adam(model.parameters(), lr=1e-3), (X_train, y_train),
                 epochs=args.epochs, batch_size=64, seed=args.seed, progress=not args.quiet)
    test = xg.train.evaluate(model, (X_test, y_test), loss_fn)
    probs = to_probs(xg.train.predict(model, X_test))
    results[name] = {
        "test_accuracy": test["accuracy"],
        "mean_probabilities_above_1e-6": (probs > 1e-6).sum().item() / len(X_test),
    }
record("e_sparsemax_vs_softmax", epochs=args.epochs, backend=args.backend, **results)
