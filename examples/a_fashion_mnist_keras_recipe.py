"""(a) The Keras Fashion-MNIST recipe from the lectures.

784-512-512-10 MLP, ReLU, He-normal initialisation, softmax output with cross-entropy,
RMSprop (lr 1e-3), batch 32, 3 epochs, inputs divided by 255. The lecture reports 0.8636
test accuracy.
"""

from common import flatten_images, parse_args, record

import xpgrad as xg
import xpgrad.nn as nn
import xpgrad.optim as optim

args = parse_args(__doc__, epochs=3)
xg.set_backend(args.backend)
xg.manual_seed(args.seed)
(X_train, y_train), (X_test, y_test) = xg.datasets.load_fashion_mnist(root=args.data_root)
X_train, X_test = flatten_images(X_train), flatten_images(X_test)

model = nn.Sequential(
    nn.Linear(784, 512, init="he_normal"), nn.ReLU(),
    nn.Linear(512, 512, init="he_normal"), nn.ReLU(),
    nn.Linear(512, 10),
)
print(model.summary(input_shape=(784,)))
optimizer = optim.RMSprop(model.parameters(), lr=1e-3)
history = xg.train.fit(model, nn.CrossEntropyLoss(), optimizer, (X_train, y_train), epochs=args.epochs,
                       batch_size=32, seed=args.seed, progress=not args.quiet)
test = xg.train.evaluate(model, (X_test, y_test), nn.CrossEntropyLoss())
record("a_fashion_mnist_keras_recipe", test_accuracy=test["accuracy"], test_loss=test["loss"],
       epochs=args.epochs, backend=args.backend, train_seconds=sum(history.history["time"]))
