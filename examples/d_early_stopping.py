"""(d) Early stopping with checkpoint restore (the lecture's rule), learning curves plotted.

A wide MLP on Fashion-MNIST with a validation split: a checkpoint is kept at every new
validation-loss minimum; training stops after `patience` epochs without one and the best
weights are restored. Writes examples/results/d_early_stopping.png (needs matplotlib:
pip install 'xpgrad[plot]'; without it the results are recorded and the plot skipped).
"""

from common import RESULTS, flatten_images, parse_args, record

import xpgrad as xg
import xpgrad.nn as nn
import xpgrad.optim as optim

args = parse_args(__doc__, epochs=30)
xg.set_backend(args.backend)
xg.manual_seed(args.seed)
(X, y), (X_test, y_test) = xg.datasets.load_fashion_mnist(root=args.data_root)
X, X_test = flatten_images(X), flatten_images(X_test)
(X_train, y_train), (X_val, y_val) = xg.data.train_val_test_split(X, y, sizes=(50000, 10000), seed=args.seed)

model = nn.Sequential(nn.Linear(784, 1000, init="he_normal"), nn.ReLU(), nn.Linear(1000, 10))
stopper = xg.train.EarlyStopping(monitor="val_loss", patience=3, restore_best=True)
history = xg.train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                       (X_train, y_train), val=(X_val, y_val), epochs=args.epochs, batch_size=64,
                       callbacks=[stopper], seed=args.seed, progress=not args.quiet)
RESULTS.mkdir(exist_ok=True)
try:
    plot = history.plot(RESULTS / "d_early_stopping.png").name
except ImportError:
    plot = None
    print("matplotlib not installed: no plot (pip install 'xpgrad[plot]')")
test = xg.train.evaluate(model, (X_test, y_test), nn.CrossEntropyLoss())
record("d_early_stopping", epochs_run=len(history.epoch), best_epoch=stopper.best_epoch,
       best_val_loss=stopper.tracker.best, test_accuracy_restored=test["accuracy"],
       stopped_early=history.stopped_early, plot=plot, backend=args.backend)
