"""Tensor: an array of one backend, plus what reverse-mode autodiff needs.

A Tensor holds ``data`` (the raw numpy/cupy array), its Backend, ``grad`` and, when it was
produced by a recorded op, ``_node`` (the autograd Function that made it). Operators and
methods delegate to ``ops``; nothing here knows which array library runs.
"""

from __future__ import annotations

import copy

from . import autograd, ops
from .autograd import Function
from .backends.registry import get_backend
from .functions import elementwise as ew


def resolve_dtype(data_dtype, dtype):
    """The dtype a new tensor gets: ``dtype`` if given, else float32 for floating data."""
    if dtype is not None:
        return dtype
    if data_dtype.kind == "f":
        return "float32"
    return None


def numeric_dtype(dtype):
    """``dtype`` (a NumPy dtype) if a tensor can hold it: bool, integer, unsigned, floating or
    complex; else a TypeError naming it (every creation path checks its result's dtype here)."""
    if dtype.kind not in "biufc":
        raise TypeError(f"tensors hold bool, integer, floating or complex numbers, not dtype {dtype}")
    return dtype


class Tensor:
    """An n-dimensional array with autograd. Create with ``xg.tensor(...)`` or the factories.

    The constructor shares memory with ``data`` when it can (the internal path); pass
    ``copy=True`` (as ``xg.tensor`` does) for a tensor that owns its values.
    """

    __slots__ = ("data", "backend_obj", "grad", "requires_grad", "_node", "_version", "_used_by_graph",
                 "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators (ndarray + Tensor)

    def __init__(self, data, dtype=None, requires_grad=False, backend=None, copy=False):
        backend = get_backend(backend) if backend is None or isinstance(backend, str) else backend
        source = data if isinstance(data, Tensor) else None
        if source is not None:
            data = source.data if source.backend_obj is backend else source.backend_obj.to_numpy(source.data)
        array = backend.asarray(data)
        if array.dtype.kind not in "biufc":  # None, strings, dicts, ragged lists: NumPy objects
            raise TypeError(f"cannot make a tensor of {type(data).__name__} {data!r:.60}: "
                            f"it gives NumPy dtype {array.dtype}, not numbers")
        wanted = resolve_dtype(array.dtype, dtype)
        if wanted is not None and array.dtype != wanted:
            array = array.astype(numeric_dtype(backend.xp.dtype(wanted)))  # a new array already
        elif copy:
            array = array.copy()
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {array.dtype}")
        self.data = array
        self.backend_obj = backend
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self._version = None  # an autograd.VersionCounter once written or viewed
        self._used_by_graph = False  # an input of a recorded op (t[i] = v then refuses)
        if source is not None and autograd.memory_owner(array) is autograd.memory_owner(source.data):
            autograd.share_version(self, source)  # Tensor(t) without a copy is a view of t

    @classmethod
    def _wrap(cls, data, backend, requires_grad):
        """Fast internal constructor: ``data`` is already an array of ``backend`` (or a NumPy
        scalar, which NumPy returns for 0-d results: it becomes a 0-d array, so ``.data`` is
        always an array)."""
        if not data.ndim:
            data = backend.xp.asarray(data)
        t = cls.__new__(cls)
        t.data = data
        t.backend_obj = backend
        t.grad = None
        t.requires_grad = requires_grad
        t._node = None
        t._version = None
        t._used_by_graph = False
        return t

    # ---- attributes -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def backend(self) -> str:
        """The name of the backend this tensor lives on."""
        return self.backend_obj.name

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor was produced by a recorded op."""
        return self._node is None

    @property
    def grad_fn(self):
        """The Function that produced this tensor (None for leaves)."""
        return self._node

    @property
    def T(self):  # noqa: N802 - the NumPy name
        return ops.transpose(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __contains__(self, value) -> bool:
        """``value in t``: whether any element equals ``value`` (NumPy's ``(t == value).any()``)."""
        return bool((self == value).data.any())

    def __repr__(self) -> str:
        # NumPy indents continuation rows for "array(": one more space for "tensor("
        values = repr(self.to_numpy()).replace("array(", "tensor(", 1).replace("\n", "\n ")
        if values.endswith(")"):
            values = values[:-1]
        extra = f", backend={self.backend!r}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        if "dtype=" not in values:
            extra = f", dtype={self.dtype}" + extra
        return values + extra + ")"

    # ---- conversion -------------------------------------------------------------------------
    def to_numpy(self):
        """The values as a host numpy array (no copy when already on the host)."""
        return self.backend_obj.to_numpy(self.data)

    def numpy(self):
        """A host copy of the values as a numpy array."""
        host = self.backend_obj.to_numpy(self.data)
        return host.copy() if host is self.data else host

    def item(self):
        if self.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self.to_numpy().item()

    def tolist(self):
        return self.to_numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its value (``f"{loss:.4f}"``, as PyTorch); others only with
        an empty spec, as their repr."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} for a Tensor of shape {self.shape} "
                            "(only 0-d tensors take one)")
        return repr(self)

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A 0-d integer tensor as a Python int (``range(t)``, ``seq[t]``). Only 0-d, as NumPy:
        split and pad tell an index from a sequence of them by ``operator.index``."""
        if self.dtype.kind not in "iu" or self.ndim != 0:
            raise TypeError(f"only integer scalar arrays can be converted to a scalar index, "
                            f"got dtype {self.dtype} and shape {self.shape}")
        return int(self.item())

    def __bool__(self) -> bool:
        """The value of a one-element tensor; NumPy's ValueError otherwise (``if x > 0:`` on
        many elements is ambiguous)."""
        if self.size == 0:
            raise ValueError("The truth value of an empty tensor is ambiguous. "
                             "Use `tensor.size > 0` to check that a tensor is not empty.")
        if self.size > 1:
            raise ValueError("The truth value of a tensor with more than one element is ambiguous. "
                             "Use a.any() or a.all()")
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        """NumPy's array protocol: ``copy=True`` always copies (``np.array``), ``None`` shares
        when it can (``np.asarray``), ``False`` never copies and raises when it would have to.
        A tensor that requires grad shares a read-only view: a write through it would change
        values saved for backward without the version counter seeing it."""
        if self.backend_obj.xp.__name__ != "numpy":
            raise TypeError(
                f"a tensor on backend {self.backend!r} lives on the GPU; use .numpy() or .to('numpy')"
            )
        if dtype is not None and self.data.dtype != dtype:
            if copy is False:
                raise ValueError(f"cannot convert a {self.dtype} tensor to {dtype} without a copy")
            return self.data.astype(dtype)
        if copy:
            return self.data.copy()
        if not self.requires_grad:
            return self.data
        view = self.data.view()
        view.flags.writeable = False
        return view

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """The DLPack export of ``data``: the keywords given (the Array API's) go on to it."""
        given = {"stream": stream, "max_version": max_version, "dl_device": dl_device, "copy": copy}
        return self.data.__dlpack__(**{k: v for k, v in given.items() if v is not None})

    def __dlpack_device__(self):
        return self.data.__dlpack_device__()

    def to(self, backend):
        """This tensor on another backend (differentiable: gradients flow back across)."""
        target = get_backend(backend)
        if target is self.backend_obj:
            return self
        return ToBackend.apply(self, target=target)

    def detach(self):
        """The same data, cut from the graph. It shares this tensor's version counter, as in
        PyTorch: writing it in place is writing this tensor (see autograd.mark_modified)."""
        detached = Tensor._wrap(self.data, self.backend_obj, False)
        autograd.share_version(detached, self)
        return detached

    def clone(self):
        """A copy of the data that stays in the graph."""
        return Clone.apply(self)

    def astype(self, dtype, copy=True):
        """A copy cast to ``dtype`` (differentiable between floating dtypes; an integer or
        boolean result does not require grad, as in PyTorch). With ``copy=False`` this tensor
        itself when it has that dtype already, as NumPy."""
        if not copy and self.data.dtype == dtype:
            return self
        return Cast.apply(self, dtype=numeric_dtype(self.backend_obj.xp.dtype(dtype)))

    def requires_grad_(self, flag: bool = True):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        if not flag and self._node is not None:
            raise RuntimeError("requires_grad_(False) on a tensor computed by an op (not a leaf) would "
                               "leave its graph behind; use t.detach(), as in PyTorch")
        self.requires_grad = bool(flag)
        return self

    def __deepcopy__(self, memo):
        """A leaf's values, requires_grad and grad are copied; a tensor computed by an op raises,
        as in PyTorch (copying it would copy its graph, and the copy's gradients would reach
        copied leaves, not the model's)."""
        if self._node is not None:
            raise RuntimeError("only leaf tensors (made by the user, not by an op) support deepcopy; "
                               "copy t.detach() instead, as in PyTorch")
        new = type(self)._wrap(copy.deepcopy(self.data, memo), self.backend_obj, self.requires_grad)
        memo[id(self)] = new
        new.grad = copy.deepcopy(self.grad, memo)
        return new

    def __reduce_ex__(self, protocol):
        """Pickled as a leaf (PyTorch's too): a computed tensor's graph, and the ops of a graph
        that used the tensor, are not stored."""
        if self._node is None and not self._used_by_graph:
            return super().__reduce_ex__(protocol)
        leaf = type(self)._wrap(self.data, self.backend_obj, self.requires_grad)
        if self._node is None:
            leaf.grad = self.grad
        return leaf.__reduce_ex__(protocol)

    # ---- autograd ---------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no graph")
        seed = autograd.initial_grad(self, grad)
        autograd.run_backward([self], [seed], retain_graph=retain_graph or create_graph, create_graph=create_graph)

    def retain_grad(self):
        """Keep ∂L/∂self in ``self.grad`` after backward although this is not a leaf."""
        autograd.retain(self)
        return self

    def zero_grad(self):
        self.grad = None

    # ---- operators --------------------------------------------------------------------------
    def __add__(self, other):
        if other.__class__ is Tensor:  # fast path: no conversion needed
            return ew.Add.apply(self, other)
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        if other.__class__ is Tensor:  # fast path: no conversion needed
            return ew.Sub.apply(self, other)
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        if other.__class__ is Tensor:  # fast path: no conversion needed
            return ew.Mul.apply(self, other)
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        if other.__class__ is Tensor:  # fast path: no conversion needed
            return ew.Div.apply(self, other)
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    # In-place operators. Outside the graph they write self's memory, as NumPy and PyTorch do
    # (`w -= lr * w.grad` under xg.no_grad() updates the parameter; views and other references
    # see the new values). On a tensor in the graph (or with an operand that requires grad) they
    # compute `x = x + y` out of place: the gradients are right, but other references keep the
    # old tensor (PyTorch would rewrite it and its history). A leaf that requires grad raises,
    # as in PyTorch: its update belongs under xg.no_grad().
    def _update(self, other, symbol, ufunc, out_of_place):
        other = ops.lift(other, self)
        if autograd.is_grad_enabled() and (self.requires_grad or other.requires_grad):
            if self.requires_grad and self._node is None:
                raise RuntimeError(
                    f"x {symbol}= y on a leaf tensor that requires grad (shape {self.shape}) would "
                    "cut it from the graph; write the update under `with xg.no_grad():`"
                )
            # Out of place, but with the in-place rules (NumPy's out=, PyTorch's): x keeps its
            # shape, and its dtype where the result casts to it ("same_kind").
            result = out_of_place(self, other)
            if result.shape != self.shape:
                raise self._update_error(ValueError, symbol, other, f"the result's shape {result.shape} "
                                         f"is not x's")
            if result.dtype != self.dtype:
                if not self.backend_obj.xp.can_cast(result.dtype, self.dtype, "same_kind"):
                    raise self._update_error(TypeError, symbol, other, f"the result's dtype "
                                             f"{result.dtype} cannot be cast to x's")
                result = result.astype(self.dtype)
            return result
        if other.backend_obj is not self.backend_obj:
            raise autograd.backend_mismatch(f"x {symbol}= y", self.backend_obj, other.backend_obj)
        try:
            getattr(self.backend_obj.xp, ufunc)(self.data, other.data, out=self.data)
        except (TypeError, ValueError) as error:  # NumPy's casting and broadcasting errors
            raise self._update_error(TypeError if isinstance(error, TypeError) else ValueError,
                                     symbol, other, str(error)) from None
        autograd.mark_modified(self)
        return self

    def _update_error(self, kind, symbol, other, detail):
        return kind(f"x {symbol}= y with x of shape {self.shape} and dtype {self.dtype}, y of shape "
                    f"{other.shape} and dtype {other.dtype}: {detail}")

    def __iadd__(self, other):
        return self._update(other, "+", "add", ops.add)

    def __isub__(self, other):
        return self._update(other, "-", "subtract", ops.sub)

    def __imul__(self, other):
        return self._update(other, "*", "multiply", ops.mul)

    def __itruediv__(self, other):
        return self._update(other, "/", "divide", ops.div)

    def __ipow__(self, other):
        return self._update(other, "**", "power", ops.power)

    def __neg__(self):
        return ew.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __setitem__(self, index, value):
        """In-place ``self[index] = value``; recorded in the graph when self or value requires
        grad (see ops.setitem)."""
        is_tensor = isinstance(value, Tensor)
        if is_tensor and value.backend_obj is not self.backend_obj:
            raise autograd.backend_mismatch("setitem", self.backend_obj, value.backend_obj)
        if autograd.is_grad_enabled() and (self.requires_grad or (is_tensor and value.requires_grad)):
            return ops.setitem(self, index, value)
        self.data[index] = value.data if is_tensor else value
        autograd.mark_modified(self)

    def _compare(self, other, op):
        if isinstance(other, Tensor):
            if other.backend_obj is not self.backend_obj:
                raise autograd.backend_mismatch("comparison", self.backend_obj, other.backend_obj)
            other = other.data
        return Tensor._wrap(op(self.data, other), self.backend_obj, False)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other):  # elementwise, as in NumPy and PyTorch
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    __hash__ = object.__hash__

    # ---- methods over this tensor and others (the API's `t.where`, `t.concatenate`, `t.stack`)
    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other``: xg.where(condition, self, other),
        as PyTorch's ``x.where(condition, y)``."""
        return ops.where(condition, self, other)

    def concatenate(self, others, axis=0):
        """xg.concatenate([self, *others], axis)."""
        return ops.concatenate([self, *others], axis)

    def stack(self, others, axis=0):
        """xg.stack([self, *others], axis)."""
        return ops.stack([self, *others], axis)


# Methods that are the same function as ``xg.<name>(t, ...)``.
for _name in (
    "exp", "log", "sqrt", "sin", "cos", "tanh", "abs", "sigmoid", "relu", "sign", "maximum",
    "minimum", "clip", "sum", "mean", "var", "max", "min", "argmax", "argmin", "reshape",
    "transpose", "swapaxes", "expand_dims", "squeeze", "flatten", "split", "pad",
):
    setattr(Tensor, _name, getattr(ops, _name))
del _name


class ToBackend(Function):
    """The same values on another backend (the same memory between the numpy and cpu backends);
    the gradient travels back to the source backend."""

    __slots__ = ()
    reads_inputs = False
    may_view = True

    def forward(self, a, target):
        self.saved = self.backend  # the source; outputs are wrapped on self.backend
        self.backend = target
        return target.asarray(self.saved.to_numpy(a))

    def backward(self, gy):
        return (gy.to(self.saved),)


class Clone(Function):
    """y = copy of a;  ∂L/∂a = ∂L/∂y."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a):
        return a.copy()

    def backward(self, gy):
        return (gy,)


class Cast(Function):
    """y = a cast to another dtype;  ∂L/∂a = ∂L/∂y cast back."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a, dtype):
        self.saved = a.dtype
        return a.astype(dtype)

    def backward(self, gy):
        return (gy.astype(self.saved, copy=False),)


autograd.Tensor = Tensor
ops.Tensor = Tensor
