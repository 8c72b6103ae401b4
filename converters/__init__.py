"""The converter: PyTorch models → integer-only graphs (capture, calibrate, lower; see convert.py)."""

# The zoo's model names, here and not in zoo/ so that the CLI lists them without importing torch
# (zoo/registry.py checks that its entries are these).
ZOO_NAMES = ("vit-fmnist", "segmenter-fmnist", "swin-fmnist", "minilm")
# the language models (zoo/llama_lm.py's LM_ZOO): convert, eval (perplexity) and generate
LM_NAMES = ("llama-fortunes",)
