"""The op kinds of the IR and the integer constants each carries.

For every kind: its FlatBuffers option table (None: no options) and the
fields of that table with their types. The semantics of each kind are the
functions of intedge.integer_ops named in intedge/reference.py; the shape
and dtype rules are in validate.py.
"""

from __future__ import annotations

import numpy as np

# field type → (python coercion, numpy dtype of a vector field)
SCALAR_TYPES = {"int": (-(2**31), 2**31 - 1), "byte": (-128, 127), "long": (-(2**63), 2**63 - 1)}
VECTOR_TYPES = {"[int]": np.int32, "[byte]": np.int8, "[long]": np.int64}

OPS: dict[str, tuple[str | None, dict[str, str]]] = {
    "quantize": ("QuantizeOptions", {"inv_scale": "float"}),
    "dequantize": ("DequantizeOptions", {"scale": "float"}),
    "requant": ("RequantOptions", {"multiplier": "int", "shift": "byte"}),
    "qlinear": ("QLinearOptions", {"multiplier": "[int]", "shift": "[byte]", "group_size": "int"}),
    "qmatmul": ("QMatMulOptions", {"transpose_b": "bool", "multiplier": "int", "shift": "byte"}),
    "qadd": ("QAddOptions", {"multiplier_a": "int", "multiplier_b": "int", "shift": "byte"}),
    "shiftmax": ("ShiftmaxOptions", {"multiplier": "int", "shift": "byte"}),
    "shiftgelu": ("ShiftGeluOptions", {"x0": "int", "multiplier": "int", "shift": "byte"}),
    "lambda_shiftgelu": (
        "LambdaShiftGeluOptions",
        {"slope_multiplier": "int", "slope_shift": "byte", "multiplier": "[int]", "shift": "[byte]"},
    ),
    "ilayernorm": ("ILayerNormOptions", {"multiplier": "[int]", "bias": "[long]", "shift": "byte"}),
    "meanpool": ("MeanPoolOptions", {"axis": "int", "multiplier": "int", "shift": "byte"}),
    "reshape": (None, {}),
    "transpose": ("TransposeOptions", {"perm": "[int]"}),
    "concat": ("ConcatOptions", {"axis": "int"}),
    "slice": ("SliceOptions", {"axis": "int", "start": "long", "end": "long", "step": "long"}),
    "gather": (None, {}),
    "upsample_nearest": (None, {}),
    "argmax": ("ArgMaxOptions", {"axis": "int"}),
}

OPTION_DEFAULTS = {"group_size": 0, "transpose_b": False, "step": 1}


def coerce_options(kind: str, options: dict, where: str) -> dict:
    """Options with every field present and of its exact stored type.

    Floats become float32 values and vectors numpy arrays of their stored
    dtype, so what a graph holds in memory is what its file holds: the
    round trip is lossless by construction.
    """
    from .errors import InvalidGraphError

    if kind not in OPS:
        raise InvalidGraphError(f"{where}: unknown op kind {kind!r}")
    fields = OPS[kind][1]
    extra = set(options) - set(fields)
    if extra:
        raise InvalidGraphError(f"{where}: {kind} has no option(s) {sorted(extra)}")
    out = {}
    for name, ftype in fields.items():
        if name not in options and name not in OPTION_DEFAULTS:
            raise InvalidGraphError(f"{where}: {kind} needs option {name!r}")
        value = options.get(name, OPTION_DEFAULTS.get(name))
        if ftype == "float":
            out[name] = float(np.float32(value))
        elif ftype == "bool":
            out[name] = bool(value)
        elif ftype in SCALAR_TYPES:
            lo, hi = SCALAR_TYPES[ftype]
            if not lo <= int(value) <= hi:
                raise InvalidGraphError(f"{where}: option {name}={value} does not fit {ftype}")
            out[name] = int(value)
        else:
            arr = np.asarray(value)
            info = np.iinfo(VECTOR_TYPES[ftype])
            if arr.ndim != 1 or (arr.size and (arr.min() < info.min or arr.max() > info.max)):
                raise InvalidGraphError(f"{where}: option {name} must be a 1-D {ftype} vector")
            out[name] = arr.astype(VECTOR_TYPES[ftype])
    return out
