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
        raise MissingExtraError(
            f"{feature} needs {module.split('.')[0]}, from the '{extra}' extra: "
            f"{_HOW.get(extra, '')}pip install -c constraints.txt -e '.[{extra}]' in the intedge checkout"
            f"{_WHERE.get(extra, '')}") from None


# llama-cpp-python builds from source: without its multimodal library (mtmd, unused here), and on x86 without
# ggml's AMX matmul, which crashes on quantized models (profilers/llm_peers.py: require_llamacpp)
LLAMACPP_CMAKE_ARGS = "-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS=-mno-amx-int8 -DCMAKE_CXX_FLAGS=-mno-amx-int8"
_HOW = {"llamacpp": f'CMAKE_ARGS="{LLAMACPP_CMAKE_ARGS}" '}
# litert downgrades typing-extensions and brings jax (pyproject.toml): better in a venv of its own
_WHERE = {"litert": " (best in a separate venv: it downgrades typing-extensions)",
          "llamacpp": " (a build from source, minutes; on Arm, CMAKE_ARGS=-DLLAVA_BUILD=OFF alone)"}
