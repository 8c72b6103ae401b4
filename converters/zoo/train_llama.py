"""Train llama-fortunes (llama_lm.py): its tokenizer, then the model; `train.py llama-fortunes` runs this.

The tokenizer is a byte-level BPE (any text encodes, and decodes back byte for
byte) learned from the train split only. The model sees random windows of
CONTEXT + 1 tokens of the train stream, BATCH at a time, for `steps` AdamW
steps with linear warmup and cosine decay: STEPS took 16 minutes here, on
one thread of two cores that others kept busy (load 5 to 6). Seeded and
single-process. The checkpoint is fp16
(the state dict and CONFIG): half the bytes of float32; build() widens it.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from intedge.converters.data import english_text

from . import llama_lm as lm
from .optim import step, warmup_cosine

STEPS = 700
BATCH = 32
LR = 3e-3
WARMUP = 0.05  # of the steps


def train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=lm.VOCAB, special_tokens=[lm.EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(english_text.train_documents(), trainer)
    if tok.get_vocab_size() != lm.VOCAB or tok.token_to_id(lm.EOS) != lm.CONFIG["eos_token_id"]:
        raise RuntimeError(f"the tokenizer has {tok.get_vocab_size()} tokens and EOS {tok.token_to_id(lm.EOS)}, "
                           f"not {lm.VOCAB} and {lm.CONFIG['eos_token_id']}")
    return tok


def _windows(stream: np.ndarray, steps: int, rng: np.random.Generator):
    for _ in range(steps):
        starts = rng.integers(0, len(stream) - lm.CONTEXT - 1, BATCH)
        yield torch.from_numpy(np.stack([stream[s:s + lm.CONTEXT + 1] for s in starts]).astype(np.int64))


def train(steps: int) -> None:
    # One thread: on two cores that others share, torch's two threads wait on each other at every op (4-9 s a
    # step, against 2 s for one thread, measured side by side). The matmuls run in bfloat16 (autocast; the
    # weights, AdamW and the loss stay float32): 3 times faster again where the CPU has AMX, as here.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    t0 = time.time()
    tok = train_tokenizer()
    tok.save(str(lm.TOKENIZER))
    lm.tokenizer.cache_clear()
    lm.tokens.cache_clear()
    stream = lm.tokens("train")
    model = lm.build(weights=False).train()
    params = list(model.parameters())
    opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                             {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],  # RMSNorm gains
                            lr=LR, betas=(0.9, 0.95))
    warmup = max(1, int(steps * WARMUP))
    sched = warmup_cosine(opt, steps, warmup)
    bar = tqdm(_windows(stream, steps, np.random.default_rng(0)), total=steps, desc="llama-fortunes")
    for batch in bar:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(batch[:, :-1]).logits
        step(model, opt, sched, nn.functional.cross_entropy(logits.float().flatten(0, 1), batch[:, 1:].flatten()), bar)
    model.eval()
    # fp16 of the model itself, so the tied embedding and output layer stay one tensor in the file
    torch.save({"config": lm.CONFIG, "state_dict": copy.deepcopy(model).half().state_dict()}, lm.CHECKPOINT)
    print(f"trained llama-fortunes ({len(stream):,} train tokens, {steps} steps of {BATCH}×{lm.CONTEXT}) in "
          f"{time.time() - t0:.0f} s → {lm.CHECKPOINT}")
    test = lm.tokens("test")
    print(f"held-out perplexity ({len(test):,} tokens, windows of {lm.CONTEXT}): "
          f"{lm.perplexity(lm.torch_logits(lm.build()), test):.2f}; "
          f"unigram baseline {lm.perplexity(lm.unigram_logits(stream), test):.2f}")
