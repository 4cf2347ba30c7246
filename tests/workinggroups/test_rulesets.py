"""The ruleset catalogue as working groups use it (the compliance engine's, from the pinned
mlperf-logging) and the round's validation against it."""

import pytest
from django.core.exceptions import ValidationError

from submissions import compliance as rulesets
from tests.workinggroups.factories import RoundFactory, WorkingGroupFactory
from workinggroups.models import Round


def test_rulesets_are_the_rule_folders_of_the_package():
    training = rulesets.available_rulesets("training")
    assert "6.1.0" in training and "0.6.0" in training
    assert training == sorted(training, key=lambda v: tuple(map(int, v.split("."))))
    assert rulesets.available_rulesets("hpc")[:1] == ["1.0.0"]
    assert rulesets.available_rulesets("inference") == ["5.1"]  # the inference checker's
    assert rulesets.available_rulesets("other") == []
    assert rulesets.latest_ruleset("training") == training[-1]
    assert rulesets.latest_ruleset("inference") == "5.1"
    assert rulesets.usages() == ["hpc", "inference", "training"]


def test_allowed_benchmarks_of_a_ruleset_without_duplicates():
    benchmarks = rulesets.allowed_benchmarks("training", "4.0.0")
    assert "stable_diffusion" in benchmarks and len(benchmarks) == len(set(benchmarks))
    assert "cosmoflow" in rulesets.allowed_benchmarks("hpc", "3.0.0")


def test_allowed_benchmarks_of_an_unknown_ruleset_is_an_error():
    with pytest.raises(ValueError, match=r"unknown ruleset '9\.9\.9' for training"):
        rulesets.allowed_benchmarks("training", "9.9.9")


@pytest.mark.django_db
def test_round_defaults_to_all_benchmarks_of_its_ruleset():
    round = Round(group=WorkingGroupFactory(), name="Training v6.1", slug="t61", suite="training", ruleset="6.1.0")
    round.full_clean()
    assert round.benchmarks == rulesets.allowed_benchmarks("training", "6.1.0")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"suite": "training", "ruleset": "9.9.9"}, "ruleset", "has no training ruleset '9.9.9'; it ships"),
        ({"suite": "training", "ruleset": ""}, "ruleset", "Choose the training ruleset"),
        ({"suite": "hpc", "ruleset": "6.1.0"}, "ruleset", "has no hpc ruleset '6.1.0'"),
        (
            {"suite": "other", "ruleset": "6.1.0"},
            "ruleset",
            "has no mlperf-logging ruleset; leave the ruleset empty",
        ),
        ({"suite": "inference", "ruleset": "6.1.0"}, "ruleset", "The inference checker has no inference ruleset"),
        (
            {"suite": "training", "ruleset": "6.1.0", "benchmarks": ["bert"]},
            "benchmarks",
            "Not in the training 6.1.0 ruleset: bert",
        ),
        ({"suite": "training", "ruleset": "6.1.0", "divisions": ["secret"]}, "divisions", "Unknown divisions: secret"),
    ],
)
def test_round_validation_messages(fields, field, message):
    round = RoundFactory.build(group=WorkingGroupFactory(), **fields)
    with pytest.raises(ValidationError) as info:
        round.full_clean()
    assert message in " ".join(info.value.message_dict[field])
