"""Shared fixtures: the real program run once per stack under mocks."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import ProgramRun, run_program  # noqa: E402


@pytest.fixture(scope="session")
def dev_run() -> ProgramRun:
    return run_program("dev")


@pytest.fixture(scope="session")
def prod_run() -> ProgramRun:
    return run_program("prod")


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack_run(request, dev_run, prod_run) -> ProgramRun:
    return {"dev": dev_run, "prod": prod_run}[request.param]
