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


def io_bytes(graph, feed: dict[str, np.ndarray]) -> tuple[bytes, bytes]:
    """(inputs, the reference executor's outputs) as native code reads and writes them (intedge-bench --inputs
    and --outputs, jni_driver, RunModel): the graph's tensors' bytes, in graph order."""
    from intedge import reference

    out = reference.run(graph, feed)
    return tuple(b"".join(np.ascontiguousarray(values[graph.tensors[t].name]).tobytes() for t in ids)
                 for values, ids in ((feed, graph.inputs), (out, graph.outputs)))


def every_op_bins() -> tuple[bytes, bytes]:
    """(inputs, expected outputs) of tests/fixtures/every_op.ieg."""
    import intedge
    from intedge.examples.every_op import example_inputs

    return io_bytes(intedge.load(FIXTURES / "every_op.ieg"), example_inputs())


if __name__ == "__main__":
    inputs, outputs = every_op_bins()
    (FIXTURES / "every_op.in.bin").write_bytes(inputs)
    (FIXTURES / "every_op.out.bin").write_bytes(outputs)
    print(f"wrote {FIXTURES / 'every_op.in.bin'} ({len(inputs)} bytes), every_op.out.bin ({len(outputs)} bytes)")
