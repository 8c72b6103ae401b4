"""The model zoo: our own definitions (ViT/DeiT, Segmenter) and the real all-MiniLM-L6-v2.

The language models, a different interface (token streams, perplexity), are llama_lm.LM_ZOO's.
"""

from .registry import ZOO, ZooModel, get

__all__ = ["ZOO", "ZooModel", "get"]
