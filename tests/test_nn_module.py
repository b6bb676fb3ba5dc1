"""The Module API: registration, traversal, modes, state_dict round trips and strict errors,
freezing, moving between backends, and summary()."""

import threading

import numpy as np
import pytest
from nn_support import BACKENDS

import xpgrad as xg
import xpgrad.nn.functional as F
from xpgrad import nn
from xpgrad.nn.module import evaluation_mode


def mlp():
    return nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
    )


class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5))
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(xg.ones(1))

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


def test_registration_and_traversal(backend):
    model = TwoBranch()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "scale",
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.1.weight",
        "encoder.1.bias",
        "head.weight",
        "head.bias",
    ]  # own parameters first, then the children's (as PyTorch)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert [type(m).__name__ for m in model.children()] == ["Sequential", "Linear"]
    assert len(list(model.modules())) == 7
    assert [name for name, _ in model.named_buffers()] == [
        "encoder.1.running_mean",
        "encoder.1.running_var",
        "encoder.1.num_batches_tracked",
    ]
    shared = nn.Linear(2, 2)
    assert len(list(nn.Sequential(shared, shared).parameters())) == 2


def test_missing_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_assigning_a_plain_tensor_to_a_parameter_is_an_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        layer.weight = xg.zeros(2, 2)
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_train_and_eval_reach_every_submodule(backend):
    model = TwoBranch()
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_round_trip(backend):
    xg.manual_seed(0)
    source = TwoBranch()
    source(xg.randn(6, 4))  # moves the running statistics away from their initial values
    state = source.state_dict()
    assert list(state) == [
        "scale",
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.1.weight",
        "encoder.1.bias",
        "encoder.1.running_mean",
        "encoder.1.running_var",
        "encoder.1.num_batches_tracked",
        "head.weight",
        "head.bias",
    ]
    target = TwoBranch()
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    x = xg.randn(5, 4)
    np.testing.assert_array_equal(source.eval()(x).numpy(), target.eval()(x).numpy())


def test_load_state_dict_accepts_numpy_arrays_and_keeps_the_objects(backend):
    model = nn.Linear(3, 2)
    weight = model.weight
    model.load_state_dict({"weight": np.arange(6.0).reshape(3, 2), "bias": np.array([1.0, -1.0])})
    assert model.weight is weight and model.weight.dtype == "float32"
    assert model.bias.tolist() == [1.0, -1.0] and model.weight.tolist() == [[0, 1], [2, 3], [4, 5]]


def test_load_state_dict_strict_errors(backend):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    state = model.state_dict()
    with pytest.raises(RuntimeError, match=r"size mismatch for '0.weight'.*\(3, 4\).*\(3, 2\)"):
        model.load_state_dict({**state, "0.weight": np.zeros((3, 4))})
    partial = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(RuntimeError, match="missing key.*'2.bias'"):
        model.load_state_dict(partial)
    with pytest.raises(RuntimeError, match="unexpected key.*'3.weight'"):
        model.load_state_dict({**state, "3.weight": np.zeros(1)})
    result = model.load_state_dict({**partial, "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra"]


def test_load_state_dict_across_backends():
    if len(BACKENDS) < 2:
        pytest.skip("needs two backends")
    source = nn.Linear(3, 2).to(BACKENDS[0])
    target = nn.Linear(3, 2).to(BACKENDS[1])
    target.load_state_dict(source.state_dict())
    assert target.weight.backend == BACKENDS[1]
    np.testing.assert_array_equal(target.weight.numpy(), source.weight.numpy())


def test_to_moves_parameters_and_buffers_in_place():
    model = TwoBranch()
    params = list(model.parameters())
    for name in BACKENDS:
        assert model.to(name) is model
        assert all(p.backend == name for p in model.parameters())
        assert all(b.backend == name for b in model.buffers())
        assert all(a is b for a, b in zip(params, model.parameters()))
        model(xg.randn(4, 4, backend=name)).sum().backward()
        assert all(p.grad.backend == name for p in model.parameters())


def test_zero_grad_and_freezing(backend):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model[0].requires_grad_(False)  # freeze the first layer (transfer learning)
    model(xg.randn(5, 3)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None
    assert (
        "Trainable params: 10" in model.summary() and "Non-trainable params: 16" in model.summary()
    )
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(True)
    model(xg.randn(5, 3)).sum().backward()
    assert model[0].weight.grad is not None


def test_summary_of_the_784_512_512_10_mlp(backend):
    text = mlp().summary(input_shape=(784,))
    rows = [line.split() for line in text.splitlines() if "(Linear)" in line]
    assert [row[-1] for row in rows] == ["401,920", "262,656", "5,130"]
    assert [" ".join(row[2:-1]) for row in rows] == ["(None, 512)", "(None, 512)", "(None, 10)"]
    assert "Total params: 669,706" in text and "Trainable params: 669,706" in text
    assert text.count("(ReLU)") == 2


def test_summary_records_shapes_of_the_last_forward(backend):
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 10)
    )
    assert "?" in model.summary()
    model(xg.zeros(7, 1, 8, 8))
    text = model.summary()
    assert "(None, 4, 6, 6)" in text and "(None, 4, 3, 3)" in text and "(None, 36)" in text
    assert f"Total params: {4 * 9 + 4 + 36 * 10 + 10}" in text


def test_summary_gives_a_row_to_a_layer_whose_output_is_not_its_childs(backend):
    # Maxout had no row (only leaves and modules with parameters of their own had one): the
    # table showed its inner Linear's (None, 6) but never its own (None, 3)
    model = nn.Sequential(nn.Linear(4, 6), nn.Maxout(6, 3, 2), nn.Sequential(nn.Softmax()))
    table = model.summary(input_shape=(4,))
    rows = [line.split() for line in table.splitlines() if "(None" in line]
    assert [(row[0], row[1], " ".join(row[2:-1]), row[-1]) for row in rows] == [
        ("0", "(Linear)", "(None, 6)", "30"),
        ("1", "(Maxout)", "(None, 3)", "0"),
        ("1.linear", "(Linear)", "(None, 6)", "42"),
        ("2.0", "(Softmax)", "(None, 3)", "0"),
    ]  # a Sequential passes on its last layer's output: no row of its own
    assert "Total params: 72" in table


def test_summary_restores_training_mode(backend):
    model = TwoBranch()
    model.summary(input_shape=(4,))
    assert all(m.training for m in model.modules())
    assert model.encoder[1].running_mean.tolist() == [0.0] * 8  # evaluation mode: stats untouched


def test_overlapping_evaluations_in_threads_give_the_model_its_modes_back():
    """Two threads in evaluation_mode on one model (train.predict/evaluate from two threads),
    the second entering while the first is inside and leaving last: the second must not save
    the first's temporary eval mode and restore it for good."""
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Dropout(0.5))
    model[1].eval()  # a frozen BatchNorm inside a training model keeps its own mode
    modes = [m.training for m in model.modules()]
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with evaluation_mode(model):
            first_in.set()
            second_in.wait(5)
            seen.append(model.training)
        first_out.set()

    def second():
        first_in.wait(5)
        with evaluation_mode(model):
            second_in.set()
            first_out.wait(5)
            seen.append(model.training)  # still evaluating after the first one left

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert first_out.is_set() and seen == [False, False]
    assert [m.training for m in model.modules()] == modes


def test_sequential_fusion_gives_the_same_result(backend):
    xg.manual_seed(0)
    fused = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid())
    x = xg.randn(5, 3)
    np.testing.assert_allclose(
        fused(x).numpy(), F.sigmoid(x @ fused[0].weight + fused[0].bias).numpy(), rtol=1e-6
    )
    assert fused[1].last_output_shape == (5, 4)


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Sigmoid, nn.Tanh])
def test_sequential_fuses_an_activation_into_a_convolution(backend, activation):
    """Conv2d + activation runs as one kernel: the same values and gradients as the two layers
    apart, one graph node less, and the activation layer still records its output shape."""
    xg.manual_seed(0)
    fused = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), activation())
    x = xg.randn(2, 2, 5, 4, requires_grad=True)
    y = fused(x)
    apart = activation()(fused[0](x))
    np.testing.assert_allclose(y.numpy(), apart.numpy(), rtol=1e-6, atol=1e-7)
    assert y.grad_fn is not apart.grad_fn and type(y.grad_fn) is not type(apart.grad_fn)
    assert fused[1].last_output_shape == (2, 3, 5, 4)
    gy = xg.randn(*y.shape)
    ours = xg.grad(y, [x, fused[0].weight, fused[0].bias], grad_outputs=gy)
    theirs = xg.grad(apart, [x, fused[0].weight, fused[0].bias], grad_outputs=gy)
    for g, want in zip(ours, theirs):
        np.testing.assert_allclose(g.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("base", [nn.ReLU, nn.Sigmoid, nn.Tanh])
def test_sequential_runs_the_forward_of_activation_subclasses(backend, base):
    class Doubled(base):
        def forward(self, x):
            return 2 * super().forward(x)

    xg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), Doubled())
    x = xg.randn(5, 3)
    expected = 2 * base()(x @ model[0].weight + model[0].bias).numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)


def test_sequential_slices_keep_the_layer_names_as_pytorch(backend):
    torch = pytest.importorskip("torch")
    from collections import OrderedDict

    ours = nn.Sequential(OrderedDict([("a", nn.Linear(4, 3)), ("b", nn.ReLU()), ("c", nn.Tanh())]))
    theirs = torch.nn.Sequential(
        OrderedDict([("a", torch.nn.Linear(4, 3)), ("b", torch.nn.ReLU()), ("c", torch.nn.Tanh())])
    )
    for index in (slice(0, 1), slice(1, None), slice(None, None, 2)):
        assert list(ours[index].state_dict()) == list(theirs[index].state_dict())
        assert [n for n, _ in ours[index].named_children()] == [
            n for n, _ in theirs[index].named_children()
        ]
    assert ours[0:1][0] is ours.a
    x = xg.randn(2, 4)
    np.testing.assert_array_equal(ours[0:2](x).numpy(), ours.b(ours.a(x)).numpy())


def test_shared_modules_are_traversed_once_as_pytorch(backend):
    torch = pytest.importorskip("torch")
    shared, shared_t = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    bn, bn_t = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    ours = nn.Sequential(shared, nn.ReLU(), shared, bn, bn)
    theirs = torch.nn.Sequential(shared_t, torch.nn.ReLU(), shared_t, bn_t, bn_t)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert len(list(ours.modules())) == len(list(theirs.modules())) == 4
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())  # every name
    ours.load_state_dict(ours.state_dict())


def test_repr_lists_layers():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.2)))
    assert (
        "(0): Linear(in_features=2, out_features=3, bias=True)" in text and "Dropout(p=0.2" in text
    )


def test_models_deep_copy_and_pickle(backend):
    import copy
    import pickle

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU())
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone[0].weight is not model[0].weight
        assert clone[0].weight.backend == backend
        x = xg.randn(4, 2)
        np.testing.assert_array_equal(clone.eval()(x).numpy(), model.eval()(x).numpy())


def test_in_place_weight_writes_invalidate_recorded_graphs(backend):
    """load_state_dict and nn.init write parameters in place: a loss recorded before either
    cannot be differentiated any more when its backward reads the weight (∂L/∂x = G·Wᵀ; PyTorch
    raises the same), one recorded after can. With a constant x, ∂L/∂W = xᵀ·G alone is
    computed, which reads no weight: that backward works, as in PyTorch."""
    with xg.use_backend(backend):
        layer = nn.Linear(3, 2)
        x = xg.ones(4, 3, requires_grad=True)
    for write in (lambda: layer.load_state_dict(layer.state_dict()), lambda: nn.init.zeros_(layer.weight)):
        stale = layer(x).sum()
        of_constant = layer(x.detach()).sum()
        write()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            stale.backward()
        layer.zero_grad()
        of_constant.backward()
        np.testing.assert_allclose(layer.weight.grad.numpy(), np.full((3, 2), 4.0))
        layer.zero_grad()
        layer(x).sum().backward()
        np.testing.assert_allclose(layer.weight.grad.numpy(), np.full((3, 2), 4.0))


def test_sequential_rejects_what_is_not_a_module():
    # a function such as F.relu was kept as a plain attribute: silently left out of the model
    for make in (lambda: nn.Sequential(nn.Linear(2, 2), F.relu), lambda: nn.Sequential().append(F.relu),
                 lambda: nn.Sequential().append(3)):
        with pytest.raises(TypeError, match="is not a Module subclass"):
            make()


def test_append_to_a_slice_does_not_replace_a_layer():
    tail = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))[1:]  # names "1", "2"
    tail.append(nn.Sigmoid())
    assert [type(layer).__name__ for layer in tail] == ["ReLU", "Linear", "Sigmoid"]


def test_module_api_of_pytorch_users():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 3), nn.ReLU()))
    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited == ["Linear", "Linear", "ReLU", "Sequential", "Sequential"]  # children first
    assert model.get_submodule("1.0") is model[1][0] and model.get_submodule("") is model
    with pytest.raises(AttributeError, match="no sub-module '7'"):
        model.get_submodule("1.7")
    assert [n for n, _ in model.named_parameters(prefix="net")][:2] == ["net.0.weight", "net.0.bias"]
    assert list(model.parameters(recurse=False)) == [] and len(list(model[0].parameters(recurse=False))) == 2
    model.add_module("head", nn.Linear(3, 1))
    assert model.head is model.get_submodule("head")
    with pytest.raises(TypeError, match="not a Module subclass"):
        model.add_module("bad", F.relu)
    with pytest.raises(KeyError, match="without '.'"):
        model.add_module("a.b", nn.ReLU())


def test_registration_and_modes_check_their_arguments():
    module = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="buffer 'x' must be a Tensor or None, got int"):
        module.register_buffer("x", 3)
    with pytest.raises(TypeError, match="must be an nn.Parameter"):
        module.register_parameter("w", xg.ones(2))
    with pytest.raises(ValueError, match="expected to be boolean"):
        module.train("False")
    assert module.training
    for momentum in (1.5, "0.1", True):
        with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\] or None"):
            nn.BatchNorm1d(3, momentum=momentum)


@pytest.mark.skipif("cpu" not in xg.available_backends(), reason="needs the cpu backend beside numpy")
def test_optimizer_state_follows_its_parameters_to_another_backend():
    with xg.use_backend("numpy"):
        model, x = nn.Linear(3, 2), xg.ones(4, 3)
    opt = xg.optim.Adam(model.parameters(), lr=0.1)
    model(x).sum().backward()
    opt.step()
    model.to("cpu")
    opt.zero_grad()
    model(x.to("cpu")).sum().backward()
    opt.step()
    assert {buffer.backend for buffer in opt.state[model.weight].values() if isinstance(buffer, xg.Tensor)} == {"cpu"}


def test_summary_rows_add_up_to_the_total():
    class Scaled(nn.Module):  # parameters of its own beside a child's
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(xg.ones(1))
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x) * self.scale

    table = Scaled().summary(input_shape=(2,))
    counts = [int(line.split()[-1]) for line in table.splitlines() if line.startswith(("scaled", "lin"))]
    assert counts == [1, 6] and "Total params: 7" in table


def test_registered_names_are_checked_as_pytorch_does():
    """register_parameter over a plain attribute left the attribute shadowing the parameter
    (forward used 5, parameters() trained a hidden Parameter); names with '.', empty names,
    names of a sub-module and names that are no strings were accepted."""
    module = nn.Linear(1, 1)
    module.w = 5
    module.register_buffer("stats", xg.zeros(1))
    for register, value, taken in ((module.register_parameter, nn.Parameter(xg.ones(2)), "stats"),
                                   (module.register_buffer, xg.ones(2), "bias")):
        for name in ("w", taken):  # a plain attribute, a name in the other registry
            with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
                register(name, value)
        for name in ("a.b", ""):
            with pytest.raises(KeyError, match="non-empty string without '.'"):
                register(name, value)
        with pytest.raises(TypeError, match="name must be a string, got int"):
            register(3, value)
    assert module.w == 5 and [name for name, _ in module.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in module.named_buffers()] == ["stats"]
    model = nn.Sequential(nn.Linear(1, 1))
    with pytest.raises(KeyError, match="attribute '0' already exists"):
        model.register_parameter("0", nn.Parameter(xg.ones(1)))
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        model.add_module("training", nn.ReLU())
    with pytest.raises(TypeError, match="name must be a string, got int"):
        model.add_module(1, nn.ReLU())
    module.register_parameter("bias", None)  # a name may be registered again in its own registry
    module.register_buffer("stats", xg.ones(1))
    assert module.bias is None and module.stats.tolist() == [1.0]


def test_assigning_a_non_module_or_non_parameter_over_one_is_an_error():
    """m.sub = 5 silently dropped the sub-module sub (as torch, a TypeError); None keeps the
    name registered, as an absent one."""
    model = nn.Sequential(nn.Linear(1, 1))
    model.sub = nn.ReLU()
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module 'sub' \(nn.Module or None expected\)"):
        model.sub = 5
    layer = model[0]
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as parameter 'weight' \(nn.Parameter or None expected\)"):
        layer.weight = xg.ones((1, 1))
    assert isinstance(model.sub, nn.ReLU) and isinstance(layer.weight, nn.Parameter)
    model.sub = None
    assert model.sub is None and "sub" in model._modules


@pytest.mark.parametrize("state", [None, [("weight", np.ones((1, 1)))], "weight"])
def test_load_state_dict_wants_a_mapping(state):
    with pytest.raises(TypeError, match=f"expected a dict-like state_dict, got {type(state).__name__}"):
        nn.Linear(1, 1).load_state_dict(state)


def test_requires_grad_wants_a_bool():
    """requires_grad_("no") unfroze every parameter (any non-empty string is true)."""
    model = nn.Linear(2, 2).requires_grad_(False)
    for flag in ("no", 0, None):
        with pytest.raises(TypeError, match=f"requires_grad must be a bool, got {flag!r}"):
            model.requires_grad_(flag)
    assert not any(p.requires_grad for p in model.parameters())
    assert all(p.requires_grad for p in model.requires_grad_(True).parameters())
