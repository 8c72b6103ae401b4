"""Hypothesis strategies the integer tests share."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

INT_DTYPES = (np.int8, np.uint8, np.int16, np.int32)  # what index arithmetic takes


def int_arrays(dtype, shape):
    """Random arrays that favour the extremes: min, max, 0 and equal runs."""
    info = np.iinfo(dtype)
    elems = st.one_of(st.integers(int(info.min), int(info.max)), st.sampled_from(sorted({int(info.min), int(info.max), 0, 1, max(int(info.min), -1)})))
    return hnp.arrays(dtype, shape, elements=elems)
