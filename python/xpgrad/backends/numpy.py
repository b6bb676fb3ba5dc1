"""The reference backend: NumPy arrays, the base class's implementations, nothing compiled."""

import numpy

from .base import Backend


class NumpyBackend(Backend):
    name = "numpy"
    xp = numpy
