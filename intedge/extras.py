"""Optional dependencies, grouped by the pip extras that install them (pyproject.toml).

The default install runs graphs (the engine, the reference, the file format);
converting needs `torch`, MiniLM needs `zoo`, and the peers intedge is
compared with (ONNX Runtime, ExecuTorch) need `peers`. A feature that lacks
its extra says which one to install instead of failing on an import.
"""

from __future__ import annotations

import importlib


class MissingExtraError(ImportError):
    """A feature needs an optional dependency that is not installed."""


def require(module: str, extra: str, feature: str):
    """Import `module`, or raise MissingExtraError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        # litert downgrades typing-extensions and brings jax (pyproject.toml): better in a venv of its own
        where = " (best in a separate venv: it downgrades typing-extensions)" if extra == "litert" else ""
        raise MissingExtraError(
            f"{feature} needs {module.split('.')[0]}, from the '{extra}' extra: "
            f"pip install -c constraints.txt -e '.[{extra}]' in the intedge checkout{where}") from None
