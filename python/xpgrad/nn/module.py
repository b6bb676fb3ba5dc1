"""Module: a layer or model that owns Parameters, buffers and sub-modules (PyTorch's API).

Attributes assigned a Parameter, a Module or a registered buffer are tracked automatically, in
assignment order, which fixes the order of ``parameters()`` and the keys of ``state_dict()``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from ..autograd import mark_modified, no_grad
from ..backends.registry import get_backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable parameter of a Module (``requires_grad=True`` by default).

    It keeps the dtype of the Tensor or array it wraps (float64 stays float64); ``dtype``
    overrides it. Python floats and lists of them become float32 as in ``xg.tensor``; integers
    become int64 there, which cannot require grad (TypeError, as PyTorch's), so give ``dtype``.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None, backend=None) -> None:
        if isinstance(data, Tensor) and backend is None:
            backend = data.backend_obj
        if dtype is None:
            dtype = getattr(data, "dtype", None)
        super().__init__(data, dtype=dtype, requires_grad=requires_grad, backend=backend)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclasses set attributes in ``__init__`` (after calling
    ``super().__init__()``) and implement ``forward``; ``module(x)`` runs ``forward(x)``."""

    training: bool
    # Buffers that checkpoints of earlier versions lack: loading such a checkpoint keeps their
    # values instead of reporting them missing (BatchNorm's num_batches_tracked).
    _absent_from_old_checkpoints: tuple[str, ...] = ()

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "last_output_shape", None)

    # ---- attribute bookkeeping ------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        registries = (self._parameters, self._buffers, self._modules)
        if isinstance(value, Parameter):
            target = self._parameters
        elif isinstance(value, Module):
            target = self._modules
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"buffer {name!r} must be a Tensor or None, got {type(value).__name__}"
                )
            target = self._buffers
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__!r} as parameter {name!r} "
                                "(nn.Parameter or None expected)")
            target = self._parameters
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__!r} as child module {name!r} "
                                "(nn.Module or None expected)")
            target = self._modules
        else:
            for registry in registries:
                registry.pop(name, None)
            object.__setattr__(self, name, value)
            return
        for registry in registries:
            if registry is not target:
                registry.pop(name, None)
        self.__dict__.pop(name, None)
        target[name] = value

    def __getattr__(self, name: str) -> Any:  # only called when normal lookup fails
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def _check_name(self, name, kind: str, registry: dict) -> None:
        """As PyTorch: ``name`` is a string (else TypeError), non-empty and without '.', and not
        an attribute of this module but one already in ``registry`` (else KeyError), so that an
        attribute never shadows the registered value and a name is in one registry at most."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        if name not in registry and hasattr(self, name):
            raise KeyError(f"attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (None declares an absent optional one, such as ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"parameter {name!r} must be an nn.Parameter or None, got {type(param).__name__}")
        self._check_name(name, "parameter", self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Add state that is saved in ``state_dict`` and moved by ``to`` but not trained
        (BatchNorm's running statistics)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"buffer {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._check_name(name, "buffer", self._buffers)
        self._buffers[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module under ``name`` (as assigning the attribute; None declares an absent
        one)."""
        if module is not None and not isinstance(module, Module):  # (Sequential(F.relu) would drop it)
            raise TypeError(f"{module!r} is not a Module subclass (wrap a function in a Module, e.g. nn.ReLU())")
        self._check_name(name, "module", self._modules)
        self._modules[name] = module

    def get_submodule(self, target: str) -> Module:
        """The descendant at dotted path ``target`` ("" is this module), as PyTorch."""
        module = self
        for name in target.split(".") if target else ():
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module {name!r} (in {target!r})")
            module = child
        return module

    # ---- calling ---------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        object.__setattr__(self, "last_output_shape", getattr(out, "shape", None))  # for summary()
        return out

    # ---- traversal -------------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first; a module
        registered in several places comes once (under its first name) unless
        ``remove_duplicate=False``. ``memo`` holds the modules already yielded (PyTorch's API)."""
        if remove_duplicate:
            memo = set() if memo is None else memo
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(
                    memo, f"{prefix}.{name}" if prefix else name, remove_duplicate
                )

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_tensors(self, registry: str, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) from every module's ``registry`` (``_parameters`` or
        ``_buffers``), or this module's alone without ``recurse``, each tensor once even when
        shared."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for prefix, module in modules:
            for name, tensor in getattr(module, registry).items():
                if tensor is not None and id(tensor) not in seen:
                    seen.add(id(tensor))
                    yield (f"{prefix}.{name}" if prefix else name), tensor

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), each parameter once even when shared; only this module's own
        without ``recurse``; names start with ``prefix`` + "." when given."""
        return self._named_tensors("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer), each buffer once even when shared (see named_parameters)."""
        return self._named_tensors("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ---- modes and gradients ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch statistics) for this module and its descendants."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (``p.grad = None``)."""
        for param in self.parameters():
            param.grad = None

    def apply(self, fn) -> Module:
        """``fn(module)`` for every descendant and then this module (children first, as
        PyTorch): ``model.apply(init_weights)``. Returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter, e.g. layers reused in transfer learning."""
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be a bool, got {requires_grad!r}")
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # ---- placement -------------------------------------------------------------------------------
    def to(self, backend) -> Module:
        """Move every parameter and buffer to ``backend`` in place (the same objects, so an
        optimizer built before the move still holds them); returns self."""
        target = get_backend(backend)
        for tensor in [*self.parameters(), *self.buffers()]:
            if tensor.backend_obj is not target:
                _move(tensor, target)
                if tensor.grad is not None:
                    tensor.grad = tensor.grad.detach().to(target)
        return self

    # ---- state -----------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Dotted name → tensor (detached, sharing storage) for every parameter and buffer; a
        shared module or tensor appears under each of its names, as in PyTorch."""
        state = OrderedDict()
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, tensor in [*module._parameters.items(), *module._buffers.items()]:
                if tensor is not None:
                    state[f"{prefix}.{name}" if prefix else name] = tensor.detach()
        return state

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values (Tensors of any backend, or arrays) into the parameters and buffers in place.

        A shape mismatch is always an error naming the key and both shapes; with ``strict`` so
        are missing and unexpected keys (a buffer that older checkpoints lack is not missing:
        it keeps its value). Returns the keys that did not match; anything but a mapping is a
        TypeError.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        own, optional = {}, set()
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, tensor in [*module._parameters.items(), *module._buffers.items()]:
                if tensor is not None:
                    key = f"{prefix}.{name}" if prefix else name
                    own[key] = tensor
                    if name in module._absent_from_old_checkpoints:
                        optional.add(key)
        missing = [key for key in own if key not in state_dict and key not in optional]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict and unexpected:
            errors.append(
                "unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected)
            )
        if strict and missing:
            errors.append("missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing))
        values = {}
        for key, tensor in own.items():
            if key not in state_dict:
                continue
            value = Tensor(state_dict[key], dtype=tensor.dtype, backend=tensor.backend_obj)
            if value.shape != tensor.shape:
                errors.append(
                    f"size mismatch for {key!r}: the checkpoint has shape {tuple(value.shape)}, "
                    f"the model has shape {tuple(tensor.shape)}"
                )
            values[key] = value
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(errors)
            )
        with no_grad():
            for key, value in values.items():
                own[key].data[...] = value.data
                mark_modified(own[key])
        return IncompatibleKeys(missing, unexpected)

    # ---- description -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown by ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        children = [
            f"  ({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self.named_children()
        ]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"

    def summary(self, input_shape: tuple[int, ...] | None = None) -> str:
        """A Keras-style table: each layer, its output shape and its number of parameters.

        With ``input_shape`` (without the batch axis) a forward pass on a zero batch records
        the output shapes first; otherwise they come from the last forward call ("?" if none).
        """
        from .summary import summary_table

        return summary_table(self, input_shape)


def floating_dtype(model: Module):
    """The dtype ``model`` computes in: its first floating parameter's, else float32."""
    for param in model.parameters():
        if param.dtype.kind == "f":
            return param.dtype
    return "float32"


# The evaluations in progress, by id(model): how many, and the modes the first one found. Kept
# here, not on the model, so that models still deep-copy and pickle (a lock does neither).
_evaluations: dict[int, tuple[int, list[tuple[Module, bool]]]] = {}
_evaluations_lock = threading.Lock()


@contextmanager
def evaluation_mode(model: Module) -> Iterator[Module]:
    """``with evaluation_mode(model):`` runs the block with every layer in eval mode, then gives
    each layer back its own mode (a BatchNorm frozen in eval inside a training model stays so).

    Overlapping evaluations of one model (predict from several threads) share one: the first
    saves the modes, the last restores them; each saving its own would save another's eval mode.
    """
    key = id(model)
    with _evaluations_lock:
        count, modes = _evaluations.get(key, (0, []))
        if not count:
            modes = [(module, module.training) for module in model.modules()]
            model.eval()
        _evaluations[key] = (count + 1, modes)
    try:
        yield model
    finally:
        with _evaluations_lock:
            count, modes = _evaluations.pop(key)
            if count > 1:
                _evaluations[key] = (count - 1, modes)
            else:
                for module, training in modes:
                    object.__setattr__(module, "training", training)


def _move(tensor: Tensor, target) -> None:
    """Re-home ``tensor``'s data on backend ``target`` in place."""
    tensor.data = target.asarray(tensor.backend_obj.to_numpy(tensor.data))
    tensor.backend_obj = target
