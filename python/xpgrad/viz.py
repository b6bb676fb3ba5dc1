"""The computational graph as Graphviz dot: tensors as boxes, ops as ellipses."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor


def _summary(t: Tensor, label_values: int) -> str:
    parts = [f"shape {t.shape}" if t.ndim else "scalar"]
    if t.size <= label_values:
        parts.append("value " + np.array2string(np.asarray(t.to_numpy()), precision=4, separator=", "))
    if t.grad is not None and t.grad.size <= label_values:
        parts.append("grad " + np.array2string(np.asarray(t.grad.to_numpy()), precision=4, separator=", "))
    return "\\n".join(parts)


def to_dot(root: Tensor, label_values: int = 16) -> str:
    """Graphviz dot source of the graph that produced ``root``.

    Each op node is labelled with its Function's name; each tensor node with its shape and,
    when it has at most ``label_values`` elements, its value and gradient (if set).
    """
    lines = ["digraph xpgrad {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    seen_tensors, seen_nodes = set(), set()

    def tensor_node(t: Tensor) -> str:
        name = f"t{id(t)}"
        if name not in seen_tensors:
            seen_tensors.add(name)
            kind = "leaf" if t.is_leaf else "tensor"
            lines.append(f'  {name} [shape=box, label="{kind}\\n{_summary(t, label_values)}"];')
        return name

    stack = [root]
    while stack:
        t = stack.pop()
        out = tensor_node(t)
        node = t._node
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        op = f"f{id(node)}"
        lines.append(f'  {op} [shape=ellipse, label="{type(node).__name__}"];')
        lines.append(f"  {op} -> {out};")
        for parent in node.inputs or ():
            lines.append(f"  {tensor_node(parent)} -> {op};")
            stack.append(parent)
    lines.append("}")
    return "\n".join(lines) + "\n"
