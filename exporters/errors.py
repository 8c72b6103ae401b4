"""What an export refuses, said to the user (the CLI prints it and exits 2)."""

from __future__ import annotations

# Ops of a Llama-style decoder (integer_ops/decoder.py) that no exporter translates yet.
DECODER_OPS = ("rope", "swiglu", "cached_attention")


class ExportError(ValueError):
    """A graph, format or path an exporter cannot take: names the op or argument and why."""


def refuse_decoder_graphs(graph, what: str, rms_norm: bool = False) -> None:
    """ExportError naming what `what` (an export) cannot write yet: state tensors, which live from one run to the
    next (a decoder's KV cache; no exported format keeps state between calls here), the decoder ops, and with
    rms_norm an RMSNorm (ilayernorm rms) for an exporter whose I-LayerNorm has no such form."""
    states = [t.name for t in graph.tensors if t.is_state]
    kinds = [k for k in DECODER_OPS if any(op.kind == k for op in graph.ops)]
    if rms_norm and any(op.kind == "ilayernorm" and op.options.get("rms") for op in graph.ops):
        kinds.append("ilayernorm with rms")
    parts = []
    if states:
        shown = ", ".join(states[:4]) + (", …" if len(states) > 4 else "")
        parts.append(f"{len(states)} state tensor{'s' if len(states) > 1 else ''} ({shown}: a KV cache kept between "
                     "runs)")
    if kinds:
        parts.append(f"the decoder op{'s' if len(kinds) > 1 else ''} {', '.join(kinds)}")
    if parts:
        raise ExportError(f"{what}: graph '{graph.name}' is not exportable yet: it has {' and '.join(parts)}; "
                          "run it in intedge's engine (intedge.runtime.Session)")
