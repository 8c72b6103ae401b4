"""intedge — integer-only transformers for phones and boards.

    import intedge
    g = intedge.load("m.ieg"); g.save("m2.ieg")
    out = intedge.reference.run(g, {"input": x})
    g = intedge.convert(model, example_inputs, calibration=batches, weights="w8")   # needs torch
"""

from . import reference
from .ir import Graph, IegFormatError, InvalidGraphError, load

__version__ = "0.1.0"
__all__ = ["Graph", "IegFormatError", "InvalidGraphError", "__version__", "convert", "load", "reference"]


def convert(model, example_inputs, calibration, weights="w8", **options) -> Graph:
    """A PyTorch model → its integer-only graph; see intedge.converters.convert (torch is imported only here)."""
    from intedge.converters.convert import convert as _convert

    return _convert(model, example_inputs, calibration, weights, **options)
