import pytest

from perovscreen.errors import InputError
from perovscreen.pipeline.config import keep_count, load_config, validate_config


def test_defaults_and_overrides(tmp_path):
    cfg = validate_config({"bvse": {"resolution": 0.3}, "md": {"temperatures": [900, 1100]}})
    assert cfg["bvse"]["resolution"] == 0.3 and cfg["md"]["temperatures"] == [900, 1100]
    assert cfg["ml"]["keep"] == 1.0
    p = tmp_path / "c.toml"
    p.write_text("[stability]\nenabled = false\n")
    assert load_config(p)["stability"]["enabled"] is False


@pytest.mark.parametrize("data,needle", [
    ({"bvse": {"resolutin": 0.2}}, "unknown key 'resolutin' in \\[bvse\\]"),
    ({"mdd": {}}, "unknown section \\[mdd\\]"),
    ({"bvse": {"resolution": "fine"}}, "\\[bvse\\] resolution: expected float"),
    ({"md": {"enabled": 1}}, "\\[md\\] enabled: expected bool"),
    ({"ml": {"keep": 0}}, "keep must be > 0"),
    ({"run": {"executor": "slurm"}}, "executor must be"),
    ({"ranking": {"weights": {"cost": 1.0}}}, "unknown objective"),
])
def test_validation_errors_name_the_key(data, needle):
    with pytest.raises(InputError, match=needle):
        validate_config(data)


def test_bad_toml(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[run\n")
    with pytest.raises(InputError, match="bad.toml: not valid TOML"):
        load_config(p)


def test_keep_count():
    assert keep_count(0.5, 7) == 4 and keep_count(1.0, 7) == 7 and keep_count(3, 7) == 3 and keep_count(10, 7) == 7
    assert keep_count(0.1, 0) == 0
