"""xg.train: fit / evaluate / predict, callbacks, History, regularizer and scheduler hooks."""

import os

import numpy as np
import pytest

import xpgrad as xg
import xpgrad.nn as nn
import xpgrad.nn.functional as F
import xpgrad.optim as optim


def blobs(n=200, seed=0):
    """Two well-separated Gaussian blobs in 2-D (a linearly separable problem)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, 2)).astype(np.float32) + 3 * (2 * y[:, None] - 1)
    return X, y


def small_model():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))


def test_fit_learns_and_records_history(backend):
    xg.manual_seed(0)
    X, y = blobs()
    model = small_model()
    history = xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                           val=blobs(seed=1), epochs=5, progress=False, seed=0)
    assert history.epoch == [1, 2, 3, 4, 5]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"):
        assert len(history.history[key]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.95
    result = xg.train.evaluate(model, blobs(seed=2), nn.CrossEntropyLoss())
    assert set(result) == {"loss", "accuracy"} and result["accuracy"] > 0.95
    out = xg.train.predict(model, X[:70], batch_size=32)
    assert out.shape == (70, 2) and not out.requires_grad
    assert model.training  # predict/evaluate restore the mode


def test_regularizer_is_added_to_the_loss(backend):
    xg.manual_seed(0)
    X, y = blobs()
    model = small_model()
    plain = xg.train.evaluate(model, (X, y), nn.CrossEntropyLoss())["loss"]
    penalty = 0.5 * F.l2_penalty(model.parameters()).item()
    history = xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), (X, y),
                           epochs=1, progress=False, regularizer=lambda m: 0.5 * F.l2_penalty(m.parameters()))
    assert history.history["loss"][0] == pytest.approx(plain + penalty, rel=1e-4)


def test_scheduler_steps_once_per_epoch(backend):
    X, y = blobs()
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=1.0)
    history = xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=3, progress=False,
                           scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    assert history.history["lr"] == [1.0, 0.5, 0.25]


def test_cyclic_lr_steps_once_per_batch(backend):
    # CyclicLR's step sizes count iterations: fit stepped it once per epoch, so with 10 batches
    # an epoch the rate stayed at base_lr for a whole epoch and crawled up a cycle per 5 epochs
    torch = pytest.importorskip("torch")
    X, y = blobs()
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.01)
    cyclic = optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                         cycle_momentum=False)
    seen = []
    record = xg.train.LambdaCallback(on_batch_end=lambda s, i, logs: seen.append(opt.param_groups[0]["lr"]))
    xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=2, batch_size=20,
                 progress=False, scheduler=cyclic, callbacks=[record])
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    t_cyclic = torch.optim.lr_scheduler.CyclicLR(t_opt, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                 cycle_momentum=False)
    expected = []
    for _ in range(20):  # 2 epochs of 10 batches, the scheduler stepped after each optimizer step
        t_opt.step()
        t_cyclic.step()
        expected.append(t_opt.param_groups[0]["lr"])
    assert seen == pytest.approx(expected, rel=1e-12)


def test_reduce_on_plateau_uses_validation_loss(backend):
    X, y = blobs()
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.0)  # nothing improves: the rate halves each epoch
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), val=(X, y), epochs=3, progress=False,
                 scheduler=plateau)
    assert opt.param_groups[0]["lr"] == 0.0
    opt.param_groups[0]["lr"] = 1.0
    plateau.step(10.0)
    assert opt.param_groups[0]["lr"] == 0.5


def test_early_stopping_restores_the_best_weights(backend):
    X, y = blobs()
    model = small_model()
    val_losses = iter([1.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99])
    snapshots = {}

    def fake_validation(state, logs):  # drive the monitored value, remember the weights
        logs["val_loss"] = next(val_losses)
        snapshots[state.epoch] = {k: v.numpy() for k, v in state.model.state_dict().items()}

    stopper = xg.train.EarlyStopping(monitor="val_loss", patience=2, restore_best=True)
    history = xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                           epochs=7, progress=False, callbacks=[xg.train.LambdaCallback(on_epoch_end=fake_validation), stopper])
    assert history.epoch == [1, 2, 3, 4] and history.stopped_early
    assert stopper.best_epoch == 2
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), snapshots[2][key])


def test_model_checkpoint_saves_only_improvements(backend, tmp_path):
    X, y = blobs()
    model = small_model()
    ckpt = xg.train.ModelCheckpoint(tmp_path / "best-{epoch}.npz", monitor="val_accuracy")
    xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y), val=(X, y),
                 epochs=3, progress=False, callbacks=[ckpt])
    assert ckpt.saved_paths and all(p.endswith(".npz") for p in ckpt.saved_paths)
    restored = small_model()
    restored.load_state_dict(xg.load(ckpt.saved_paths[-1]))


def test_monitoring_a_missing_quantity_is_a_clear_error(backend):
    X, y = blobs()
    model = small_model()
    with pytest.raises(ValueError, match="val_loss"):
        xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
                     progress=False, callbacks=[xg.train.EarlyStopping()])


def test_bad_training_data_is_rejected():
    model = small_model()
    with pytest.raises(TypeError, match="DataLoader"):
        xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), "data", progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), blobs(),
                     metrics=("f7",), progress=False)


@pytest.mark.parametrize("options, match", [({"epochs": -1}, "epochs must be an int >= 0, got -1"),
                                            ({"epochs": 2.5}, "epochs must be an int"),
                                            ({"initial_epoch": -2}, "initial_epoch must be an int >= 0")])
def test_bad_epoch_counts_are_rejected(options, match):
    model = small_model()
    with pytest.raises(ValueError, match=match):
        xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), blobs(),
                     progress=False, **options)


@pytest.mark.parametrize("path", ["ck_{step}.npz", "ck_{0}.npz", "ck_{epoch:q}.npz"])
def test_a_checkpoint_path_with_an_unknown_placeholder_fails_before_training(tmp_path, path):
    with pytest.raises(ValueError, match="only the placeholders"):
        xg.train.ModelCheckpoint(str(tmp_path / path))
    xg.train.ModelCheckpoint(str(tmp_path / "ck_{epoch:03d}_{monitor:.3f}.npz"))


def test_history_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    history = xg.train.History()
    for epoch in (1, 2, 3):
        history.record(epoch, {"loss": 1.0 / epoch, "val_loss": 1.2 / epoch, "accuracy": 0.5 + 0.1 * epoch, "lr": 0.1})
    path = history.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failed_plot_leaves_no_file_behind(tmp_path):
    pytest.importorskip("matplotlib")
    history = xg.train.History()
    history.record(1, {"loss": 1.0})
    (tmp_path / "taken").mkdir()
    with pytest.raises(OSError):
        history.plot(tmp_path / "taken")  # a directory: the rename fails
    assert os.listdir(tmp_path) == ["taken"] and os.listdir(tmp_path / "taken") == []


def test_progress_bar_can_be_shown(backend, capsys):
    X, y = blobs(64)
    model = small_model()
    xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1, progress=True)
    assert "Epoch 1/1" in capsys.readouterr().out


class RecordingModel(nn.Module):
    """small_model that remembers the first feature of every batch it is given."""

    def __init__(self):
        super().__init__()
        self.net = small_model()
        self.seen = []

    def forward(self, x):
        self.seen.append(x.numpy()[:, 0].tolist())
        return self.net(x)


def test_consecutive_fits_keep_reshuffling_a_seeded_loader():
    X = np.stack([np.arange(9.0), np.zeros(9)], axis=1).astype(np.float32)
    y = np.arange(9) % 2
    fresh = xg.data.DataLoader(X, y, batch_size=3, seed=0)
    reference = [xb.numpy()[:, 0].tolist() for _ in range(3) for xb, _ in fresh]
    model = RecordingModel()
    loader = xg.data.DataLoader(X, y, batch_size=3, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        xg.train.fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False, metrics=())
    assert model.seen == reference
    assert model.seen[:3] != model.seen[3:6]  # a new order each epoch
    model.seen.clear()  # resuming replays the epoch asked for, whatever the loader's count
    xg.train.fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, initial_epoch=1,
                 progress=False, metrics=())
    assert model.seen == reference[3:6]


@pytest.mark.parametrize("batch_size", [2, 3])
def test_fit_and_evaluate_refuse_data_without_targets(batch_size):
    X, _ = blobs(8)
    model = small_model()
    unlabelled = xg.data.DataLoader(X, batch_size=batch_size)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"training data has no targets \(y=None\)"):
        xg.train.fit(model, nn.CrossEntropyLoss(), opt, unlabelled, progress=False)
    with pytest.raises(ValueError, match=r"validation data has no targets"):
        xg.train.fit(model, nn.CrossEntropyLoss(), opt, blobs(8), val=unlabelled, progress=False)
    with pytest.raises(ValueError, match=r"evaluation data has no targets"):
        xg.train.evaluate(model, unlabelled, nn.CrossEntropyLoss())
    assert xg.train.predict(model, unlabelled.X, batch_size=batch_size).shape == (8, 2)


def test_empty_data(backend):
    model = small_model()
    empty = (np.zeros((0, 2), np.float32), np.zeros(0, np.int64))
    out = xg.train.predict(model, empty[0])
    assert out.shape == (0, 2) and out.backend == backend
    with pytest.raises(ValueError, match="evaluation data gives no batches"):
        xg.train.evaluate(model, empty, nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="training data gives no batches"):
        xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                     xg.data.DataLoader(*blobs(5), batch_size=8, drop_last=True), progress=False)


def test_plotting_an_empty_history_is_a_clear_error(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="no epochs recorded"):
        xg.train.History().plot(tmp_path / "curves.png")
    assert not list(tmp_path.iterdir())


def test_accuracy_reads_every_target_form(backend):
    """Class indices (N,) or Keras's sparse (N, 1) labels, one-hot rows, and single outputs
    thresholded at 0.5; an (N, 1) column of indices was taken as one-hot (argmax over one
    column: always 0)."""
    from xpgrad.train.metrics import accuracy

    scores = xg.tensor([[0.1, 0.2, 0.9], [0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1]])
    assert accuracy(scores, xg.tensor([2, 1, 0, 0])) == 0.75
    assert accuracy(scores, xg.tensor([[2], [1], [0], [0]])) == 0.75
    assert accuracy(scores, xg.tensor(np.eye(3)[[2, 1, 0, 0]])) == 0.75
    assert accuracy(xg.tensor([[0.9], [0.2], [0.6]]), xg.tensor([[1.0], [1.0], [0.0]])) == 1 / 3


def test_callbacks_check_their_mode(tmp_path):
    """Any mode but "min" worked as "max": EarlyStopping(mode="minimize") on val_loss stopped at
    once and restored the worst weights."""
    with pytest.raises(ValueError, match="mode must be 'min', 'max' or None"):
        xg.train.EarlyStopping(mode="minimize")
    with pytest.raises(ValueError, match="mode must be 'min', 'max' or None"):
        xg.train.ModelCheckpoint(str(tmp_path / "ckpt"), mode="bogus")


def test_metric_names_must_be_distinct_and_not_what_fit_logs(backend):
    def loss(output, target):
        return 123.0

    def first(output, target):
        return 1.0

    X, y = blobs()
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    for metrics in ([lambda o, t: 1.0, lambda o, t: 2.0], [loss], [first, first], ["accuracy", "accuracy"]):
        with pytest.raises(ValueError, match="is taken"):
            xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=1, progress=False, metrics=metrics)
    history = xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=1, progress=False,
                           metrics="accuracy")  # one name alone, not its letters
    assert "accuracy" in history.history


def test_metrics_may_return_tensors(backend, capsys):
    """A metric returning a 0-d Tensor crashed the epoch line (Tensor had no __format__) and was
    stored as a Tensor in the history."""
    def acc(output, target):
        return (output.argmax(axis=1) == target).astype("float32").mean()

    X, y = blobs()
    model = small_model()
    history = xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                           val=(X, y), epochs=2, progress=True, metrics=[acc])
    assert all(type(v) is float for v in history.history["acc"] + history.history["val_acc"])
    assert f"{xg.tensor(0.5):.4f}" == "0.5000"
    with pytest.raises(TypeError, match="only 0-d tensors"):
        f"{xg.ones(2):.4f}"

    def bad(output, target):
        return output

    with pytest.raises(TypeError, match="metric 'bad' returned Tensor"):
        xg.train.evaluate(model, (X, y), None, [bad])


def test_model_checkpoint_into_a_missing_directory_fails_before_training(backend, tmp_path):
    X, y = blobs()
    model = small_model()
    before = {k: v.numpy() for k, v in model.state_dict().items()}
    checkpoint = xg.train.ModelCheckpoint(str(tmp_path / "missing" / "best.npz"), monitor="loss")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                     epochs=1, progress=False, callbacks=[checkpoint])
    for key, value in model.state_dict().items():  # not one epoch trained
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_evaluate_and_predict_give_every_layer_its_own_mode_back(backend):
    """A BatchNorm frozen in eval mode inside a training model was left in training mode:
    evaluate and predict saved ``model.training`` alone and reset every layer to it."""
    X, y = blobs(20)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train()
    model[1].eval()
    modes = [m.training for m in model.modules()]
    xg.train.evaluate(model, (X, y), nn.CrossEntropyLoss())
    assert [m.training for m in model.modules()] == modes
    xg.train.predict(model, X)
    assert [m.training for m in model.modules()] == modes


class DtypeRecorder(nn.Module):
    """A float64 Linear that remembers the dtype of every batch it is given."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2, dtype="float64")
        self.seen = set()

    def forward(self, x):
        self.seen.add(str(x.dtype))
        return self.linear(x)


def test_a_float64_model_gets_float64_inputs(backend):
    """fit, evaluate and predict batched (X, y) pairs as float32 whatever the model's dtype: a
    float64 model's predictions on inputs near 1e4 were off by 1e-4."""
    X, y = blobs(20)
    X = X.astype(np.float64) + 1e4
    model = DtypeRecorder()
    with xg.no_grad():
        direct = model(xg.tensor(X, dtype="float64")).numpy()
    out = xg.train.predict(model, X, batch_size=8)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), direct, rtol=1e-12)
    assert xg.train.predict(model, X[:0]).dtype == np.float64
    targets = direct + 1.0
    loss = xg.train.evaluate(model, (X, targets), nn.MSELoss(), metrics=())["loss"]
    assert loss == pytest.approx(1.0, rel=1e-9)
    xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), (X, y),
                 val=(X, y), progress=False)
    assert model.seen == {"float64"}


@pytest.mark.parametrize("patience", [-1, "a", 1.5, True])
def test_early_stopping_checks_its_patience(patience):
    """patience=-1 and "a" were accepted: -1 stopped after the first epoch, "a" crashed at the
    end of the first epoch's training."""
    with pytest.raises(ValueError, match=f"EarlyStopping: patience must be an int >= 0, got {patience!r}"):
        xg.train.EarlyStopping(patience=patience)
    assert xg.train.EarlyStopping(patience=np.int64(0)).patience == 0


def test_fit_checks_its_scheduler_before_training(backend):
    """scheduler="step" trained a whole epoch, then raised AttributeError; a scheduler built on
    another optimizer was stepped without effect on this fit's learning rate."""
    X, y = blobs()
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.numpy() for k, v in model.state_dict().items()}
    with pytest.raises(TypeError, match="fit: scheduler must have a step\\(\\) method, got str"):
        xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), progress=False, scheduler="step")
    other = optim.SGD(small_model().parameters(), lr=0.3)
    with pytest.raises(ValueError, match="fit: scheduler drives another optimizer"):
        xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), progress=False,
                     scheduler=optim.lr_scheduler.StepLR(other, 1))
    with pytest.raises(ValueError, match="build it with mode='min', not 'max'"):  # halved the rate as the loss fell
        xg.train.fit(model, nn.CrossEntropyLoss(), opt, (X, y), progress=False,
                     scheduler=optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max"))
    for key, value in model.state_dict().items():  # not one batch trained
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_a_stop_from_a_batch_callback_ends_the_epoch_after_that_batch(backend):
    """state.stop set in on_batch_end was read only at the epoch's end, so the rest of the epoch
    trained. As Keras 3, the epoch now ends after that batch; it is still validated and recorded,
    its training logs averaged over the batches it ran."""
    X, y = blobs(40)
    model = small_model()
    batch_losses = []

    def stop_at_second_batch(state, index, logs):
        batch_losses.append(logs["loss"])
        state.stop = index == 1

    seen_epochs = []
    history = xg.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                           val=(X, y), epochs=3, batch_size=4, progress=True,
                           callbacks=[xg.train.LambdaCallback(on_batch_end=stop_at_second_batch,
                                                              on_epoch_end=lambda s, logs: seen_epochs.append(s.epoch))])
    assert len(batch_losses) == 2 and history.epoch == [1] and seen_epochs == [1]
    assert history.stopped_early and len(history.history["val_loss"]) == 1
    assert history.history["loss"] == [pytest.approx(sum(batch_losses) / 2)]


def test_predict_names_a_loader_or_pair_given_for_its_inputs(backend):
    """predict(model, DataLoader) failed with "DataLoader needs arrays with a sample axis, got a
    0-d value", predict(model, (X, y)) with NumPy's "inhomogeneous shape"."""
    X, y = blobs()
    model = small_model()
    for data in (xg.data.DataLoader(X, y), (X, y)):
        with pytest.raises(TypeError, match="predict takes the inputs X"):
            xg.train.predict(model, data)
