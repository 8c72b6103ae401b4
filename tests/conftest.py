from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def every_op_path() -> Path:
    return FIXTURES / "every_op.ieg"


@pytest.fixture(scope="session")
def decoder_path() -> Path:
    """A small random Llama-shaped decoder with state tensors (KV caches): intedge.examples.decoder."""
    return FIXTURES / "decoder.ieg"
