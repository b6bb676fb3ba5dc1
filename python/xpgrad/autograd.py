"""Reverse-mode automatic differentiation: Functions, the backward engine, grad mode.

A Function is one differentiable op. ``forward`` computes on raw backend arrays; ``backward``
receives ∂L/∂output as a Tensor and returns ∂L/∂input for each input, written with Tensor
ops so that, with ``create_graph=True``, the gradient itself is differentiable (double
backward). Without ``create_graph`` the engine runs backward under ``no_grad``, so those Tensor
ops record nothing and cost one small wrapper each; a Function may then take a fused-kernel
shortcut (see ``creating_graph``).

The engine (``run_backward``) sorts the graph topologically without recursion and applies the
chain rule summed over all paths: ∂L/∂x = Σ_{edges x→y} ∂L/∂y · ∂y/∂x.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
import weakref

from .backends.errors import BackendMismatchError

# Set by tensor.py once the Tensor class exists (tensor.py imports this module, not vice versa).
Tensor = None


def constant(array, backend):
    """A raw array as a constant Tensor (no graph), for derivative masks and fill values."""
    return Tensor._wrap(array, backend, False)


def check_tensor(value, op: str, name: str = "input") -> None:
    """TypeError unless ``value`` is a Tensor: layers and functions take Tensors, as PyTorch's,
    not arrays or lists (which have no backend or graph)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be an xpgrad Tensor, got {type(value).__name__} "
                        "(wrap it with xg.tensor(...))")

_grad_enabled = contextvars.ContextVar("xpgrad_grad_enabled", default=True)
_grad_mode_exits = threading.Lock()

# Counts in-place writes. A node's ``epoch`` is the count when it was recorded; a write stamps
# the count into the VersionCounter of the memory written, so ``stamp > node.epoch`` means that
# memory changed after the node saw it. While no write happened since, backward compares nothing.
_write_clock = 0


class VersionCounter:
    """When a piece of memory was last written in place (the write clock's count, 0: never).

    One counter is shared by a tensor and every tensor viewing its memory (basic slices,
    reshapes and transposes that NumPy makes without a copy, ``detach()``), as PyTorch shares a
    version counter between a base and its views: a write through any of them is a write to
    all. It holds no reference to a tensor, so a view keeps no graph alive. ``shared``: more
    than one tensor has it (a write recorded in the graph, ``t[i] = v``, is refused then: the
    others would change behind the graph).
    """

    __slots__ = ("stamp", "shared")

    def __init__(self) -> None:
        self.stamp = 0
        self.shared = False


def version_counter(tensor) -> VersionCounter:
    """``tensor``'s counter, made on first need (most tensors are never written or viewed). An
    op whose backward reads its output (``reads_output``) gets its output's counter then."""
    counter = tensor._version
    if counter is None:
        counter = tensor._version = VersionCounter()
        node = tensor._node
        if node is not None and node.reads_output:
            node.output_version = counter
    return counter


def share_version(view, source) -> None:
    """Make ``view``, whose data is a view of ``source``'s memory, share its version counter."""
    counter = view._version = version_counter(source)
    counter.shared = True


def memory_owner(array):
    """The object owning ``array``'s memory: itself, or the end of its chain of ``base``s. A
    view and the array it views have the same owner; an array with its own memory does not."""
    base = getattr(array, "base", None)
    while base is not None:
        array, base = base, getattr(base, "base", None)
    return array


def mark_modified(tensor) -> None:
    """Record an in-place write to ``tensor`` (``t[i] = v`` and other in-place updates): backward
    through an op that needs the old values of that memory (an input, or its own output, seen
    through ``tensor`` or any view sharing its memory) then raises instead of using the new ones.

    Writes to the raw array (``t.data[i] = v``) are not recorded, as PyTorch's ``.data``.
    """
    global _write_clock
    _write_clock += 1
    version_counter(tensor).stamp = _write_clock


def is_grad_enabled() -> bool:
    """True when new ops record the graph (the default)."""
    return _grad_enabled.get()


class _GradMode:
    """Graph recording on or off inside ``with``, and in every call of a decorated function or
    step of a decorated generator, as PyTorch's grad modes: reusable, re-entrant, and left with
    the mode it found in whichever thread or context it is left (a generator may be resumed in
    another one)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[tuple[int, bool]] = []  # (thread, mode found) of each open entry

    def __enter__(self) -> None:
        self._previous.append((threading.get_ident(), _grad_enabled.get()))
        _grad_enabled.set(self.enabled)

    def __exit__(self, *exc_info) -> None:
        # This thread's latest entry: one object entered in two threads at once must give each
        # its own mode back. Failing that, the latest of all: a generator's block entered in
        # another thread and left in this one.
        thread = threading.get_ident()
        with _grad_mode_exits:  # another thread's pop must not shift the entry found
            previous = self._previous
            i = len(previous) - 1
            while i >= 0 and previous[i][0] != thread:
                i -= 1
            mode = previous.pop(i)[1]  # i == -1: none of this thread's, the latest
        _grad_enabled.set(mode)

    def __call__(self, func):
        enabled = self.enabled
        if inspect.isgeneratorfunction(func):  # the mode holds while the body runs, step by step
            @functools.wraps(func)
            def generator(*args, **kwargs):
                steps = func(*args, **kwargs)
                try:
                    with _GradMode(enabled):
                        response = steps.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with _GradMode(enabled):
                                steps.close()
                            raise
                        except BaseException as exc:
                            with _GradMode(enabled):
                                response = steps.throw(exc)
                        else:
                            with _GradMode(enabled):
                                response = steps.send(request)
                except StopIteration as stop:
                    return stop.value

            return generator

        @functools.wraps(func)
        def call(*args, **kwargs):
            with _GradMode(enabled):
                return func(*args, **kwargs)

        return call


def no_grad(func=None):
    """``with xg.no_grad(): ...`` runs ops without recording the graph (inference, updates);
    also a decorator, ``@xg.no_grad`` or ``@xg.no_grad()``, of functions and generators."""
    return _GradMode(False) if func is None else _GradMode(False)(func)


def enable_grad(func=None):
    """Re-enables graph recording inside a ``no_grad`` block (a context or a decorator)."""
    return _GradMode(True) if func is None else _GradMode(True)(func)


def creating_graph() -> bool:
    """Inside ``backward``: True when the gradient must itself be differentiable."""
    return _grad_enabled.get()


# ``reads_inputs`` of a Function whose backward reads only its saved output, except that a
# create_graph backward rebuilds the derivative from the input (so that it can be differentiated):
# a write to the input after the op matters only then (PyTorch: sigmoid, tanh, exp... save their
# result alone).
reads_inputs_when_creating_graph = property(lambda self: creating_graph())


def backend_mismatch(op: str, first, second) -> BackendMismatchError:
    """The error for an op whose operands live on two backends, naming both."""
    return BackendMismatchError(
        f"{op}: inputs live on different backends ({first.name!r} and {second.name!r}); "
        "move them with .to(name)"
    )


class Function:
    """One node of the graph: the op that produced a Tensor, its inputs, what backward needs.

    Subclasses implement ``forward(*arrays, **options) -> array`` and
    ``backward(grad) -> tuple of Tensor | None`` (one entry per input; trailing constant inputs,
    which need no gradient, may be left out).

    A Tensor whose values backward reads (a condition, indices, a loss target) is passed as an
    input, never inside the options: as an input it is checked for in-place writes at backward.
    """

    __slots__ = (
        "inputs", "saved", "backend", "retained", "history", "epoch", "output_version", "__weakref__"
    )
    # Which inputs' values backward reads: True (all), False (none: only shapes and flags), or
    # for each input the indices of the inputs whose gradients read it, so that a write to it
    # matters only while one of those wants a gradient (as PyTorch saves a tensor only for the
    # gradients that need it: ∂(w·x)/∂w reads x alone). Inputs past the tuple (constants
    # appended by the op) are read by every gradient.
    reads_inputs = True
    reads_output = False  # backward uses the values of the output (saved: exp, sigmoid, ...)
    may_view = False  # the output may be a view of input 0's memory (slicing, reshape, transpose)

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def needs_grad(self, index: int) -> bool:
        """Whether input ``index`` wants a gradient (skip expensive work when it does not)."""
        return self.inputs[index].requires_grad

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays and, if any input requires grad, record the node
        (only for a floating-point result: integer and boolean tensors never require grad)."""
        try:
            backend = inputs[0].backend_obj
            requires_grad = False
            for t in inputs:
                if t.backend_obj is not backend:
                    raise backend_mismatch(cls.__name__, backend, t.backend_obj)
                requires_grad = requires_grad or t.requires_grad
        except AttributeError:  # not a Tensor (checked only here, off the common path)
            for i, t in enumerate(inputs):
                check_tensor(t, cls.__name__, f"input {i}")
            raise
        fn = cls.__new__(cls)
        fn.backend = backend
        fn.saved = None
        fn.retained = None
        fn.history = None
        data = fn.forward(*[t.data for t in inputs], **options)
        if requires_grad and _grad_enabled.get() and data.dtype.kind == "f":
            fn.inputs = inputs
            for t in inputs:
                t._used_by_graph = True
            fn.epoch = _write_clock
            fn.output_version = None  # the output's VersionCounter, once it has one
            out = Tensor._wrap(data, fn.backend, True)
            out._node = fn
        else:
            out = Tensor._wrap(data, fn.backend, False)
        if cls.may_view and memory_owner(out.data) is memory_owner(inputs[0].data):
            share_version(out, inputs[0])  # a view: a write to either is a write to both
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Specify retain_graph=True on the first backward() if you "
    "need to backward through the graph again."
)


def _links(node):
    """(id of the input tensor or None, its producer node or None) for each input of ``node``;
    from the history kept for to_dot once the node was freed."""
    if node.inputs is not None:
        return [(id(t), t._node) for t in node.inputs]
    return [(None if ref() is None else id(ref()), producer) for ref, _, producer in node.history or ()]


def _topological_order(root_nodes, through_freed=False):
    """Nodes reachable from ``root_nodes``, each after every node that consumes its output. A
    node freed by an earlier backward raises, unless ``through_freed`` (xg.grad, which may not
    need to run it): its producers are then read from its history."""
    order, visited = [], set()
    stack = [(node, False) for node in root_nodes]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        if node.inputs is not None:
            producers = [t._node for t in node.inputs]
        elif through_freed:
            producers = [producer for _, producer in _links(node)]
        else:
            raise RuntimeError(FREED_GRAPH_MESSAGE)
        stack.append((node, True))
        for parent in producers:
            if parent is not None and parent not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _nodes_leading_to(order, wanted_nodes, wanted_leaves):
    """The nodes of ``order`` whose backward reaches a wanted tensor: an input is a wanted leaf,
    or its producer is wanted or is such a node. Only these run for xg.grad (as PyTorch): the
    rest of the graph is neither computed nor freed. Raises if one of them was freed."""
    run = set()
    for node in reversed(order):  # producers before their consumers
        if any(key in wanted_leaves or (parent is not None and (parent in wanted_nodes or parent in run))
               for key, parent in _links(node)):
            if node.inputs is None:
                raise RuntimeError(FREED_GRAPH_MESSAGE)
            run.add(node)
    return run


def run_backward(roots, seeds, *, retain_graph=False, create_graph=False, wanted=None):
    """Backpropagate ``seeds`` (∂L/∂root for each of ``roots``) in one pass through their graph.

    With ``wanted`` None, gradients accumulate into ``.grad`` of leaves that require grad (and
    of tensors that called ``retain_grad``). Otherwise ``wanted`` is a list of tensors and the
    function returns their gradients (None where unreachable) without touching ``.grad``.
    """
    leaf_grads = {}  # id(leaf) -> [leaf, summed gradient]
    grads = {}  # node -> summed gradient of its output
    for root, seed in zip(roots, seeds):
        if root._node is None:
            _add_leaf_grad(leaf_grads, root, seed)
        else:
            prev = grads.get(root._node)
            grads[root._node] = seed if prev is None else prev + seed
    wanted_nodes, wanted_leaves = {}, set()
    results = run = None
    if wanted is not None:
        results = [None] * len(wanted)
        for i, t in enumerate(wanted):  # a tensor may be asked for more than once
            if t._node is not None:
                wanted_nodes.setdefault(t._node, []).append(i)
            else:
                wanted_leaves.add(id(t))
    taken = {id(seed.data) for seed in seeds}  # arrays .grad must not share

    # The whole pass runs in create_graph's grad mode, the leaves' accumulation included (in the
    # caller's mode, .grad += g recorded an Add per backward once .grad had a graph: a leak).
    token = _grad_enabled.set(bool(create_graph))
    try:
        if wanted is None:
            order = _topological_order(list(grads))
        else:
            order = _topological_order(list(grads), through_freed=True)
            run = _nodes_leading_to(order, wanted_nodes, wanted_leaves)
        for node in order:
            g = grads.pop(node, None)
            if g is None:
                continue
            if node.retained is not None and wanted is None:
                kept = node.retained()
                if kept is not None:
                    _accumulate_grad(kept, g, taken, create_graph)
            for i in wanted_nodes.get(node, ()):
                results[i] = g
            if run is not None and node not in run:
                continue
            inputs = node.inputs
            if node.epoch < _write_clock:
                _check_unmodified(node)
            for t, tg in zip(inputs, node.backward(g)):
                if tg is None or not t.requires_grad:
                    continue
                if not isinstance(tg, Tensor):
                    tg = Tensor._wrap(tg, node.backend, False)
                if tg.data.dtype != t.data.dtype:  # mixed precision: grad in the input's dtype
                    tg = tg.astype(t.data.dtype)
                parent = t._node
                if parent is None:
                    if run is None or id(t) in wanted_leaves:
                        _add_leaf_grad(leaf_grads, t, tg)
                elif run is None or parent in run or parent in wanted_nodes:
                    prev = grads.get(parent)
                    grads[parent] = tg if prev is None else prev + tg
            if not retain_graph:
                # Keep only what to_dot needs: shapes, producers, weak references.
                node.history = tuple([(weakref.ref(t), t.data.shape, t._node) for t in inputs])
                node.inputs = None
                node.saved = None
        if wanted is None:
            for t, g in leaf_grads.values():
                _accumulate_grad(t, g, taken, create_graph)
    finally:
        _grad_enabled.reset(token)
    if wanted is not None:
        for i, t in enumerate(wanted):
            entry = leaf_grads.get(id(t))
            if entry is not None:
                results[i] = entry[1]
    return results


def _check_unmodified(node):
    """Raise if memory that ``node``'s backward reads (its inputs', or its output's when it reads
    that) was written in place after the forward, directly or through a view sharing it."""
    name = type(node).__name__
    reads = node.reads_inputs
    if reads:
        inputs = node.inputs
        for i, t in enumerate(inputs):
            if t._version is None or t._version.stamp <= node.epoch:
                continue
            if reads is not True and i < len(reads) and not any(
                inputs[j].requires_grad for j in reads[i]
            ):
                continue  # no gradient that reads it is wanted
            raise _modified_error(
                f"input {i} of {name} (shape {t.shape}) was written after the op used it; "
                "compute with a copy (t.clone())"
            )
    if node.output_version is not None and node.output_version.stamp > node.epoch:
        raise _modified_error(
            f"the output of {name}, which its backward reads, was written after the op made it; "
            "write a copy (y.clone()) instead"
        )


def _modified_error(what: str) -> RuntimeError:
    """PyTorch's message, saying what was written and how to avoid it."""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {what}, or write after backward()"
    )


def _add_leaf_grad(leaf_grads, leaf, g):
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _accumulate_grad(t, g, taken, create_graph):
    """t.grad += g. A first gradient gets an array of its own, as in PyTorch: ``g`` is copied
    when its array is a view (e.g. a read-only broadcast), a caller's seed, or already the
    ``.grad`` of another tensor (``taken``: ids of those arrays)."""
    if t.grad is not None:
        t.grad = t.grad + g
        return
    if g.data.base is not None or id(g.data) in taken:
        # With create_graph a differentiable g (a seed that requires grad included) is copied
        # by a graph op, so .grad stays connected to it; otherwise a plain, detached copy.
        if create_graph and g.requires_grad:
            g = g.clone()
        else:
            g = Tensor._wrap(g.data.copy(), g.backend_obj, False)
    taken.add(id(g.data))
    t.grad = g


def retain(tensor) -> None:
    """Make backward store ∂L/∂tensor in ``tensor.grad`` although it is not a leaf."""
    if not tensor.requires_grad:
        raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
    if tensor._node is not None:
        tensor._node.retained = weakref.ref(tensor)


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None, allow_unused=False):
    """∂(Σ outputs·grad_outputs)/∂input for each input, returned as a tuple; ``.grad`` untouched.

    With ``create_graph=True`` the returned gradients carry a graph of their own, so they can be
    differentiated again (double backward).
    """
    single_input = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):  # zip would drop the extra outputs or gradients
        raise ValueError(f"xg.grad: got {len(outputs)} outputs and {len(grad_outputs)} grad_outputs")
    if not inputs:
        raise ValueError("xg.grad: inputs cannot be empty")
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("xg.grad: an input does not require grad; create it with requires_grad=True")
    for i, out in enumerate(outputs):
        if not out.requires_grad and not allow_unused:  # (with allow_unused: no gradient, None)
            raise RuntimeError(f"xg.grad: output {i} does not require grad and has no graph")
    seeds = [initial_grad(out, g) for out, g in zip(outputs, grad_outputs)]
    total = run_backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph, wanted=inputs)
    if not allow_unused and any(t is None for t in total):
        raise RuntimeError(
            "xg.grad: one of the inputs was not used to compute the outputs; pass allow_unused=True"
        )
    return tuple(total)


def initial_grad(output, grad):
    """The seed ∂L/∂output: 1 for a scalar, else the given tensor: of the output's shape and
    backend, cast to its dtype (as PyTorch)."""
    if grad is None:
        if output.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; got shape {output.shape}, "
                "pass a gradient of the same shape"
            )
        return Tensor._wrap(output.backend_obj.xp.ones_like(output.data), output.backend_obj, False)
    if not isinstance(grad, Tensor):
        grad = Tensor._wrap(output.backend_obj.asarray(grad, dtype=output.dtype), output.backend_obj, False)
    if grad.shape != output.shape:
        raise ValueError(f"gradient shape {grad.shape} does not match output shape {output.shape}")
    if grad.backend_obj is not output.backend_obj:
        raise backend_mismatch("backward(gradient)", output.backend_obj, grad.backend_obj)
    return grad if grad.dtype == output.dtype else grad.astype(output.dtype)
