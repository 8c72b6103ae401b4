"""Shape and index ops: they move integers, never change them (except argmax).

All are dtype-preserving and scale-preserving: concatenated inputs must share
one scale (the converter requantizes beforehand).

* gather(table [V, D], indices int32 [...]) → [..., D]; an index outside
  [0, V) is an error, never a read out of bounds.
* upsample_nearest: the last two axes grow by integer factors
  (out[..., i, j] = in[..., i // f_h, j // f_w]), as I-Segmenter uses in
  place of bilinear interpolation.
* argmax → int32, the first index of the maximum.
"""

from __future__ import annotations

import numpy as np


class IndexOutOfRange(IndexError):
    pass


def reshape(x, shape):
    return np.reshape(x, tuple(shape))


def transpose(x, perm):
    return np.ascontiguousarray(np.transpose(x, tuple(perm)))


def concat(xs, axis: int):
    return np.concatenate(xs, axis=axis)


def slice_axis(x, axis: int, start: int, end: int, step: int):
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, end, step)
    return np.ascontiguousarray(x[tuple(index)])


def gather(table, indices):
    indices = np.asarray(indices)
    bad = (indices < 0) | (indices >= table.shape[0])
    if np.any(bad):
        raise IndexOutOfRange(
            f"gather index {int(indices[bad].flat[0])} outside [0, {table.shape[0]})"
        )
    return table[indices]


def upsample_nearest(x, factor_h: int, factor_w: int):
    return np.repeat(np.repeat(x, factor_h, axis=-2), factor_w, axis=-1)


def argmax(x, axis: int):
    return np.argmax(x, axis=axis).astype(np.int32)
