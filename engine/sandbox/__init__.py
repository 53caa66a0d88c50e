"""Run untrusted candidate programs under real isolation and judge them like LiveCodeBench."""

from engine.sandbox.compare import outputs_match
from engine.sandbox.sandbox import Sandbox
from engine.sandbox.tiers import IsolationUnavailable
from engine.sandbox.types import (
    IsolationTier,
    Program,
    RunResult,
    SandboxLimits,
    TestResult,
    Verdict,
)

__all__ = [
    "IsolationTier",
    "IsolationUnavailable",
    "Program",
    "RunResult",
    "Sandbox",
    "SandboxLimits",
    "TestResult",
    "Verdict",
    "outputs_match",
]
