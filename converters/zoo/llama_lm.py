"""llama-fortunes: a small Llama (transformers' LlamaForCausalLM) trained here on English fortunes.

No pretrained decoder ships offline, so the zoo trains one (train_llama.py)
on converters/data/english_text.py's corpus with its own byte-level BPE
tokenizer. It has Llama's whole architecture at a small size: RMSNorm,
rotary positions, grouped-query attention (8 query heads share 2 key-value
heads) and the SwiGLU MLP, with the output layer tied to the embedding.

`perplexity` is the metric for the float model and for the integer engine
alike: it takes a function from a window of token ids to logits, numpy in and
numpy out, and `torch_logits` adapts a torch model to it. `load` gives this
model by name or any LlamaForCausalLM saved with `save_pretrained`, offline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from intedge.converters.data import english_text
from intedge.extras import require

CHECKPOINTS = Path(__file__).parent / "checkpoints"
CHECKPOINT = CHECKPOINTS / "llama-fortunes.pt"
TOKENIZER = CHECKPOINTS / "llama-fortunes-tokenizer.json"
EOS = "<|endoftext|>"  # ends every document; a prompt starts after it, so it is the bos token too (as in GPT-2)
VOCAB = 4096
CONTEXT = 128  # the window it is trained and scored on
CONFIG = dict(vocab_size=VOCAB, hidden_size=256, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=2,
              head_dim=32, intermediate_size=640, max_position_embeddings=256,
              rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=True,
              bos_token_id=0, eos_token_id=0)  # EOS is the tokenizer's first token


def _transformers():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from intedge.profilers.peers import quiet

    with quiet():  # transformers imports torchao where installed (executorch brings it); it logs load failures
        return require("transformers", "zoo", "the Llama language model")


def config():
    """The LlamaConfig of llama-fortunes; eager attention, which the converter captures as its matmuls and
    softmax (and which trains faster than sdpa on a CPU at this size)."""
    return _transformers().LlamaConfig(**CONFIG, attn_implementation="eager")


def build(weights: bool = True):
    """llama-fortunes as a float32 LlamaForCausalLM in eval mode, with the committed weights unless not `weights`."""
    import torch

    model = _transformers().LlamaForCausalLM(config())
    if weights:
        if not CHECKPOINT.exists():
            raise FileNotFoundError(f"{CHECKPOINT} is missing: run `python -m intedge.converters.zoo.train "
                                    "llama-fortunes`")
        model.load_state_dict(torch.load(CHECKPOINT, weights_only=True)["state_dict"])  # fp16 → the float32 params
    return model.eval()


def load(path_or_name: str | os.PathLike):
    """A float32 LlamaForCausalLM in eval mode: a name of LM_ZOO, or a local folder written by `save_pretrained`.
    Never downloads: a name that is neither is refused rather than looked up on the Hugging Face Hub."""
    if str(path_or_name) in LM_ZOO:
        return LM_ZOO[str(path_or_name)].build()
    if not (Path(path_or_name) / "config.json").is_file():
        raise FileNotFoundError(f"{path_or_name} is neither a zoo language model ({', '.join(LM_ZOO)}) nor a "
                                "folder with the config.json that save_pretrained writes")
    import torch

    model = _transformers().LlamaForCausalLM.from_pretrained(str(path_or_name), local_files_only=True,
                                                             dtype=torch.float32, attn_implementation="eager")
    return model.eval()


@lru_cache(maxsize=1)
def tokenizer():
    """The byte-level BPE tokenizer (a tokenizers.Tokenizer) llama-fortunes was trained with."""
    tokenizers = require("tokenizers", "zoo", "the Llama language model's tokenizer")
    return tokenizers.Tokenizer.from_file(str(TOKENIZER))


def encode_documents(tok, documents: list[str], eos: int | None = None) -> np.ndarray:
    """The documents as one int32 stream of token ids, each document followed by EOS (default: the id of
    <|endoftext|> in tok)."""
    eos = tok.token_to_id(EOS) if eos is None else eos
    if eos is None:
        raise ValueError(f"the tokenizer has no {EOS} token: give the end-of-text id (the model's eos_token_id)")
    return np.array([t for enc in tok.encode_batch(documents) for t in (*enc.ids, eos)], np.int32)


@lru_cache(maxsize=3)
def tokens(split: str) -> np.ndarray:
    """The split's text ("train", "calibration" or "test") as one read-only int32 stream of token ids."""
    ids = encode_documents(tokenizer(), english_text.split(split))
    ids.flags.writeable = False
    return ids


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z -= z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def perplexity(logits_fn: Callable[[np.ndarray], np.ndarray], tokens: np.ndarray, context: int = CONTEXT,
               stride: int | None = None) -> float:
    """exp of the mean negative log-likelihood of tokens[1:], each token scored exactly once.

    Windows of `context` tokens start at 0, stride, 2·stride, ... (stride = context by default: the windows do
    not overlap) until one reaches the last token. logits_fn maps a window, int32 [T] (T ≤ context: the last
    window may be shorter), to float logits [T, V] whose row t predicts the token after the window's token t.
    Each window is run from its own start, with no state from the one before; it scores the tokens that no
    earlier window scored. So without overlap a window's first prediction sees one token and its last sees
    `context`; a stride below context gives every prediction after the first window at least context - stride
    tokens of its past, at context / stride times the cost. Log-softmax in float64.
    """
    stride = stride or context
    if not 0 < stride <= context:
        raise ValueError(f"stride must be in 1..context ({context}), got {stride}")
    tokens = np.asarray(tokens, np.int32)
    if len(tokens) < 2:
        raise ValueError("perplexity needs at least 2 tokens")
    nll, start = 0.0, 0
    while True:
        window = tokens[start:start + context + 1]  # the inputs and, one along, their targets
        logp = _log_softmax(np.asarray(logits_fn(window[:-1])))
        first = 0 if start == 0 else context - stride  # the targets the window before did not score
        nll -= logp[np.arange(first, len(window) - 1), window[first + 1:]].sum()
        if start + context >= len(tokens) - 1:
            return float(np.exp(nll / (len(tokens) - 1)))
        start += stride


def torch_logits(model) -> Callable[[np.ndarray], np.ndarray]:
    """`model` (a causal LM taking input_ids and returning .logits) as perplexity's logits_fn."""
    import torch

    def logits_fn(window: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(window.astype(np.int64))[None]).logits[0].float().numpy()

    return logits_fn


def unigram_logits(train_tokens: np.ndarray, vocab: int = VOCAB) -> Callable[[np.ndarray], np.ndarray]:
    """The baseline that knows only how often each token is (add-one smoothed counts of train_tokens), as a
    logits_fn: a model has learned something from the text where its perplexity is far below this one's."""
    log_p = np.log(np.bincount(train_tokens, minlength=vocab) + 1.0)
    return lambda window: np.broadcast_to(log_p, (len(window), vocab))


@dataclass(frozen=True)
class LanguageModel:
    name: str
    description: str
    build: Callable[[], object]  # → LlamaForCausalLM, float32, eval mode
    tokenizer: Callable[[], object]  # → tokenizers.Tokenizer
    tokens: Callable[[str], np.ndarray]  # split ("train", "calibration", "test") → int32 token stream
    context: int


LM_ZOO: dict[str, LanguageModel] = {
    "llama-fortunes": LanguageModel(
        "llama-fortunes", "LlamaForCausalLM (4 layers, dim 256, 8 heads sharing 2 key-value heads, SwiGLU 640, "
        "byte-level BPE 4096) trained here on Debian's English fortunes, context 128", build, tokenizer, tokens,
        CONTEXT),
}
