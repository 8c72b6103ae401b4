"""Keeping evaluation data apart from the data a conversion was tuned on, in code.

Each sample is fingerprinted by the bytes of its input rows (one row of every
input array, with its dtype and shape), so a calibration or QAT sample that is
also in the scored set is found whatever split or file it came from.
`evaluate()` calls check_disjoint before it scores; the tests run it on every
zoo model's calibration, training, validation and test splits.
"""

from __future__ import annotations

import hashlib

import numpy as np

from intedge.converters.errors import CalibrationError


def fingerprints(samples) -> list[bytes]:
    """One digest per sample. samples: a list of input tuples (calibration items, each of one or more
    rows), or one tuple of stacked input arrays (a test, validation or training set's inputs)."""
    if isinstance(samples, tuple):
        samples = [samples]
    out = []
    for item in samples:
        arrays = [np.ascontiguousarray(np.asarray(x)) for x in item]
        for k in range(len(arrays[0]) if arrays else 0):
            h = hashlib.blake2b(digest_size=16)
            for x in arrays:
                h.update(f"{x.dtype.str}{x.shape[1:]}".encode())
                h.update(x[k].tobytes())
            out.append(h.digest())
    return out


def check_disjoint(used, scored, used_name: str = "calibration", scored_name: str = "test") -> None:
    """Raise CalibrationError if any sample of `used` (what the conversion calibrated or trained on) is also
    a sample of `scored` (what is evaluated); both as fingerprints() takes them."""
    seen = {d: k for k, d in enumerate(fingerprints(scored))}
    shared = [(i, seen[d]) for i, d in enumerate(fingerprints(used)) if d in seen]
    if shared:
        pairs = ", ".join(f"{used_name} #{i} = {scored_name} #{j}" for i, j in shared[:5])
        raise CalibrationError(f"{len(shared)} {used_name} sample(s) are also in the {scored_name} set being "
                               f"scored ({pairs}{', ...' if len(shared) > 5 else ''}): evaluation data must be "
                               "disjoint from the data the conversion was tuned on")
