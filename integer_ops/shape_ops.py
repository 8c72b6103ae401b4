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

from ._backend import ops_for


class IndexOutOfRange(IndexError):
    pass


def reshape(x, shape):
    return x.reshape(tuple(int(d) for d in shape))


def transpose(x, perm):
    return ops_for(x).transpose(x, perm)


def concat(xs, axis: int):
    return ops_for(xs[0]).concat(xs, axis)


def slice_axis(x, axis: int, start: int, end: int, step: int):
    index = (slice(None),) * axis + (slice(start, end, step),)
    return ops_for(x).transpose(x[index], range(x.ndim))  # a contiguous copy


def gather(table, indices):
    bad = (indices < 0) | (indices >= table.shape[0])
    if bad.any():
        raise IndexOutOfRange(
            f"gather index {int(indices[bad].reshape(-1)[0])} outside [0, {table.shape[0]})"
        )
    return table[indices.long() if ops_for(indices).name == "torch" else indices]


def upsample_nearest(x, factor_h: int, factor_w: int):
    xp = ops_for(x)
    return xp.repeat(xp.repeat(x, factor_h, -2), factor_w, -1)


def argmax(x, axis: int):
    return ops_for(x).cast(x.argmax(axis), "int32")
