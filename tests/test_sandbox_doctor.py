"""`atlas-tui doctor` prints the isolation tier and really runs a program in the sandbox."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from atlas_tui.cli import main
from engine.sandbox.doctor import live_check, process_isolation, static_facts
from engine.sandbox.tiers import IsolationUnavailable, probe
from engine.sandbox.types import IsolationTier

pytestmark = pytest.mark.timeout(120)


def test_static_facts_name_the_tier_and_python() -> None:
    facts = {fact.name: fact for fact in static_facts()}
    assert facts["isolation"].value.startswith(str(probe().tier))
    assert facts["python"].value.split()[0].count(".") == 2


def test_static_facts_say_which_processes_a_candidate_reaches() -> None:
    fact = {fact.name: fact for fact in static_facts()}["processes"]
    assert fact.ok is probe().private_uids
    if probe().private_uids:
        assert "uid of their own" in fact.value
    else:
        assert fact.hint and ("pid 1" in fact.value or "can signal" in fact.value)


def test_every_tier_says_what_a_candidate_reaches() -> None:
    for tier in IsolationTier:
        try:
            found = probe(tier)
        except IsolationUnavailable:
            continue
        fact = process_isolation(found)
        assert fact.ok is found.private_uids, (tier, fact)
        # Without a uid of their own, what is left open is named, and how to close it.
        assert fact.ok or (fact.hint and "can" in fact.value), (tier, fact)


async def test_live_check_runs_a_program() -> None:
    facts = {fact.name: fact for fact in await live_check(allow_rlimits_only=True)}
    assert facts["sandbox check"].ok, facts
    assert "20 tests in" in facts["sandbox check"].value


def test_doctor_command_prints_sandbox_and_model_sections() -> None:
    result = CliRunner().invoke(main, ["doctor", "--allow-rlimits-only"])
    assert "Sandbox" in result.output and "Model" in result.output, result.output
    assert "isolation" in result.output and str(probe().tier) in result.output
    assert "processes" in result.output
    assert "sandbox check" in result.output and "llama.cpp build" in result.output
