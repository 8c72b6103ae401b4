"""Text generation with an integer decoder graph: prefill a prompt, then decode token by token.

The graph (converters/llama_graph.py) takes `tokens` and `positions` [S]
and keeps its KV caches in state tensors, so a Decoder only counts the
tokens the caches hold: prefill is one run of the prompt at positions
0 … n−1, each decode step one run of the last token at position n. The
same loop drives the C++ engine (the session keeps the state) and the
reference executor (this module keeps it), so both give the same tokens
for the same seed. Sampling happens here, on the host, in float64 over the
dequantized logits: greedy, or temperature with top-k and top-p, seeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from intedge.ir import Graph
from intedge.reference import ExecutionError

TOKENIZER_KEY = "tokenizer.json"  # graph metadata: the tokenizer's JSON, so a .ieg is all generate needs


class Decoder:
    """A decoder graph with its KV caches, in the engine ("engine") or the reference executor ("reference")."""

    def __init__(self, model, executor: str = "engine", threads: int = 1, isa: str | None = None):
        from intedge.ir import load

        self.graph: Graph = model if isinstance(model, Graph) else load(model)
        if self.graph.metadata.get("intedge.kind") != "decoder":
            raise ValueError(f"{self.graph.name or model}: not a decoder graph (convert a LlamaForCausalLM)")
        self.context = int(self.graph.metadata["context"])
        self.last_only = self.graph.metadata.get("logits") == "last"
        if executor == "engine":
            from intedge.runtime import Session

            self._session = Session(self.graph.to_bytes() if isinstance(model, Graph) else model, threads=threads,
                                    isa=isa)
            order = [t.name for t in self._session.inputs]
            self._run = lambda feeds: self._session.run_list([feeds[name] for name in order])[0]
        elif executor == "reference":
            from intedge import reference

            self._state = reference.new_state(self.graph)
            self._run = lambda feeds: reference.run(self.graph, feeds, state=self._state)["logits"]
        else:
            raise ValueError(f"executor must be 'engine' or 'reference', got {executor!r}")
        self.length = 0  # tokens the caches hold
        self._positions = np.arange(self.context, dtype=np.int32)

    def reset(self) -> None:
        """Forget the context (the caches' rows are overwritten from position 0 on)."""
        self.length = 0

    def feed(self, tokens) -> np.ndarray:
        """Run tokens [S] at the next S positions; their logits [S, V] (float32), or the last token's [1, V] for a
        graph converted with logits="last"."""
        tokens = np.asarray(tokens, np.int32).reshape(-1)
        n = len(tokens)
        if n == 0:
            raise ValueError("no tokens to feed")
        if self.length + n > self.context:
            raise ExecutionError(f"the context holds {self.context} tokens: {self.length} are in it, "
                                 f"{n} more do not fit")
        feeds = {"tokens": tokens, "positions": self._positions[self.length:self.length + n]}
        if self.last_only:
            feeds["last"] = np.array([n - 1], np.int32)
        logits = self._run(feeds)
        self.length += n
        return logits


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.0  # 0: greedy
    top_k: int = 0  # 0: all tokens
    top_p: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.temperature < 0 or self.top_k < 0 or not 0 < self.top_p <= 1:
            raise ValueError("temperature and top_k must be >= 0 and top_p in (0, 1]")

    def sampler(self) -> Callable[[np.ndarray], int]:
        rng = np.random.default_rng(self.seed)

        def pick(logits: np.ndarray) -> int:
            if self.temperature == 0:
                return int(np.argmax(logits))
            z = np.asarray(logits, np.float64) / self.temperature
            order = np.argsort(-z, kind="stable")
            if self.top_k:
                order = order[: self.top_k]
            p = np.exp(z[order] - z[order[0]])
            p /= p.sum()
            # the smallest head with mass ≥ top_p (all of them where rounding leaves the sum short of it)
            keep = min(int(np.searchsorted(np.cumsum(p), self.top_p)) + 1, len(p))
            p = p[:keep] / p[:keep].sum()
            return int(order[rng.choice(keep, p=p)])
        return pick


@dataclass
class Generation:
    prompt_tokens: list[int]
    tokens: list[int] = field(default_factory=list)
    prefill_s: float = 0.0
    decode_s: float = 0.0

    @property
    def prefill_tok_s(self) -> float:
        return len(self.prompt_tokens) / self.prefill_s if self.prefill_s else 0.0

    @property
    def decode_tok_s(self) -> float:
        # the first new token comes from the prefill's logits: decode runs produce the others
        runs = max(len(self.tokens) - 1, 0)
        return runs / self.decode_s if self.decode_s else 0.0


def generate(decoder: Decoder, prompt_tokens, max_tokens: int, sampling: Sampling = Sampling(),
             stop: int | None = None) -> Iterator[tuple[int, Generation]]:
    """Yields each new token with the Generation so far (times included). Stops after max_tokens, at the
    `stop` token, or when the context is full."""
    gen = Generation([int(t) for t in prompt_tokens])
    if not gen.prompt_tokens:
        raise ValueError("the prompt has no tokens")
    pick = sampling.sampler()
    decoder.reset()
    t0 = time.perf_counter()
    logits = decoder.feed(gen.prompt_tokens)[-1]
    gen.prefill_s = time.perf_counter() - t0
    while len(gen.tokens) < max_tokens:
        token = pick(logits)
        gen.tokens.append(token)
        yield token, gen
        if token == stop or len(gen.tokens) == max_tokens or decoder.length >= decoder.context:
            break
        t0 = time.perf_counter()
        logits = decoder.feed([token])[-1]
        gen.decode_s += time.perf_counter() - t0


def tokenizer_of(graph: Graph):
    """The tokenizers.Tokenizer a converted decoder carries in its metadata."""
    from intedge.extras import require

    require("tokenizers", "zoo", "intedge generate")
    from tokenizers import Tokenizer

    if TOKENIZER_KEY not in graph.metadata:
        raise ValueError("this decoder graph carries no tokenizer (metadata 'tokenizer.json'): convert it with one")
    return Tokenizer.from_str(graph.metadata[TOKENIZER_KEY])
