"""What an export refuses, said to the user (the CLI prints it and exits 2)."""


class ExportError(ValueError):
    """A graph, format or path an exporter cannot take: names the op or argument and why."""
