"""intedge — integer-only transformers for phones and boards.

    import intedge
    g = intedge.load("m.ieg"); g.save("m2.ieg")
    out = intedge.reference.run(g, {"input": x})
    g = intedge.convert(model, example_inputs, calibration=batches, weights="w8")   # needs torch
    intedge.export(g, "m.onnx")                      # or .pte / .tflite: intedge.exporters
"""

import importlib.util as _util
from pathlib import Path as _Path

if _util.find_spec("intedge.integer_ops") is None:  # the wheel maps ../integer_ops here; a bare checkout does not
    _root = _Path(__file__).resolve().parent.parent
    raise ImportError(
        f"intedge was imported from its source checkout {_root}, which shadows the installed package and "
        f"lacks its subpackages (integer_ops, converters, runtime). Run Python from another folder, or install "
        f"the checkout in editable mode: pip install -c constraints.txt -e {_root}")

from . import reference  # noqa: E402 - after the check above
from .ir import Graph, IegFormatError, InvalidGraphError, load  # noqa: E402

__version__ = "0.1.0"
__all__ = ["Graph", "IegFormatError", "InvalidGraphError", "__version__", "convert", "export", "load", "reference"]


def convert(model, example_inputs, calibration, weights="w8", **options) -> Graph:
    """A PyTorch model → its integer-only graph; see intedge.converters.convert (torch is imported only here)."""
    from intedge.converters.convert import convert as _convert

    return _convert(model, example_inputs, calibration, weights, **options)


def export(graph: Graph, path, format: str | None = None):
    """Write graph as a .pte, .tflite or .onnx that its stock runtime runs exactly; see intedge.exporters."""
    from intedge.exporters import export as _export

    return _export(graph, path, format)
