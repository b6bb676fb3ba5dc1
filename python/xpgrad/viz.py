"""The computational graph as Graphviz dot: tensors as boxes, ops as ellipses."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor


def _describe(shape, tensor, label_values: int) -> str:
    parts = [f"shape {shape}" if shape else "scalar"]
    if tensor is not None and tensor.size <= label_values:
        parts.append("value " + np.array2string(np.asarray(tensor.to_numpy()), precision=4, separator=", "))
        if tensor.grad is not None:
            parts.append("grad " + np.array2string(np.asarray(tensor.grad.to_numpy()), precision=4, separator=", "))
    return "\\n".join(parts)


def _inputs(node):
    """(key, shape, live tensor or None, producing node) for each input of ``node``.

    After a backward without ``retain_graph`` the node keeps only its inputs' history: intermediate
    tensors that nobody holds any more are drawn with their shape alone.
    """
    if node.inputs is not None:
        return [(id(t), t.shape, t, t._node) for t in node.inputs]
    out = []
    for ref, shape, producer in node.history or ():
        t = ref()
        out.append((id(t) if t is not None else id(ref), shape, t, producer))
    return out


def to_dot(root: Tensor, label_values: int = 16) -> str:
    """Graphviz dot source of the graph that produced ``root``.

    Each op node is labelled with its Function's name; each tensor node with its shape and,
    when it has at most ``label_values`` elements, its value and gradient (if set).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"to_dot: root must be a Tensor, got {type(root).__name__}")
    lines = ["digraph xpgrad {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    drawn_tensors, drawn_nodes = set(), set()

    def tensor_box(key, shape, tensor, node):
        name = f"t{key}"
        if name not in drawn_tensors:
            drawn_tensors.add(name)
            kind = "leaf" if node is None else "tensor"
            lines.append(f'  {name} [shape=box, label="{kind}\\n{_describe(shape, tensor, label_values)}"];')
        return name

    stack = [(id(root), root.shape, root, root._node)]
    while stack:
        key, shape, tensor, node = stack.pop()
        out = tensor_box(key, shape, tensor, node)
        if node is None or id(node) in drawn_nodes:
            continue
        drawn_nodes.add(id(node))
        op = f"f{id(node)}"
        lines.append(f'  {op} [shape=ellipse, label="{type(node).__name__}"];')
        lines.append(f"  {op} -> {out};")
        for entry in _inputs(node):
            lines.append(f"  {tensor_box(*entry)} -> {op};")
            stack.append(entry)
    lines.append("}")
    return "\n".join(lines) + "\n"
