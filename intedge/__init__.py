"""intedge — integer-only transformers for phones and boards.

    import intedge
    g = intedge.load("m.ieg"); g.save("m2.ieg")
    out = intedge.reference.run(g, {"input": x})
"""

from . import reference
from .ir import Graph, IegFormatError, InvalidGraphError, load

__version__ = "0.1.0"
__all__ = ["Graph", "IegFormatError", "InvalidGraphError", "__version__", "load", "reference"]
