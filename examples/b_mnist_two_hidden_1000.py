"""(b) MNIST with two hidden layers of 1000 ReLU units, softmax cross-entropy, SGD lr 0.1.

Goal: at least 98% test accuracy.
"""

from common import flatten_images, parse_args, record

import xpgrad as xg
import xpgrad.nn as nn
import xpgrad.optim as optim

args = parse_args(__doc__, epochs=15)
xg.set_backend(args.backend)
xg.manual_seed(args.seed)
(X_train, y_train), (X_test, y_test) = xg.datasets.load_mnist(root=args.data_root)
X_train, X_test = flatten_images(X_train), flatten_images(X_test)

model = nn.Sequential(
    nn.Linear(784, 1000, init="he_normal"), nn.ReLU(),
    nn.Linear(1000, 1000, init="he_normal"), nn.ReLU(),
    nn.Linear(1000, 10),
)
optimizer = optim.SGD(model.parameters(), lr=0.1)
history = xg.train.fit(model, nn.CrossEntropyLoss(), optimizer, (X_train, y_train), val=(X_test, y_test),
                       epochs=args.epochs, batch_size=100, seed=args.seed, progress=not args.quiet)
record("b_mnist_two_hidden_1000", test_accuracy=history.history["val_accuracy"][-1],
       best_test_accuracy=max(history.history["val_accuracy"]), epochs=args.epochs,
       backend=args.backend, train_seconds=sum(history.history["time"]))
