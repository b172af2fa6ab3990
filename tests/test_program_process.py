"""The program's process-level setup, and the offline render the quickstart falls back to."""

import gc
import importlib.util
import sys

import yaml

import components.process as process
from harness import REPO, run_program


def test_the_program_keeps_full_collections_rare_and_the_harness_restores_the_setting(monkeypatch):
    seen = []
    real = process.keep_full_collections_rare

    def recording():
        real()
        seen.append(gc.get_threshold())

    monkeypatch.setattr(process, "keep_full_collections_rare", recording)
    before = gc.get_threshold()
    run_program("dev")
    assert seen and seen[0][2] == process.FULL_COLLECTION_INTERVAL
    assert seen[0][:2] == before[:2], "young collections keep their thresholds"
    assert gc.get_threshold() == before


def _render_offline():
    spec = importlib.util.spec_from_file_location("render_offline", REPO / "scripts" / "render_offline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_offline_render_writes_schema_checked_manifests_without_secrets(tmp_path, monkeypatch, capsys):
    render = _render_offline()
    monkeypatch.setattr(sys, "argv", ["render_offline.py", "--stack", "dev", "--out", str(tmp_path)])
    assert render.main() == 0
    manifests = list((tmp_path / "manifests").rglob("*.yaml"))
    assert len(manifests) >= 50
    kinds = {yaml.safe_load(p.read_text())["kind"] for p in manifests}
    assert {"Deployment", "Ingress", "NetworkPolicy", "WasmPlugin", "McpBridge"} <= kinds
    for p in manifests:
        obj = yaml.safe_load(p.read_text())
        if obj["kind"] == "Secret":
            assert set((obj.get("stringData") or {}).values()) <= {render.SECRET_PLACEHOLDER}
    out = capsys.readouterr()
    # the Higress 2.2.1 CRDs (vendored) check every field: nothing is left unchecked
    assert "unchecked fields: none" in out.out and "schema problems" not in out.err


def test_offline_render_fails_on_a_real_schema_problem(tmp_path, monkeypatch, capsys):
    render = _render_offline()
    real = render.validate_object
    monkeypatch.setattr(render, "validate_object", lambda obj: real(obj) + (["Deployment/x: spec.replica: unknown field 'replica'"] if obj["kind"] == "Deployment" else []))
    monkeypatch.setattr(sys, "argv", ["render_offline.py", "--stack", "dev", "--out", str(tmp_path)])
    assert render.main() == 1
    assert "unknown field 'replica'" in capsys.readouterr().err
