"""`intedge bench llama-fortunes`: a decoder LM's prefill and decode speed in intedge and its peers, one run.

Every engine gets the same 128-token prompt of token ids and then decodes
64 tokens one at a time on its KV cache (llm_peers.py says how each is
timed). Each measurement runs in a fresh process, so its peak RSS is its
own, and the engines take turns round by round, so a noisy spell of this
shared machine falls on all of them; a figure is the median of the rounds.
Accuracy comes from the same files: each engine's perplexity on the first
held-out tokens (intedge's graphs converted with every position's logits,
llama.cpp's with logits_all, PyTorch's float model).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from intedge.runtime import Session

from . import llm_peers

ROUNDS = 3
ACCURACY_TOKENS = 1024
GGUF_TYPES = {"llamacpp-q8_0": "Q8_0", "llamacpp-q4_0": "Q4_0", "llamacpp-f32": "F32"}
ALL_ENGINES = ("intedge-w8a8", "intedge-w4a8", "llamacpp-q8_0", "llamacpp-q4_0", "llamacpp-f32", "executorch-int8",
               "executorch-8da4w", "torch-fp32")
# the goals of issue 20: intedge's decode against llama.cpp's at the same weight width
PAIRS = (("intedge-w8a8", "llamacpp-q8_0"), ("intedge-w4a8", "llamacpp-q4_0"))


@dataclass
class Row:
    engine: str
    prefill_tok_s: list[float] = field(default_factory=list)
    decode_tok_s: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    perplexity: float | None = None
    skipped: str = ""

    def json(self) -> dict:
        def median(values):
            return statistics.median(values) if values else None

        return {"engine": self.engine, "prefill_tok_s": median(self.prefill_tok_s),
                "decode_tok_s": median(self.decode_tok_s), "peak_rss_mb": self.peak_rss_mb,
                "perplexity": self.perplexity, "skipped": self.skipped or None}


def _artifacts(name: str, engines: list[str], folder: Path, progress: bool) -> tuple[dict, dict, object]:
    """(what each engine loads for speed, for accuracy) and the float model: .ieg, .gguf, a save_pretrained folder."""
    from intedge import lm_commands
    from intedge.converters.zoo import llama_lm

    model = llama_lm.load(name)
    tok = llama_lm.LM_ZOO[name].tokenizer()
    speed, accuracy = {}, {}
    for engine in engines:
        if engine.startswith("intedge-"):
            weights = engine.split("-")[1][:2]
            for logits, where in (("last", speed), ("all", accuracy)):
                g, _ = lm_commands.convert_model(name, weights, None, progress=progress, logits=logits)
                where[engine] = folder / f"{name}-{weights}-{logits}.ieg"
                g.save(where[engine])
        elif engine in GGUF_TYPES:
            speed[engine] = accuracy[engine] = llm_peers.write_gguf(model, folder / f"{name}-{engine}.gguf",
                                                                  GGUF_TYPES[engine], tokenizer=tok)
        elif engine in llm_peers.EXECUTORCH_ENGINES:
            from .executorch_llm import export_executorch_lm

            if progress:
                print(f"exporting {engine} (ExecuTorch's LLM export: a minute or two)", file=sys.stderr)
            speed[engine] = accuracy[engine] = export_executorch_lm(
                model, (folder / f"{name}-{engine}.pte").resolve(), llm_peers.EXECUTORCH_ENGINES[engine])
        else:
            model.save_pretrained(folder / "torch")
            speed[engine] = folder / "torch"
    return speed, accuracy, model


def _perplexity(engine: str, path, model, tokens: np.ndarray, context: int) -> float:
    from intedge import lm_commands
    from intedge.converters.zoo import llama_lm

    if engine == "torch-fp32":
        fn = llama_lm.torch_logits(model)
    elif engine.startswith("intedge-"):
        fn = lm_commands.engine_logits(path)
    elif engine in llm_peers.EXECUTORCH_ENGINES:
        fn = _executorch_logits(path)
    else:
        def fn(window):
            return llm_peers.llamacpp_logits(path, window.tolist())
    return llama_lm.perplexity(fn, tokens, context)


def _executorch_logits(path):
    """perplexity's logits_fn for an LLM .pte, which returns the last position's logits only: one call per
    position, on the cache the calls before it filled."""
    import torch

    from .executorch_llm import load_forward

    forward = load_forward(path)

    def fn(window: np.ndarray) -> np.ndarray:
        return np.stack([forward(torch.tensor([[int(t)]]), p)[0].numpy() for p, t in enumerate(window)])
    return fn


def run(name: str, threads: list[int], engines: list[str] | None = None, isa: str | None = None,
        prompt_len: int = 128, decode_tokens: int = 64, rounds: int = ROUNDS, save: Path | None = None,
        progress: bool = True) -> tuple[str, list[tuple[int, list[Row]]]]:
    """(intedge's kernel path, [(threads, rows)])."""
    from intedge.converters.zoo import llama_lm
    from intedge.extras import MissingExtraError

    engines = list(engines or ALL_ENGINES)
    unknown = sorted(set(engines) - set(ALL_ENGINES))
    if unknown:
        raise ValueError(f"unknown engine(s) {unknown}: choose from {', '.join(ALL_ENGINES)}")
    skipped = {}
    if any(e in GGUF_TYPES for e in engines):
        try:
            llm_peers.require_llamacpp()
        except MissingExtraError as e:
            skipped |= {e2: str(e) for e2 in engines if e2 in GGUF_TYPES}
    lm = llama_lm.LM_ZOO[name]
    tokens = lm.tokens("test")[:ACCURACY_TOKENS]
    with tempfile.TemporaryDirectory(prefix="intedge-lm-bench-") as scratch:
        folder = Path(save or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        live = [e for e in engines if e not in skipped]
        speed, accuracy, model = _artifacts(name, live, folder, progress)
        perplexity = {e: _perplexity(e, accuracy.get(e), model, tokens, lm.context) for e in live}
        ours = [e for e in live if e.startswith("intedge-")]
        kernels = Session(speed[ours[0]], isa=isa).isa if ours else "-"
        tables = []
        for n in threads:
            rows = {e: Row(e, skipped=skipped.get(e, "")) for e in engines}
            for r in range(rounds):
                for e in live:
                    if progress:
                        print(f"\r{n} thread(s), round {r + 1}/{rounds}: {e:16}", end="", file=sys.stderr, flush=True)
                    m = llm_peers.lm_speed(e, speed[e], n, prompt_len, decode_tokens, isa=isa)
                    rows[e].prefill_tok_s.append(m["prefill_tok_s"])
                    rows[e].decode_tok_s.append(m["decode_tok_s"])
                    rows[e].peak_rss_mb = max(rows[e].peak_rss_mb, m["peak_rss_mb"])
            if progress:
                print(file=sys.stderr)
            for e in live:
                rows[e].perplexity = perplexity[e]
            tables.append((n, list(rows.values())))
    return kernels, tables


def ratios(rows: list[Row]) -> list[tuple[str, str, float, float]]:
    """(intedge engine, peer, decode ratio, prefill ratio) for each pair both measured; > 1: intedge faster."""
    by = {r.engine: r.json() for r in rows}
    out = []
    for ours, peer in PAIRS:
        a, b = by.get(ours), by.get(peer)
        if a and b and a["decode_tok_s"] and b["decode_tok_s"]:
            out.append((ours, peer, a["decode_tok_s"] / b["decode_tok_s"], a["prefill_tok_s"] / b["prefill_tok_s"]))
    return out


def table(name: str, n: int, rows: list[Row], isa: str, prompt_len: int, decode_tokens: int, rounds: int) -> str:
    lines = [f"{name}: {prompt_len}-token prompt (prefill), then {decode_tokens} tokens decoded one at a time; "
             f"perplexity on the first {ACCURACY_TOKENS:,} held-out tokens",
             f"batch 1, {n} thread{'s' if n > 1 else ''}, median of {rounds} rounds (engines take turns, each in a "
             f"fresh process); intedge kernels: {isa}",
             f"  {'engine':18} {'prefill tok/s':>14} {'decode tok/s':>13} {'peak RSS MB':>12} {'perplexity':>11}"]
    for r in rows:
        j = r.json()
        if r.skipped:
            lines.append(f"  {r.engine:18} skipped: {r.skipped.splitlines()[0]}")
            continue
        lines.append(f"  {r.engine:18} {j['prefill_tok_s']:14,.0f} {j['decode_tok_s']:13,.0f} {j['peak_rss_mb']:12.0f} "
                     f"{j['perplexity']:11.2f}")
    for ours, peer, decode, prefill in ratios(rows):
        lines.append(f"  {ours} vs {peer}: decode {decode:.2f}x, prefill {prefill:.2f}x its tokens/s "
                     f"(goal: decode > 1)")
    return "\n".join(lines)
