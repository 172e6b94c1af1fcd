import pytest


@pytest.fixture(scope="session")
def ref_cache(tmp_path_factory):
    """One reference-phase cache shared by the stability tests of a session."""
    return tmp_path_factory.mktemp("refcache")
