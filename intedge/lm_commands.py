"""The language-model side of the CLI: convert, eval (perplexity) and generate for decoder LMs.

A model is a name of the LM zoo (converters/zoo/llama_lm.py) or a folder a
LlamaForCausalLM was saved to with save_pretrained (its tokenizer.json
beside it, as `transformers` writes it); generate also takes the .ieg that
convert wrote, which carries its tokenizer.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from intedge.converters import LM_NAMES
from intedge.converters.errors import ConversionError

DEFAULT_CALIB_WINDOWS = 16


def is_language_model(spec: str) -> bool:
    """A zoo LM name, or a folder holding a Llama config (a user's save_pretrained)."""
    if spec in LM_NAMES:
        return True
    config = Path(spec) / "config.json"
    return config.is_file() and '"LlamaForCausalLM"' in config.read_text(errors="replace")


def _tokenizer_for(spec: str):
    from intedge.converters.zoo import llama_lm

    if spec in llama_lm.LM_ZOO:
        return llama_lm.LM_ZOO[spec].tokenizer()
    path = Path(spec) / "tokenizer.json"
    if not path.is_file():
        raise ConversionError(f"{spec}: no tokenizer.json beside the model (save the tokenizer with it)")
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def calibration_windows(spec: str, count: int, context: int) -> list[np.ndarray]:
    """count windows of `context` tokens: the zoo model's calibration split, or for a user's model the zoo's
    English calibration text in its own tokenizer."""
    from intedge.converters.data import english_text
    from intedge.converters.zoo import llama_lm

    tokens = (llama_lm.LM_ZOO[spec].tokens("calibration") if spec in llama_lm.LM_ZOO
              else llama_lm.encode_documents(_tokenizer_for(spec), english_text.split("calibration")))
    windows = [tokens[i:i + context] for i in range(0, len(tokens) - context + 1, context)][:count]
    if not windows:
        raise ConversionError(f"the calibration text has fewer than {context} tokens")
    return windows


def convert_model(spec: str, weights: str, calib: int | None, context: int | None = None, gptq: bool = True,
                  progress: bool = True, logits: str = "last"):
    """(integer decoder graph with its tokenizer in the metadata, float model)."""
    from intedge.converters.llama_convert import convert_llama
    from intedge.converters.zoo import llama_lm
    from intedge.generate import TOKENIZER_KEY

    model = llama_lm.load(spec)
    limit = model.config.max_position_embeddings
    if context is not None and not 1 <= context <= limit:
        raise ConversionError(f"--context {context} is outside [1, {limit}] for {spec}")
    windows = calibration_windows(spec, calib or DEFAULT_CALIB_WINDOWS,
                                  llama_lm.CONTEXT if spec in llama_lm.LM_ZOO else min(limit, 128))
    g = convert_llama(model, windows, weights, context=context, gptq=gptq, progress=progress, logits=logits)
    tok = _tokenizer_for(spec)
    g.name = Path(spec).name
    g.metadata[TOKENIZER_KEY] = tok.to_str()
    eos = tok.token_to_id(llama_lm.EOS)
    if eos is not None:
        g.metadata["eos_token_id"] = str(eos)
    return g, model


def convert(args) -> int:
    unsupported = [flag for flag, value in (("--calib-data", args.calib_data), ("--budget", args.budget),
                                            ("--smooth", args.smooth), ("--qat", args.qat),
                                            ("--dynamic-seq", args.dynamic_seq), ("--report", args.report))
                   if value]
    if unsupported:
        raise ConversionError(f"{', '.join(unsupported)}: not available for language models yet")
    t0 = time.perf_counter()
    g, _ = convert_model(args.model, args.weights, args.calib, args.context, logits=args.logits)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    g.save(out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(g.ops)} integer ops, context {g.metadata['context']} "
          f"tokens) in {time.perf_counter() - t0:.1f} s")
    return 0


def engine_logits(graph, threads: int = 1):
    """perplexity's logits_fn for the integer graph in the C++ engine: each window from position 0."""
    from intedge.generate import Decoder

    decoder = Decoder(graph, "engine", threads=threads)

    def logits_fn(window: np.ndarray) -> np.ndarray:
        decoder.reset()
        return decoder.feed(window)
    return logits_fn


def evaluate(spec: str, calib: int | None = None, limit: int | None = None, progress: bool = True) -> dict:
    """Perplexity of the float model and its W8A8 and W4A8 graphs on the held-out text (the first `limit`
    tokens)."""
    from intedge.converters.zoo import llama_lm

    if spec not in llama_lm.LM_ZOO:
        raise ConversionError(f"eval scores the zoo's language models ({', '.join(llama_lm.LM_ZOO)})")
    lm = llama_lm.LM_ZOO[spec]
    tokens = lm.tokens("test")[:limit]
    result = {"model": spec, "metric": "perplexity", "tokens": int(len(tokens)), "context": lm.context}
    model = None
    for weights in ("w8", "w4"):
        g, model = convert_model(spec, weights, calib, context=lm.context, progress=progress, logits="all")
        result[weights] = llama_lm.perplexity(engine_logits(g), tokens, lm.context)
    result["float"] = llama_lm.perplexity(llama_lm.torch_logits(model), tokens, lm.context)
    return result


def print_eval(r: dict) -> None:
    print(f"{r['model']}: perplexity on {r['tokens']:,} held-out tokens (windows of {r['context']}; lower is better)")
    for label, key in (("float (PyTorch fp32)", "float"), ("intedge integer-only W8A8", "w8"),
                       ("intedge integer-only W4A8 (GPTQ)", "w4")):
        delta = "" if key == "float" else f"   ({r[key] / r['float'] - 1:+.1%} vs float)"
        print(f"  {label:38} {r[key]:8.3f}{delta}")


def _decoder_graph(spec: str):
    """A .ieg decoder, or a zoo LM / user folder converted now at W8A8."""
    from intedge.ir import load

    if Path(spec).suffix == ".ieg":
        if not Path(spec).is_file():
            raise FileNotFoundError(f"{spec}: no such file")
        return load(spec)
    if not is_language_model(spec):
        raise ConversionError(f"{spec!r} is neither a .ieg decoder nor a language model ({', '.join(LM_NAMES)}, or "
                              "a save_pretrained folder of a LlamaForCausalLM)")
    print(f"converting {spec} (W8A8; `intedge convert` saves a .ieg to skip this)", file=sys.stderr)
    return convert_model(spec, "w8", None, progress=False)[0]


def generate(args) -> int:
    from intedge.generate import Decoder, Sampling, generate, tokenizer_of

    g = _decoder_graph(args.model)
    decoder = Decoder(g, args.executor, threads=args.threads, isa=args.isa)
    tok = tokenizer_of(g)
    sampling = Sampling(args.temperature, args.top_k, args.top_p, args.seed)
    prompt = tok.encode(args.prompt).ids
    eos = int(g.metadata["eos_token_id"]) if "eos_token_id" in g.metadata else None
    if args.bos and eos is not None:  # documents start after an end-of-text token, as in training
        prompt = [eos, *prompt]
    if len(prompt) >= decoder.context:
        raise ValueError(f"the prompt has {len(prompt)} tokens; the context holds {decoder.context}")
    print(args.prompt, end="", flush=True)
    shown, gen = "", None
    for _token, gen in generate(decoder, prompt, args.max_tokens, sampling, stop=eos):
        text = tok.decode(gen.tokens)  # decoding the whole tail keeps multi-byte characters whole
        print(text[len(shown):], end="", flush=True)
        shown = text
    print()
    print(f"prompt {len(prompt)} tokens: {gen.prefill_tok_s:,.1f} tokens/s prefill; generated {len(gen.tokens)}: "
          f"{gen.decode_tok_s:,.1f} tokens/s decode ({args.executor}, {args.threads} thread"
          f"{'s' if args.threads > 1 else ''})", file=sys.stderr)
    return 0
