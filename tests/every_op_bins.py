"""The fixture's inputs and expected outputs as raw bytes, for the native tests that have no Python:
tests/fixtures/every_op.in.bin (example_inputs(), graph inputs in order) and every_op.out.bin (the reference
executor's outputs, graph outputs in order), read by edge_runtime/jni/tests/jni_driver.c and the Java bridge's
SessionTest. tests/test_android_bridge.py checks that the files equal what this computes; after a change to
the fixture or the reference, rewrite them with

    python tests/every_op_bins.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def every_op_bins() -> tuple[bytes, bytes]:
    """(inputs, expected outputs) of tests/fixtures/every_op.ieg, each the graph's tensors' bytes in order."""
    import intedge
    from intedge import reference
    from intedge.examples.every_op import example_inputs

    g, feed = intedge.load(FIXTURES / "every_op.ieg"), example_inputs()
    out = reference.run(g, feed)
    raw = [np.ascontiguousarray(feed[g.tensors[t].name]).tobytes() for t in g.inputs]
    return b"".join(raw), b"".join(np.ascontiguousarray(out[g.tensors[t].name]).tobytes() for t in g.outputs)


if __name__ == "__main__":
    inputs, outputs = every_op_bins()
    (FIXTURES / "every_op.in.bin").write_bytes(inputs)
    (FIXTURES / "every_op.out.bin").write_bytes(outputs)
    print(f"wrote {FIXTURES / 'every_op.in.bin'} ({len(inputs)} bytes), every_op.out.bin ({len(outputs)} bytes)")
