"""A TFLite flatbuffer written with the schema's object API: tensors, constant buffers, builtin ops.

The builder knows nothing of intedge's ops (to_tflite.py lowers them); it numbers tensors, shares one
buffer per distinct constant, keeps one operator code per builtin, and packs the model with a
serving_default signature named after the graph's inputs and outputs.
"""

from __future__ import annotations

import flatbuffers
import numpy as np

from intedge.extras import require

fb = require("ai_edge_litert.schema_py_generated", "peers", "the .tflite export")

TENSOR_TYPE = {"bool": fb.TensorType.BOOL, "int8": fb.TensorType.INT8, "uint8": fb.TensorType.UINT8,
               "int16": fb.TensorType.INT16, "int32": fb.TensorType.INT32, "int64": fb.TensorType.INT64,
               "float32": fb.TensorType.FLOAT32}

# builtin → its options table (fields left at their defaults are what we want: no fused activation)
OPTIONS = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "FLOOR_DIV": "FloorDiv", "MAXIMUM": "MaximumMinimum",
           "MINIMUM": "MaximumMinimum", "RIGHT_SHIFT": "RightShift", "CAST": "Cast", "BITCAST": "Bitcast",
           "GATHER": "Gather", "BATCH_MATMUL": "BatchMatMul", "SUM": "Reducer", "REDUCE_MAX": "Reducer",
           "RESHAPE": "Reshape", "TRANSPOSE": "Transpose", "CONCATENATION": "Concatenation",
           "STRIDED_SLICE": "StridedSlice", "ARG_MAX": "ArgMax", "CUMSUM": "Cumsum", "SELECT_V2": "SelectV2",
           "EQUAL": "Equal", "NOT_EQUAL": "NotEqual", "LESS": "Less", "LESS_EQUAL": "LessEqual",
           "GREATER": "Greater", "GREATER_EQUAL": "GreaterEqual", "LOGICAL_AND": "LogicalAnd",
           "LOGICAL_OR": "LogicalOr"}


class ModelBuilder:
    def __init__(self, description: str = "intedge"):
        self.description = description
        self.tensors: list[fb.TensorT] = []
        self.buffers: list[fb.BufferT] = [fb.BufferT()]  # buffer 0: the empty sentinel every model starts with
        self.operators: list[fb.OperatorT] = []
        self.codes: dict[int, int] = {}  # builtin code → index in the model's operator codes
        self._constants: dict[tuple, int] = {}

    def tensor(self, name: str, dtype: str, shape) -> int:
        """A new activation tensor; returns its index."""
        t = fb.TensorT()
        t.name, t.type, t.shape = name, TENSOR_TYPE[dtype], [int(d) for d in shape]
        self.tensors.append(t)
        return len(self.tensors) - 1

    def dtype_of(self, index: int) -> str:
        return next(k for k, v in TENSOR_TYPE.items() if v == self.tensors[index].type)

    def shape_of(self, index: int) -> tuple[int, ...]:
        return tuple(self.tensors[index].shape)

    def constant(self, value, dtype: str, name: str = "const") -> int:
        """A constant tensor holding value as dtype; equal constants share one tensor."""
        data = np.array(value, dtype=dtype, order="C")  # ascontiguousarray would make a scalar 1-d
        key = (dtype, data.shape, data.tobytes())
        if key not in self._constants:
            index = self.tensor(f"{name}:{len(self.tensors)}", dtype, data.shape)
            self.tensors[index].buffer = len(self.buffers)
            self.buffers.append(fb.BufferT(data=np.frombuffer(data.tobytes(), np.uint8)))
            self._constants[key] = index
        return self._constants[key]

    def op(self, builtin: str, inputs: list[int], outputs: list[int], **options) -> None:
        code = getattr(fb.BuiltinOperator, builtin)
        if code not in self.codes:
            self.codes[code] = len(self.codes)
        o = fb.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = self.codes[code], list(inputs), list(outputs)
        if builtin in OPTIONS:
            table = getattr(fb, f"{OPTIONS[builtin]}OptionsT")()
            for key, value in options.items():
                setattr(table, key, value)
            o.builtinOptionsType, o.builtinOptions = getattr(fb.BuiltinOptions, f"{OPTIONS[builtin]}Options"), table
        elif options:
            raise TypeError(f"{builtin} takes no options, got {sorted(options)}")
        self.operators.append(o)

    def finish(self, inputs: list[int], outputs: list[int]) -> bytes:
        sub = fb.SubGraphT()
        sub.tensors, sub.operators, sub.inputs, sub.outputs, sub.name = \
            self.tensors, self.operators, list(inputs), list(outputs), "main"
        signature = fb.SignatureDefT()
        signature.signatureKey, signature.subgraphIndex = "serving_default", 0
        signature.inputs, signature.outputs = self._tensor_maps(inputs), self._tensor_maps(outputs)
        model = fb.ModelT()
        model.version, model.description, model.subgraphs, model.buffers = 3, self.description, [sub], self.buffers
        model.signatureDefs = [signature]
        model.operatorCodes = []
        for code in sorted(self.codes, key=self.codes.get):
            c = fb.OperatorCodeT()
            # codes above 127 live in builtinCode; the old int8 field then holds the placeholder 127
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
            model.operatorCodes.append(c)
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())

    def _tensor_maps(self, indices: list[int]) -> list:
        maps = []
        for i in indices:
            m = fb.TensorMapT()
            m.name, m.tensorIndex = self.tensors[i].name, i
            maps.append(m)
        return maps
