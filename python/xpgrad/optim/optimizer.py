"""Optimizer: parameter groups, per-parameter state, and the step loop shared by every algorithm.

A subclass supplies its defaults, ``_validate_group`` (hyper-parameter checks) and ``_update``
(one parameter's update, a call to the backend's fused ``*_update`` on raw arrays). State
buffers are created lazily, on the parameter's backend with the parameter's dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd import enable_grad, mark_modified, no_grad
from ..counts import is_flag, is_real
from ..creation import full
from ..tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: ``param_groups`` (dicts with ``"params"``, ``"lr"`` and the hyper-parameters),
    ``state`` (a dict per parameter), ``zero_grad()``, ``step()``, ``state_dict()``,
    ``load_state_dict()`` — as in PyTorch."""

    # Whether state["step"] counts a parameter's updates (read by bias corrections and rate
    # decays through _next_step); step() adds one once _update has returned, so that an update
    # interrupted inside its kernel (Ctrl-C) does not count.
    counts_steps = False

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or of dicts, got a Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "params must be an ordered iterable; a set's order changes between runs"
            )
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {settings}")
        return "\n".join(lines) + "\n)"

    # ---- parameter groups -------------------------------------------------------------------
    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters; hyper-parameters it does not set take the defaults."""
        if not isinstance(group, dict):
            raise TypeError(f"param_group must be a dict, got {type(group).__name__}")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("a parameter group's params must be ordered, got a set")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizers can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one produced by a recorded op)")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        full_group = {**self.defaults, **group, "params": params}
        self._validate_group(full_group)
        self.param_groups.append(full_group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError for an invalid hyper-parameter; subclasses extend with their own."""
        check_non_negative(group, "lr")

    def state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        """What a parameter's state holds once it has been updated with ``group``'s settings: a
        loaded state lacking one would have it re-created as zeros beside the old step count
        (PyTorch raises KeyError at the step). SGD's momentum buffer may be absent (a first step)."""
        return ()

    # ---- the update -------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients, so that the next backward starts afresh: ``grad = None`` (the
        default), or with ``set_to_none=False`` zero them in place (detached from any graph
        first), as in PyTorch."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    if p.grad.requires_grad:  # made by backward(create_graph=True)
                        p.grad = p.grad.detach()
                    p.grad.data[...] = 0
                    mark_modified(p.grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (those with ``grad is None`` are skipped).

        ``closure`` (optional) re-evaluates the model and returns the loss, as in PyTorch.
        The update goes parameter by parameter: an interrupt (Ctrl-C) in the middle leaves the
        earlier parameters updated and the later ones not, as in PyTorch.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.shape != p.shape:  # NumPy would broadcast it into the update
                        raise ValueError(f"{type(self).__name__}.step: a parameter of shape {p.shape} "
                                         f"has a gradient of shape {p.grad.shape}")
                    state = self.state.get(p)
                    if state is None:
                        state = self.state[p] = {}
                    self._update(p, p.grad.data, state, group)
                    if self.counts_steps:
                        state["step"] = self._next_step(state)
                    mark_modified(p)  # a graph recorded before the step must not use the new values
        return loss

    def _update(
        self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update ``param.data`` in place from the raw gradient array ``grad``."""
        raise NotImplementedError

    @staticmethod
    def _buffer(state: dict[str, Any], name: str, param: Tensor, fill: float = 0.0) -> Any:
        """The raw array of state buffer ``name``, created (filled with ``fill``) on first use and
        moved to the parameter's backend when the parameter moved (``model.to``) since."""
        buffer = state.get(name)
        if buffer is None:
            buffer = state[name] = full(
                param.shape, fill, dtype=param.dtype, backend=param.backend_obj
            )
        elif buffer.backend_obj is not param.backend_obj:
            buffer = state[name] = buffer.to(param.backend_obj)
        return buffer.data

    @staticmethod
    def _next_step(state: dict[str, Any]) -> int:
        """The number of this parameter's coming update (1 for the first)."""
        return state.get("step", 0) + 1

    # ---- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are referenced by their position over all groups, as in PyTorch; buffers are
        copied, so the dict is a snapshot that later steps do not change.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: _snapshot(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict` (from any backend).

        The groups must match this optimizer's in number and size. Buffers are copied onto each
        parameter's backend with its dtype; integer entries (the step count) become ints.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {i}: loaded state dict has {len(saved['params'])} parameters, "
                    f"this optimizer has {len(group['params'])}"
                )
        by_index = {
            int(old): p
            for group, saved in zip(self.param_groups, saved_groups)
            for old, p in zip(saved["params"], group["params"])
        }
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            settings = {k: v for k, v in saved.items() if k != "params"}
            new_group = {**self.defaults, **settings, "params": group["params"]}
            self._validate_group(new_group)
            new_groups.append(new_group)
        group_of = {id(p): group for group in new_groups for p in group["params"]}
        new_state = {}
        for i, values in state_dict["state"].items():
            try:
                param = by_index.get(int(i))
            except (TypeError, ValueError):
                param = None
            if param is None:
                raise ValueError(f"loaded state dict has state for parameter {i!r}, which no group lists")
            missing = [k for k in self.state_keys(group_of[id(param)]) if values and k not in values]
            if missing:
                raise ValueError(f"loaded state of parameter {i!r} lacks {', '.join(map(repr, missing))} "
                                 f"({type(self).__name__} keeps {', '.join(self.state_keys(group_of[id(param)]))})")
            new_state[param] = {k: _restore(v, param, k) for k, v in values.items()}
        self.param_groups = new_groups
        self.state = new_state


def _snapshot(value: Any) -> Any:
    if isinstance(value, Tensor):
        return Tensor._wrap(value.data.copy(), value.backend_obj, False)
    return value


def _restore(value: Any, param: Tensor, name: str) -> Any:
    """A saved state value as this parameter's state: a buffer like ``param``, or a count (an int
    >= 0, such as the step)."""
    if value is None or isinstance(value, float):
        return value
    backend = param.backend_obj
    array = value.to(backend).data if isinstance(value, Tensor) else backend.asarray(value)
    if array.dtype.kind not in "iubf":
        raise ValueError(f"state {name!r} must be a count or an array of numbers, got {value!r:.80}")
    if array.dtype.kind in "iub":
        if array.ndim or int(array) < 0:
            raise ValueError(f"state {name!r} must be a count >= 0, got {value!r}")
        return int(array)
    if array.shape != param.shape:
        raise ValueError(
            f"state {name!r} has shape {tuple(array.shape)}, its parameter has shape {tuple(param.shape)}"
        )
    return Tensor._wrap(array.astype(param.dtype, copy=True), backend, False)


def check_non_negative(group: dict[str, Any], *names: str) -> None:
    """ValueError unless every ``group[name] >= 0`` (NaN fails too)."""
    for name in names:
        value = group[name]
        if not (is_real(value) and value >= 0):
            raise ValueError(f"invalid {name}: {value!r} (must be a number >= 0)")


def check_bool(group: dict[str, Any], name: str, hint: str = "") -> None:
    """TypeError unless ``group[name]`` is True or False (a NumPy bool too); ``hint`` ends the
    message."""
    value = group[name]
    if not is_flag(value):
        raise TypeError(f"{name} must be True or False, got {value!r}{hint}")


def check_betas(group: dict[str, Any]) -> None:
    """ValueError unless ``betas`` is a pair with 0 <= β < 1."""
    betas = group["betas"]
    if len(betas) != 2:
        raise ValueError(f"invalid betas: {betas} (must be a pair (beta1, beta2))")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"invalid beta parameter at index {i}: {beta} (must be in [0, 1))")
