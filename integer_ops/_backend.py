"""One integer semantics, two array libraries.

Every op in this package is written once against the tiny namespace below, so
the numpy reference (the spec) and the torch twins used for QAT run the very
same integer expressions. Both libraries agree on what matters here: int64
`>>` is an arithmetic (floor) shift, `//` is floor division, `&` works on
two's complement. Only the spellings that differ live in this file.
"""

from __future__ import annotations

import numpy as np

_DTYPES = ("int8", "uint8", "int16", "int32", "int64")


class _NumpyOps:
    name = "numpy"

    @staticmethod
    def int64(x):
        return np.asarray(x, dtype=np.int64)

    @staticmethod
    def cast(x, dtype: str):
        return np.asarray(x).astype(dtype)

    where = staticmethod(np.where)
    clip = staticmethod(np.clip)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    abs = staticmethod(np.abs)

    @staticmethod
    def max(x, axis: int):
        return x.max(axis=axis, keepdims=True)

    @staticmethod
    def sum(x, axis: int):
        return x.sum(axis=axis, keepdims=True, dtype=np.int64)

    @staticmethod
    def cumsum(x, axis: int):
        return np.cumsum(x, axis=axis, dtype=np.int64)

    @staticmethod
    def take(table, index):
        return np.asarray(table)[index]

    @staticmethod
    def matmul(a, b):
        """Exact int64 matmul via float64 BLAS.

        Every product of two int8/uint8/int16 values is below 2^31 and every
        partial sum of the K < 2^20 terms we allow is below 2^53, so float64
        represents each intermediate exactly whatever order BLAS sums in.
        """
        a64 = np.asarray(a, dtype=np.float64)
        b64 = np.asarray(b, dtype=np.float64)
        if b64.ndim == 2 and a64.ndim > 2:  # one BLAS call instead of one per leading index
            return np.rint(a64.reshape(-1, a64.shape[-1]) @ b64).astype(np.int64).reshape(*a64.shape[:-1], -1)
        return np.rint(a64 @ b64).astype(np.int64)

    # data movement (shape_ops.py)
    @staticmethod
    def transpose(x, perm):
        return np.ascontiguousarray(np.transpose(x, tuple(perm)))

    @staticmethod
    def concat(xs, axis: int):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def repeat(x, count: int, axis: int):
        return np.repeat(x, count, axis=axis)

    @staticmethod
    def float32(x):
        return np.asarray(x, np.float32)

    @staticmethod
    def rint_clip(y, lo: int, hi: int, dtype: str):
        """Round half to even, then saturate; NaN → 0, ±inf → the bounds (float32 in)."""
        with np.errstate(over="ignore", invalid="ignore"):
            y = np.nan_to_num(y, nan=0.0, posinf=hi, neginf=lo)
        return np.clip(np.rint(y), lo, hi).astype(dtype)


class _TorchOps:
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch

    def int64(self, x):
        t = self.torch
        if isinstance(x, t.Tensor):  # no as_tensor or same-dtype .to: each would be a no-op node in an export
            return x if x.dtype == t.int64 else x.to(t.int64)
        return t.as_tensor(x, dtype=t.int64)

    def cast(self, x, dtype: str):
        return x.to(getattr(self.torch, dtype))

    def where(self, c, a, b):
        return self.torch.where(c, self.int64(a), self.int64(b))

    def clip(self, x, lo, hi):
        return self.torch.clamp(x, lo, hi)

    def maximum(self, a, b):
        return self.torch.maximum(self.int64(a), self.int64(b))

    def minimum(self, a, b):
        return self.torch.minimum(self.int64(a), self.int64(b))

    def abs(self, x):
        return self.torch.abs(x)

    def max(self, x, axis: int):
        return self.torch.amax(x, dim=axis, keepdim=True)

    def sum(self, x, axis: int):
        t = self.torch
        if t.compiler.is_exporting():
            # ExecuTorch 1.5.1's kernel library sums int64 through float (off by 2 on 96 values below 2^29);
            # its cumsum is exact, so an exported sum is the running sum's last entry.
            return t.cumsum(x, dim=axis, dtype=t.int64).narrow(axis, x.shape[axis] - 1, 1)
        return t.sum(x, dim=axis, keepdim=True, dtype=t.int64)

    def cumsum(self, x, axis: int):
        return self.torch.cumsum(x, dim=axis, dtype=self.torch.int64)

    def take(self, table, index):
        return self.torch.as_tensor(table)[index]

    def matmul(self, a, b):
        t = self.torch
        if t.compiler.is_exporting():
            # An exported program runs where float64 BLAS may not exist: there the product is an int32
            # matmul, which every runtime has, exact because a valid graph's accumulators fit int32.
            return t.matmul(a.to(t.int32), b.to(t.int32)).to(t.int64)
        # Same exactness argument as the numpy version.
        return t.round(t.matmul(a.to(t.float64), b.to(t.float64))).to(t.int64)

    def transpose(self, x, perm):
        return x.permute(tuple(int(p) for p in perm)).contiguous()

    def concat(self, xs, axis: int):
        return self.torch.cat(list(xs), dim=axis)

    def repeat(self, x, count: int, axis: int):
        return self.torch.repeat_interleave(x, count, dim=axis)

    def float32(self, x):
        return self.torch.as_tensor(x).to(self.torch.float32)

    def rint_clip(self, y, lo: int, hi: int, dtype: str):
        t = self.torch
        y = t.nan_to_num(y, nan=0.0, posinf=hi, neginf=lo)
        return t.clamp(t.round(y), lo, hi).to(getattr(t, dtype))  # torch.round is half to even, as np.rint


_NUMPY = _NumpyOps()
_TORCH = None


def ops_for(x):
    """The namespace matching x's library (torch tensors → torch, else numpy)."""
    global _TORCH
    if type(x).__module__.startswith("torch"):
        if _TORCH is None:
            _TORCH = _TorchOps()
        return _TORCH
    return _NUMPY


def bit_length(x):
    """Number of bits of each non-negative int64 (0 for 0), exactly, by binary search."""
    xp = ops_for(x)
    n = x * 0
    for b in (32, 16, 8, 4, 2, 1):
        big = (x >> b) > 0
        n = xp.where(big, n + b, n)
        x = xp.where(big, x >> b, x)
    return n + xp.int64(x > 0)


def dtype_range(dtype: str) -> tuple[int, int]:
    if dtype not in _DTYPES:
        raise ValueError(f"not an integer dtype: {dtype!r}")
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)
