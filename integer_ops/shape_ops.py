"""Shape and index ops: they move integers, never change them (except argmax).

All are dtype-preserving and scale-preserving: concatenated inputs must share
one scale (the converter requantizes beforehand).

* gather(table [V, D], indices int32 [...]) → [..., D]; an index outside
  [0, V) is an error, never a read out of bounds.
* upsample_nearest: the last two axes grow by integer factors
  (out[..., i, j] = in[..., i // f_h, j // f_w]), as I-Segmenter uses in
  place of bilinear interpolation.
* split_heads: a qlinear's [R, N] result as [N / D, R, D] (its head_dim).
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


def upsample_factors(x, shape) -> tuple[int, int]:
    return int(shape[-2]) // x.shape[-2], int(shape[-1]) // x.shape[-1]


def upsample_nearest(x, shape):
    """x [..., H, W] → [..., H·fh, W·fw] = shape."""
    xp = ops_for(x)
    fh, fw = upsample_factors(x, shape)
    return xp.repeat(xp.repeat(x, fh, -2), fw, -1)


def split_heads(y, head_dim: int):
    """y [..., N] (R rows) → [N / head_dim, R, head_dim]: each block of head_dim columns as its own
    matrix. head_dim 0 leaves y as it is."""
    if not head_dim:
        return y
    n = y.shape[-1]
    rows = y.reshape(-1, n)
    return ops_for(y).transpose(rows.reshape(rows.shape[0], n // head_dim, head_dim), (1, 0, 2))


def argmax(x, axis: int):
    return ops_for(x).cast(x.argmax(axis), "int32")
