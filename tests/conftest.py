from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def every_op_path() -> Path:
    return FIXTURES / "every_op.ieg"
