"""Rules come from the installed package, compiled once, and never from a path a user names."""

from __future__ import annotations

from pathlib import Path

import pytest

from submissions.compliance import RulesetError, check_file
from submissions.compliance.rules import load_config, resolve_config, rules_root, validate
from tests.compliance.logs import training_log


def test_rules_are_the_installed_packages() -> None:
    assert rules_root().name == "compliance_checker"
    assert (rules_root() / "training_5.1.0" / "common.yaml").is_file()


def test_configs_are_compiled_once() -> None:
    assert load_config("training_5.1.0/common.yaml") is load_config("training_5.1.0/common.yaml")
    config = load_config("training_5.1.0/closed_dlrm_dcnv2.yaml")
    assert config.key_rules["eval_accuracy"].at_least_one_check.code is not None


@pytest.mark.parametrize("name", ["../../../../../../../etc/passwd", "/etc/passwd", "x/../../../../etc/hosts", 5])
def test_config_names_outside_the_rules_are_not_read(name: object) -> None:
    assert resolve_config(name) is None
    if isinstance(name, str):
        assert load_config(name).missing


def test_a_division_value_cannot_name_a_file_outside_the_rules(tmp_path: Path) -> None:
    # the official checker would open <rules>/training_6.1.0/<value>_common.yaml wherever it leads
    evil = tmp_path / "evil_common.yaml"
    evil.write_text("- BEGIN:\n    CODE: \" open('/tmp/pwned', 'w') \"\n")
    value = "../" * 12 + str(evil)[1:].removesuffix("_common.yaml")
    log = training_log("6.1.0", "llama31_8b", division=value)
    report = check_file(log.write(tmp_path / "result_0.txt"), "training", "6.1.0")
    assert report.verdict == "fail"
    assert "rule.config_missing" in {f.check for f in report.findings}
    assert not Path("/tmp/pwned").exists()


def test_unknown_usage_and_ruleset() -> None:
    with pytest.raises(RulesetError):
        validate("training", "7.0.0")
    with pytest.raises(RulesetError):
        validate("inference", "5.1.0")
    with pytest.raises(RulesetError):
        check_file("x", "training", "0.7.0_warn")


def test_every_shipped_rule_file_loads_as_the_official_base_loader_reads_it() -> None:
    import yaml

    from submissions.compliance.rules import YAML_LOADER

    def load(path: Path, loader: type) -> object:
        with open(path, encoding="utf-8") as f:
            try:
                return yaml.load(f, Loader=loader)
            except yaml.YAMLError as exc:  # a few unused files do not parse: both must say so
                return type(exc).__name__

    files = sorted(rules_root().glob("*/*.yaml"))
    assert len(files) > 100
    for path in files:
        assert load(path, YAML_LOADER) == load(path, yaml.BaseLoader), path
