import pytest

from perovscreen.core.errors import InputError
from perovscreen.pipeline.config import keep_count, load_config, validate_config


def test_defaults_and_overrides(tmp_path):
    cfg = validate_config({"bvse": {"resolution": 0.3}, "md": {"temperatures": [900, 1100]}})
    assert cfg["bvse"]["resolution"] == 0.3 and cfg["md"]["temperatures"] == [900, 1100]
    assert cfg["ml"]["keep"] == 1.0
    p = tmp_path / "c.toml"
    p.write_text("[stability]\nenabled = false\n")
    assert load_config(p)["stability"]["enabled"] is False


@pytest.mark.parametrize("data,needle", [
    ({"bvse": {"resolutin": 0.2}}, "unknown key\\(s\\) \\['resolutin'\\] in \\[bvse\\]"),
    ({"mdd": {}}, "unknown section \\[mdd\\]"),
    ({"bvse": {"resolution": "fine"}}, "\\[bvse\\] resolution: expected float"),
    ({"md": {"enabled": 1}}, "\\[md\\] enabled: expected bool"),
    ({"ml": {"keep": 0}}, "\\[ml\\] keep: must be > 0"),
    ({"run": {"executor": "slurm"}}, "executor: must be one of local, serial, ray"),
    ({"bvse": {"resolution": 0}}, "\\[bvse\\] resolution: must be >= 0.02"),
    ({"md": {"temperatures": []}}, "\\[md\\] temperatures: give at least one value"),
    ({"stability": {"calculator": "mace"}}, "\\[stability\\] calculator: must be one of"),
    ({"ranking": {"weights": {"barrier": "high"}}}, "weights.barrier must be a number"),
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


def test_defaults_are_written_once():
    """The funnel's defaults are the stages' defaults (no second copy in the config)."""
    from perovscreen.bvse.settings import BVSEParams
    from perovscreen.potentials.stage import StabilityParams

    cfg = validate_config({})
    assert cfg["bvse"]["resolution"] == BVSEParams().resolution
    assert cfg["stability"]["fmax"] == StabilityParams().fmax


def test_generated_defaults_page_is_up_to_date():
    from pathlib import Path

    from perovscreen.pipeline.config import defaults_markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "defaults.md"
    assert page.read_text() == defaults_markdown(), \
        "docs/defaults.md is stale: python -m perovscreen.pipeline.config > docs/defaults.md"
