"""Module.summary(): the Keras-style table of layers, output shapes and parameter counts."""

from __future__ import annotations

from ..autograd import no_grad
from ..creation import zeros
from .container import Sequential
from .module import Module, evaluation_mode, floating_dtype


def count_parameters(module: Module, recurse: bool = True) -> tuple[int, int]:
    """(trainable, frozen) numbers of scalars in the module's parameters (its own alone without
    ``recurse``)."""
    trainable = frozen = 0
    for param in module.parameters(recurse=recurse):
        if param.requires_grad:
            trainable += param.size
        else:
            frozen += param.size
    return trainable, frozen


def record_output_shapes(model: Module, input_shape: tuple[int, ...]) -> None:
    """One forward pass on a batch of two zero inputs, in evaluation mode and without a graph, so
    that every layer records its output shape; the modes of all layers are restored afterwards."""
    first = next(model.parameters(), None)
    backend = first.backend_obj if first is not None else None
    with evaluation_mode(model), no_grad():
        model(zeros((2, *input_shape), dtype=floating_dtype(model), backend=backend))


def _format_shape(shape) -> str:
    if shape is None:
        return "?"
    return str((None, *shape[1:])) if len(shape) else "()"


def _has_row(module: Module) -> bool:
    """Every layer has a row, a layer built of others (Maxout) included, since its output is not
    its children's; a Sequential, whose output is its last layer's, only for parameters of its
    own."""
    return not isinstance(module, Sequential) or next(module.parameters(recurse=False), None) is not None


def summary_table(model: Module, input_shape: tuple[int, ...] | None = None) -> str:
    """Rows for the layers (see :func:`_has_row`), each counting its own parameters alone so
    that the rows add up to the total; then the parameter totals. A layer used in several
    places is one row, as its parameters count once."""
    if input_shape is not None:
        record_output_shapes(model, tuple(input_shape))
    layers = [
        (name or type(model).__name__.lower(), module)
        for name, module in model.named_modules()
        if _has_row(module)
    ]
    rows = []
    for name, layer in layers:
        trainable, frozen = count_parameters(layer, recurse=False)
        rows.append(
            (
                f"{name} ({type(layer).__name__})",
                _format_shape(layer.last_output_shape),
                f"{trainable + frozen:,}",
            )
        )
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(row[i]) for row in [header, *rows]) + 4 for i in range(3)]
    line_width = sum(widths)

    def format_row(row):
        return row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + row[2].rjust(widths[2] - 4)

    trainable, frozen = count_parameters(model)
    lines = [
        f'Model: "{type(model).__name__}"',
        "_" * line_width,
        format_row(header),
        "=" * line_width,
    ]
    for i, row in enumerate(rows):
        lines.append(format_row(row))
        lines.append("_" * line_width if i < len(rows) - 1 else "=" * line_width)
    if not rows:
        lines.append("=" * line_width)
    lines += [
        f"Total params: {trainable + frozen:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {frozen:,}",
        "_" * line_width,
    ]
    return "\n".join(lines)
