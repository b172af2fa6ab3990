"""Stack settings that only the real engine tripped over: paths a stack names, and disabled default providers."""

from pathlib import Path

import pytest

from models.settings import default_provider_problems, local_path_problems, parse_stack_config
from harness import FIXTURE_STACKS, REPO, stack_file_config

BASE = {k.split(":", 1)[1]: v for k, v in stack_file_config("dev").items()}


def _stack(**overrides):
    stack, _ = parse_stack_config({**BASE, **overrides})
    return stack


def test_the_dev_stacks_paths_exist_relative_to_the_project():
    # the charts live beside the repo (../shared/vendor); the harness's kubeconfig stands in for the plane's
    assert local_path_problems(_stack(), REPO) == []


def test_missing_charts_and_kubeconfig_are_named_with_the_fix(tmp_path):
    stack = _stack(
        kubernetes={"kubeconfig": "~/no/such/kubeconfig", "context": "x"},
        gateway={**BASE["gateway"], "chart": {"localPath": "vendor/nope"}},
        agents={**BASE["agents"], "keda": {**BASE["agents"]["keda"], "localPath": str(tmp_path)}},
    )
    problems = local_path_problems(stack, tmp_path)
    assert problems == [
        "agent-runtime:gateway.chart.localPath: 'vendor/nope' - no Helm chart there (a directory with Chart.yaml)",
        f"agent-runtime:agents.keda.localPath: '{tmp_path}' - no Helm chart there (a directory with Chart.yaml)",
        "agent-runtime:kubernetes.kubeconfig: '~/no/such/kubeconfig' - no such kubeconfig file "
        "(the local plane writes it: `venv/bin/python scripts/local_plane.py start`)",
    ]


def test_kubeconfig_contents_are_not_taken_for_a_path(tmp_path):
    stack = _stack(kubernetes={"kubeconfig": "apiVersion: v1\nkind: Config\n"})
    assert not [p for p in local_path_problems(stack, tmp_path) if "kubeconfig" in p]


@pytest.mark.parametrize("disabled,refused", [(["*"], True), (["pulumi-python"], True), (["kubernetes", "random"], False), ([], False)])
def test_the_registry_needs_the_dynamic_default_provider(disabled, refused):
    with_registry = _stack(registry={"enabled": True, "serverAddr": "http://127.0.0.1:8848"}, registryPassword="x" * 16)
    problems = default_provider_problems(with_registry, disabled)
    assert bool(problems) == refused
    if refused:
        assert "pulumi-python" in problems[0] and "[kubernetes, random]" in problems[0]
    assert default_provider_problems(_stack(), disabled) == []  # no registry, no dynamic provider


def test_the_stack_files_leave_the_dynamic_provider_enabled():
    import yaml

    for stack_file in [*FIXTURE_STACKS.glob("Pulumi.*.yaml"), REPO / "tests" / "e2e" / "project" / "Pulumi.e2e.yaml.in"]:
        config = yaml.safe_load(stack_file.read_text())["config"]
        assert config["pulumi:disable-default-providers"] == ["kubernetes", "random"], stack_file
