"""The runtimes a user would run a decoder language model (transformers' LlamaForCausalLM) with instead of
intedge, timed the way LM speed is quoted: prefill tokens/s (the prompt in one forward pass) and decode
tokens/s (one token per forward pass after it, on the KV cache), each the median of a few repetitions.

* llama.cpp, through llama-cpp-python (the `llamacpp` extra), on a GGUF file (gguf_writer.py) in F32, Q8_0 or
  Q4_0, with the binding's defaults otherwise (an F16 KV cache, no flash attention);
* PyTorch fp32: the float model with transformers' KV cache.

Both are fed the same token ids and sample nothing: the numbers are the forward passes'. Each measurement runs
in a fresh Python process (lm_speed) so that its peak RSS is its engine's alone: one engine's heap, or torch
imported, would otherwise count against the next.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from intedge.extras import LLAMACPP_CMAKE_ARGS, MissingExtraError, require

from .gguf_writer import file_qtype, write_gguf

# engine → its GGUF type (None: the float model in PyTorch)
ENGINES = {"torch-fp32": None, "llamacpp-f32": "F32", "llamacpp-q8_0": "Q8_0", "llamacpp-q4_0": "Q4_0"}
# intedge's own, timed the same way on a converted decoder .ieg (logits="last", as generating runs it)
INTEDGE_ENGINES = ("intedge-w8a8", "intedge-w4a8")
# ExecuTorch's LLM export (executorch_llm.py) on XNNPACK: engine → its quantization
EXECUTORCH_ENGINES = {"executorch-int8": "int8", "executorch-8da4w": "8da4w"}
REPEATS = 5


def token_ids(vocab_size: int, count: int, seed: int = 0) -> list[int]:
    """The ids every engine is fed: random, so no engine gets an easy prompt."""
    return np.random.default_rng(seed).integers(0, vocab_size, count).tolist()


def require_llamacpp():
    """llama_cpp, refused (as a missing extra, which `bench` skips) where it was built with ggml's AMX int8
    matmul, as the default native build is on an AMX Xeon: that matmul segfaults on Q8_0 and Q4_0 models, this
    project's development model among them (llama.cpp issue 20824)."""
    llama_cpp = require("llama_cpp", "llamacpp", "the llama.cpp peer")
    if b"AMX_INT8 = 1" in llama_cpp.llama_print_system_info():
        raise MissingExtraError(
            "this llama-cpp-python was built with ggml's AMX matmul, which crashes on quantized models: rebuild "
            f'it with CMAKE_ARGS="{LLAMACPP_CMAKE_ARGS}" pip install --force-reinstall --no-cache-dir --no-deps '
            "-c constraints.txt llama-cpp-python")
    return llama_cpp


def llamacpp_model(path: str | Path, threads: int, n_ctx: int, logits_all: bool = False, **options):
    """A GGUF file loaded by llama-cpp-python on `threads` threads, quietly, with a batch as large as the context
    (the binding caps n_batch there): a whole prompt is one llama_decode. options go to llama_cpp.Llama."""
    llama_cpp = require_llamacpp()
    return llama_cpp.Llama(str(path), n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, n_threads=threads,
                           n_threads_batch=threads, logits_all=logits_all, verbose=False, **options)


def llamacpp_logits(path: str | Path, tokens: list[int], threads: int = 1) -> np.ndarray:
    """llama.cpp's logits at every position of tokens, (len(tokens), vocab), for checking it against PyTorch:
    with an F32 KV cache, so that the check sees the weights and the RoPE rather than the cache's rounding."""
    llama_cpp = require_llamacpp()
    llm = llamacpp_model(path, threads, len(tokens), logits_all=True, type_k=llama_cpp.GGML_TYPE_F32,
                         type_v=llama_cpp.GGML_TYPE_F32)
    llm.eval(tokens)
    return np.array(llm.scores[:len(tokens)])


def _timed(prefill, decode, reset, prompt: list[int], following: list[int], repeats: int) -> dict:
    """Median prefill and decode tokens/s over repeats, after one untimed run of each (the first call pays for
    allocation and first-touch page faults)."""
    prefill_s, decode_s = [], []
    for k in range(repeats + 1):
        reset()
        start = time.perf_counter()
        prefill(prompt)
        middle = time.perf_counter()
        for token in following:
            decode(token)
        end = time.perf_counter()
        if k:
            prefill_s.append(middle - start)
            decode_s.append(end - middle)
    return {"prefill_tok_s": len(prompt) / statistics.median(prefill_s),
            "decode_tok_s": len(following) / statistics.median(decode_s)}


def llamacpp_speed(path: str | Path, threads: int, prompt_len: int, decode_tokens: int,
                   repeats: int = REPEATS) -> dict:
    """llama.cpp's prefill and decode tokens/s on a GGUF file, through llama.cpp's C API (llama_decode on
    llama_batch_get_one, which returns the last position's logits only): Llama.eval's Python bookkeeping per
    call would count against llama.cpp at one token a call, on a small model."""
    llama_cpp = require_llamacpp()
    llm = llamacpp_model(path, threads, prompt_len + decode_tokens)
    ids = token_ids(llm.n_vocab(), prompt_len + decode_tokens)
    memory = llama_cpp.llama_get_memory(llm.ctx)

    def run(tokens: list[int]) -> None:
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        if llama_cpp.llama_decode(llm.ctx, llama_cpp.llama_batch_get_one(array, len(tokens))) != 0:
            raise RuntimeError(f"llama_decode failed on {len(tokens)} tokens")

    return _timed(run, lambda token: run([token]), lambda: llama_cpp.llama_memory_clear(memory, True),
                  ids[:prompt_len], ids[prompt_len:], repeats)


def torch_speed(model, threads: int, prompt_len: int, decode_tokens: int, repeats: int = REPEATS) -> dict:
    """PyTorch fp32's prefill and decode tokens/s: model (a LlamaForCausalLM) with its KV cache, the last
    position's logits only, as llama.cpp computes them."""
    import torch

    torch.set_num_threads(threads)
    ids = token_ids(model.config.vocab_size, prompt_len + decode_tokens)
    cache = None

    def prefill(tokens: list[int]) -> None:
        nonlocal cache
        cache = model(torch.tensor([tokens]), use_cache=True, logits_to_keep=1).past_key_values

    def decode(token: int) -> None:
        nonlocal cache
        cache = model(torch.tensor([[token]]), past_key_values=cache, use_cache=True).past_key_values

    with torch.inference_mode():
        return _timed(prefill, decode, lambda: None, ids[:prompt_len], ids[prompt_len:], repeats)


def intedge_speed(path: str | Path, threads: int, prompt_len: int, decode_tokens: int, repeats: int = REPEATS,
                  isa: str | None = None) -> dict:
    """intedge's prefill and decode tokens/s on a decoder .ieg in the C++ engine, through intedge.generate's
    Decoder (the loop `intedge generate` runs)."""
    from intedge.generate import Decoder

    decoder = Decoder(str(path), "engine", threads=threads, isa=isa)
    vocab = decoder.graph.tensors[decoder.graph.outputs[0]].shape[-1]
    ids = token_ids(vocab, prompt_len + decode_tokens)
    return _timed(decoder.feed, lambda token: decoder.feed([token]), decoder.reset, ids[:prompt_len],
                  ids[prompt_len:], repeats)


def executorch_speed(path: str | Path, threads: int, prompt_len: int, decode_tokens: int,
                     repeats: int = REPEATS) -> dict:
    """ExecuTorch's prefill and decode tokens/s on an LLM .pte (executorch_llm.export_executorch_lm), its
    `forward` called from Python as intedge's Decoder is (the KV cache stays in the loaded program)."""
    import torch

    from .executorch_llm import load_forward

    forward = load_forward(Path(path), threads)
    vocab = int(forward(torch.zeros((1, 1), dtype=torch.int64), 0).shape[-1])
    ids = token_ids(vocab, prompt_len + decode_tokens)
    position = 0

    def run(tokens: list[int]) -> None:
        nonlocal position
        forward(torch.tensor([tokens]), position)
        position += len(tokens)

    def reset() -> None:  # a prefill at position 0 overwrites the cache; custom_sdpa reads rows before input_pos
        nonlocal position
        position = 0

    return _timed(run, lambda token: run([token]), reset, ids[:prompt_len], ids[prompt_len:], repeats)


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB. On Linux /proc's VmHWM: ru_maxrss also keeps the peak of the
    process image that exec replaced, so a child started from a large parent would report the parent's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1 << 20)  # bytes on macOS


def _measure_child() -> None:
    """lm_speed's child process: the measurement its stdin asks for, then this process's peak RSS, as JSON
    on the last line of stdout."""
    spec = json.loads(sys.stdin.read())
    args = (spec["threads"], spec["prompt_len"], spec["decode_tokens"], spec["repeats"])
    if spec["engine"] == "torch-fp32":
        import torch
        from transformers import LlamaForCausalLM

        result = torch_speed(LlamaForCausalLM.from_pretrained(spec["model"], dtype=torch.float32).eval(), *args)
    elif spec["engine"] in INTEDGE_ENGINES:
        result = intedge_speed(spec["model"], *args, isa=spec.get("isa"))
    elif spec["engine"] in EXECUTORCH_ENGINES:
        result = executorch_speed(spec["model"], *args)
    else:
        result = llamacpp_speed(spec["model"], *args)
    print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))


def lm_speed(engine: str, model_or_gguf, threads: int, prompt_len: int = 128, decode_tokens: int = 64,
             repeats: int = REPEATS, isa: str | None = None) -> dict:
    """One engine's {prefill_tok_s, decode_tok_s, peak_rss_mb} (see the module's docstring), measured in a fresh
    process.

    engine: one of ENGINES or INTEDGE_ENGINES. model_or_gguf: a LlamaForCausalLM, or what the engine loads: a
    folder that transformers' from_pretrained reads for torch-fp32, a GGUF file of the engine's type for
    llama.cpp, a decoder .ieg for intedge (isa: its kernel path). A model is written for the child first
    (save_pretrained, or write_gguf in the engine's type), in a temporary folder.
    """
    known = (*ENGINES, *INTEDGE_ENGINES, *EXECUTORCH_ENGINES)
    if engine not in known:
        raise ValueError(f"LM engine {engine!r}: expected one of {', '.join(known)}")
    if engine not in ENGINES and not isinstance(model_or_gguf, (str, Path)):
        raise ValueError(f"{engine} times a file made for it (a decoder .ieg, an LLM .pte): give its path")
    if engine in ENGINES and engine != "torch-fp32":
        require_llamacpp()
    if ENGINES.get(engine) and isinstance(model_or_gguf, (str, Path)) and file_qtype(model_or_gguf) != ENGINES[engine]:
        raise ValueError(f"{engine} runs {ENGINES[engine]} GGUF files; {model_or_gguf} is {file_qtype(model_or_gguf)}")
    with tempfile.TemporaryDirectory(prefix="intedge-lm-") as scratch:
        path = model_or_gguf
        if not isinstance(model_or_gguf, (str, Path)):
            if engine == "torch-fp32":
                model_or_gguf.save_pretrained(scratch)
                path = scratch
            else:
                path = write_gguf(model_or_gguf, Path(scratch) / "model.gguf", ENGINES[engine])
        spec = {"engine": engine, "model": str(path), "threads": threads, "prompt_len": prompt_len,
                "decode_tokens": decode_tokens, "repeats": repeats, "isa": isa}
        child = subprocess.run([sys.executable, "-c", "from intedge.profilers.llm_peers import _measure_child; "
                                "_measure_child()"], input=json.dumps(spec), capture_output=True, text=True)
    if child.returncode:
        raise RuntimeError(f"{engine} measurement failed (exit {child.returncode}):\n{child.stderr[-2000:]}")
    return json.loads(child.stdout.splitlines()[-1])
