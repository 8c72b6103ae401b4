"""The integer IR: Graph, its .ieg file, and its validator."""

from .errors import IegFormatError, InvalidGraphError
from .graph import DTYPES, Graph, Op, Tensor, load
from .ieg_io import read_ieg, write_ieg
from .opspec import OPS

__all__ = [
    "DTYPES",
    "OPS",
    "Graph",
    "IegFormatError",
    "InvalidGraphError",
    "Op",
    "Tensor",
    "load",
    "read_ieg",
    "write_ieg",
]
