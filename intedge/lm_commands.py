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


def special_ids(config) -> dict[str, int]:
    """The model's bos and eos token ids (the first of a list), those it has."""
    ids = {}
    for name in ("bos_token_id", "eos_token_id"):
        value = getattr(config, name, None)
        value = value[0] if isinstance(value, list | tuple) and value else value
        if isinstance(value, int):
            ids[name] = value
    return ids


def calibration_windows(spec: str, count: int, context: int, eos: int | None = None) -> list[np.ndarray]:
    """count windows of `context` tokens: the zoo model's calibration split, or for a user's model the zoo's
    English calibration text in its own tokenizer, documents separated by its eos id."""
    from intedge.converters.data import english_text
    from intedge.converters.zoo import llama_lm

    try:
        tokens = (llama_lm.LM_ZOO[spec].tokens("calibration") if spec in llama_lm.LM_ZOO
                  else llama_lm.encode_documents(_tokenizer_for(spec), english_text.split("calibration"), eos))
    except ValueError as e:  # no end-of-text token to separate the documents
        raise ConversionError(f"{spec}: {e}") from None
    windows = [tokens[i:i + context] for i in range(0, len(tokens) - context + 1, context)][:count]
    if not windows:
        raise ConversionError(f"the calibration text has fewer than {context} tokens")
    return windows


def convert_model(spec: str, weights: str, calib: int | None, context: int | None = None, gptq: bool = True,
                  progress: bool = True, logits: str = "last", group_size: int = 32):
    """(integer decoder graph with its tokenizer and special token ids in the metadata, float model)."""
    from intedge.converters.llama_convert import convert_llama
    from intedge.converters.zoo import llama_lm
    from intedge.generate import TOKENIZER_KEY

    model = llama_lm.load(spec)
    limit = model.config.max_position_embeddings
    if context is not None and not 1 <= context <= limit:
        raise ConversionError(f"--context {context} is outside [1, {limit}] for {spec}")
    special = special_ids(model.config)
    windows = calibration_windows(spec, calib or DEFAULT_CALIB_WINDOWS,
                                  llama_lm.CONTEXT if spec in llama_lm.LM_ZOO else min(limit, 128),
                                  special.get("eos_token_id"))
    try:
        g = convert_llama(model, windows, weights, context=context, gptq=gptq, progress=progress, logits=logits,
                          group_size=group_size)
    except ValueError as e:  # a bad group size: the user's flag
        raise ConversionError(str(e)) from None
    g.name = Path(spec).name
    g.metadata[TOKENIZER_KEY] = _tokenizer_for(spec).to_str()
    g.metadata.update({name: str(value) for name, value in special.items()})
    return g, model


def refuse_encoder_flags(args) -> None:
    """The conversion and eval flags that mean nothing for a language model yet, refused when given rather than
    ignored (defaults as the CLI sets them)."""
    given = [(flag, getattr(args, name, default) not in (default, None, False, 0))
             for flag, name, default in (("--calib-data", "calib_data", None), ("--budget", "budget", None),
                                         ("--smooth", "smooth", None), ("--qat", "qat", 0),
                                         ("--dynamic-seq", "dynamic_seq", False), ("--report", "report", False),
                                         ("--method", "method", "minmax"), ("--gelu", "gelu", "table"),
                                         ("--split", "split", "test"), ("--kernels", "kernels", "engine"),
                                         ("--batch", "batch", 50))]
    unsupported = [flag for flag, set_ in given if set_]
    if unsupported:
        raise ConversionError(f"{', '.join(unsupported)}: not available for language models yet")


def convert(args) -> int:
    refuse_encoder_flags(args)
    t0 = time.perf_counter()
    g, _ = convert_model(args.model, args.weights, args.calib, args.context, logits=args.logits,
                         group_size=args.group_size)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    g.save(out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(g.ops)} integer ops, context {g.metadata['context']} "
          f"tokens) in {time.perf_counter() - t0:.1f} s")
    return 0


def engine_logits(graph, threads: int = 1):
    """perplexity's logits_fn for the integer graph (a Graph or a .ieg path) in the C++ engine: each window from
    position 0."""
    from intedge.generate import Decoder

    decoder = Decoder(graph, "engine", threads=threads)

    def logits_fn(window: np.ndarray) -> np.ndarray:
        decoder.reset()
        return decoder.feed(window)
    return logits_fn


def evaluate(spec: str, calib: int | None = None, limit: int | None = None, progress: bool = True,
             group_size: int = 32) -> dict:
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
        g, model = convert_model(spec, weights, calib, context=lm.context, progress=progress, logits="all",
                                 group_size=group_size)
        result[weights] = llama_lm.perplexity(engine_logits(g), tokens, lm.context)
    result["float"] = llama_lm.perplexity(llama_lm.torch_logits(model), tokens, lm.context)
    return result


def print_eval(r: dict) -> None:
    print(f"{r['model']}: perplexity on {r['tokens']:,} held-out tokens (windows of {r['context']}; lower is better)")
    for label, key in (("float (PyTorch fp32)", "float"), ("intedge integer-only W8A8", "w8"),
                       ("intedge integer-only W4A8 (GPTQ)", "w4")):
        delta = "" if key == "float" else f"   ({r[key] / r['float'] - 1:+.1%} vs float)"
        print(f"  {label:38} {r[key]:8.3f}{delta}")


def _decoder_source(spec: str):
    """What a Decoder opens: a .ieg decoder's path, or a zoo LM / user folder converted now at W8A8."""
    if Path(spec).suffix == ".ieg":
        if not Path(spec).is_file():
            raise FileNotFoundError(f"{spec}: no such file")
        return spec
    if not is_language_model(spec):
        raise ConversionError(f"{spec!r} is neither a .ieg decoder nor a language model ({', '.join(LM_NAMES)}, or "
                              "a save_pretrained folder of a LlamaForCausalLM)")
    print(f"converting {spec} (W8A8; `intedge convert` saves a .ieg to skip this)", file=sys.stderr)
    return convert_model(spec, "w8", None, progress=False)[0]


def generate(args) -> int:
    from intedge.generate import Decoder, Sampling, generate, tokenizer_of

    decoder = Decoder(_decoder_source(args.model), args.executor, threads=args.threads, isa=args.isa)
    g = decoder.graph
    tok = tokenizer_of(g)
    sampling = Sampling(args.temperature, args.top_k, args.top_p, args.seed)
    prompt = tok.encode(args.prompt).ids
    eos = int(g.metadata["eos_token_id"]) if "eos_token_id" in g.metadata else None
    if args.bos and "bos_token_id" in g.metadata:  # as the model's documents began in training
        prompt = [int(g.metadata["bos_token_id"]), *prompt]
    if len(prompt) >= decoder.context:
        raise ValueError(f"the prompt has {len(prompt)} tokens; the context holds {decoder.context}")
    print(args.prompt, end="", flush=True)
    shown, gen = "", None
    for _token, gen in generate(decoder, prompt, args.max_tokens, sampling, stop=eos):
        text = tok.decode(gen.tokens)  # decoding the whole tail keeps multi-byte characters whole
        print(text[len(shown):], end="", flush=True)
        shown = text
    print()
    if len(gen.tokens) < args.max_tokens and gen.tokens[-1] != eos:
        print(f"(the context of {decoder.context} tokens is full)", file=sys.stderr)
    # the first token comes from the prefill's logits: decoding starts with the second
    decode = f"{gen.decode_tok_s:,.1f} tokens/s decode" if len(gen.tokens) > 1 else "no decode step"
    print(f"prompt {len(prompt)} tokens: {gen.prefill_tok_s:,.1f} tokens/s prefill; generated {len(gen.tokens)}: "
          f"{decode} ({args.executor}, {args.threads} thread{'s' if args.threads > 1 else ''})", file=sys.stderr)
    return 0
