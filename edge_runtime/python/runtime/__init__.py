"""intedge.runtime — the C++ engine's Python face.

For now the compiled module intedge._runtime verifies .ieg files and exposes
the scalar oracle kernels (intedge._runtime.kernels); the Session API that
runs whole graphs arrives with the engine.
"""

from intedge import _runtime

kernels = _runtime.kernels

__all__ = ["kernels"]
