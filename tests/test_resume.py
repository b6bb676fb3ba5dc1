"""Save → kill → resume: a run interrupted after epoch 2 and resumed from its checkpoint ends
with exactly the parameters of an uninterrupted run."""

import os
import subprocess
import sys
import textwrap

import numpy as np

import xpgrad as xg

TRAINING = textwrap.dedent(
    """
    import os
    import numpy as np
    import xpgrad as xg
    import xpgrad.nn as nn
    import xpgrad.optim as optim

    def run(epochs, checkpoint, die_after=None, resume=False):
        xg.set_backend("{backend}")
        xg.manual_seed(0)
        rng = np.random.default_rng(0)
        X = rng.standard_normal((256, 8)).astype(np.float32)
        y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
        model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2))
        opt = optim.Adam(model.parameters(), lr=0.01)
        loader = xg.data.DataLoader(X, y, batch_size=32, seed=7)
        start = 0
        if resume:
            state = xg.load(checkpoint)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            start = state["epoch"]

        def save(state, logs):
            xg.save({{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": state.epoch}}, checkpoint)
            if state.epoch == die_after:
                os._exit(17)  # killed: no cleanup, no further epochs

        xg.train.fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=epochs, progress=False,
                     callbacks=[xg.train.LambdaCallback(on_epoch_end=save)], initial_epoch=start)
        return model
    """
)


def test_interrupted_run_resumes_to_the_same_parameters(backend, tmp_path):
    source = TRAINING.format(backend=backend)
    checkpoint = str(tmp_path / "run.npz")
    killed = subprocess.run(
        [sys.executable, "-c", source + f"\nrun(4, {checkpoint!r}, die_after=2)"],
        capture_output=True, text=True, env=dict(os.environ),
    )
    assert killed.returncode == 17, killed.stderr
    assert xg.load(checkpoint)["epoch"] == 2

    namespace = {}
    exec(compile(source, "training", "exec"), namespace)
    resumed = namespace["run"](4, checkpoint, resume=True)
    uninterrupted = namespace["run"](4, str(tmp_path / "other.npz"))
    for (name, a), (_, b) in zip(resumed.state_dict().items(), uninterrupted.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
