"""The converter's errors: one base class, so callers (and the CLI) catch bad input in one place."""


class ConversionError(ValueError):
    """The model, its inputs or the options cannot be converted; the message says why and where."""


class CaptureError(ConversionError):
    """torch.export could not trace the model, or its example inputs are unusable."""


class UnsupportedOpError(ConversionError):
    """An op (or an op's use) the integer graph cannot express; names the op and the model's source line."""


class CalibrationError(ConversionError):
    """Calibration data that cannot be used: empty, wrong shapes or dtypes, NaN/Inf."""
