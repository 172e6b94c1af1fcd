import pytest

from perovscreen.structures.examples import get_example


@pytest.fixture
def li3ocl():
    return get_example("Li3OCl")
