"""The normative integer arithmetic of intedge.

Each module defines one op family to the bit — rounding, saturation, shift
direction, accumulator width — in numpy int64 (the spec). The same functions
accept torch tensors and then compute the same integers for QAT
(see torch_twins.py). Each module's docstring derives its op; error_table.py
measures them against float.
"""

from .decoder import cached_attention, rope, rope_tables, silu_table, swiglu
from .gelu import (
    fit_lambda,
    gelu_float,
    lambda_shiftgelu,
    lambda_shiftgelu_params,
    lambda_shiftgelu_table,
    shiftgelu,
    shiftgelu_params,
)
from .index_math import INT_BINARY_CODES, INT_BINARY_OPS, cumsum, int_binary
from .layernorm import ilayernorm, ilayernorm_params, isqrt
from .matmul import qlinear, qmatmul
from .pooling import meanpool
from .quantize import (
    dequantize_output,
    expand_int4,
    pack_int4,
    quantize_input,
    quantize_int4_grouped,
    quantize_int4_per_channel,
    quantize_int4_with_scales,
    quantize_per_channel,
    quantize_per_tensor,
    unpack_int4,
)
from .requant import QuantizationError, dyadic, dyadic_shared, requantize
from .residual import qadd
from .shiftmax import shiftmax, shiftmax_params
from .table import lookup, lookup_requant, requant_table_for, table_for

__all__ = [
    "cached_attention",
    "rope",
    "rope_tables",
    "silu_table",
    "swiglu",
    "INT_BINARY_CODES",
    "INT_BINARY_OPS",
    "cumsum",
    "int_binary",
    "lookup",
    "lookup_requant",
    "requant_table_for",
    "table_for",
    "QuantizationError",
    "dequantize_output",
    "dyadic",
    "dyadic_shared",
    "expand_int4",
    "fit_lambda",
    "gelu_float",
    "ilayernorm",
    "ilayernorm_params",
    "isqrt",
    "lambda_shiftgelu",
    "lambda_shiftgelu_params",
    "lambda_shiftgelu_table",
    "meanpool",
    "pack_int4",
    "qadd",
    "qlinear",
    "qmatmul",
    "quantize_input",
    "quantize_int4_grouped",
    "quantize_int4_per_channel",
    "quantize_int4_with_scales",
    "quantize_per_channel",
    "quantize_per_tensor",
    "requantize",
    "shiftgelu",
    "shiftgelu_params",
    "shiftmax",
    "shiftmax_params",
    "unpack_int4",
]
