"""The exceptions of the IR: one base type, so callers catch one thing."""


class InvalidGraphError(ValueError):
    """A graph breaks a rule of the IR; the message names the op, tensor or field."""


class IegFormatError(InvalidGraphError):
    """A .ieg file is malformed: header, checksum, FlatBuffer or data section."""
