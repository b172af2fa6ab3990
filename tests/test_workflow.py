"""The GitHub Actions workflow users start from (.github/workflows/pulumi.yml).

actionlint (built from the Go module proxy by scripts/setup-actionlint.sh) must accept it and
must reject broken ones; the YAML must keep the workflow's promises: a policy-checked preview of
every stack on pull requests, posted as a PR comment; `pulumi up` on merge, dev first, prod
behind the `prod` environment; least-privilege tokens; pinned actions.
"""

import itertools
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "pulumi.yml"
SETUP_ACTIONLINT = ROOT / "scripts" / "setup-actionlint.sh"


@pytest.fixture(scope="session")
def actionlint() -> str:
    # A cold build takes ~30 s; afterwards the cached binary is reused.
    proc = subprocess.run(["bash", str(SETUP_ACTIONLINT)], capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        pytest.fail(f"scripts/setup-actionlint.sh exited {proc.returncode}:\n{proc.stderr}", pytrace=False)
    binary = proc.stdout.strip().splitlines()[-1]
    assert Path(binary).is_file(), f"setup-actionlint.sh printed {binary!r}, which is not a file"
    return binary


def lint(actionlint: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [actionlint, "-no-color", str(path)], cwd=path.parent, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def wf() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def triggers(wf: dict) -> dict:
    return wf.get("on", wf.get(True))  # YAML 1.1 (PyYAML) reads the key `on` as True


def matrix_combos(job: dict) -> list:
    matrix = job.get("strategy", {}).get("matrix")
    if matrix is None:
        return [{}]
    assert isinstance(matrix, dict), "the stacks must be listed in the workflow, not computed"
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    combos = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] if axes else []
    return combos + list(matrix.get("include", []))


def pulumi_calls(wf: dict, job: dict) -> list:
    """(matrix combo, argv) of every `pulumi ...` line of the job's run steps, with ${{ matrix.* }}
    and the step's environment variables substituted as the runner would."""
    calls = []
    for combo in matrix_combos(job):
        for step in job["steps"]:
            if "run" not in step:
                continue
            env = {**wf.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            env = {
                k: re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str(combo[m.group(1)]), str(v))
                for k, v in env.items()
            }
            for line in step["run"].replace("\\\n", " ").splitlines():
                line = line.strip()
                if not line.startswith("pulumi "):
                    continue
                line = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), line.split("|")[0])
                calls.append((combo, [a for a in shlex.split(line) if not re.fullmatch(r"\d*>.*", a)]))
    return calls


def flags(argv: list) -> dict:
    out, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            if "=" in arg:
                key, value = arg.split("=", 1)
            elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                key, value = arg, argv[i + 1]
                i += 1
            else:
                key, value = arg, True
            out[key] = value
        i += 1
    return out


def jobs_running(wf: dict, subcommand: str) -> dict:
    return {
        job_id: job
        for job_id, job in wf["jobs"].items()
        if any(argv[1:2] == [subcommand] for _, argv in pulumi_calls(wf, job))
    }


def up_jobs_by_stack(wf: dict) -> dict:
    by_stack = {}
    for job_id, job in jobs_running(wf, "up").items():
        for _, argv in pulumi_calls(wf, job):
            if argv[1] == "up":
                by_stack[flags(argv)["--stack"]] = job_id
    return by_stack


def stack_environment(stack: str) -> str:
    """The hardening profile the stack follows (its policy config): `profile`, else `environment`."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return config.get("agent-runtime:profile") or config["agent-runtime:environment"]


def preview_stacks(wf: dict) -> list:
    (job,) = jobs_running(wf, "preview").values()
    return matrix_combos(job)


# ------------------------------------------------------------------ actionlint


def test_actionlint_accepts_the_workflow(actionlint):
    proc = lint(actionlint, WORKFLOW)
    assert proc.returncode == 0, f"actionlint {WORKFLOW.relative_to(ROOT)}:\n{proc.stdout}{proc.stderr}"


def broken_workflow(needs: str, run: str) -> str:
    return f"""
name: broken
on: push
permissions: {{}}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo hi
  b:
    needs: {needs}
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo {run}
"""


BROKEN = {
    "undefined needs": (lambda: broken_workflow("nope", "hi"), "job-needs"),
    "bad expression": (lambda: broken_workflow("a", "${{ github.no_such_field }}"), "expression"),
    "the real workflow with prod needing a missing job": (
        lambda: WORKFLOW.read_text().replace("needs: up-dev", "needs: up-dve"),
        "job-needs",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_actionlint_rejects_broken_workflows(actionlint, tmp_path, name):
    make, rule = BROKEN[name]
    text = make()
    path = tmp_path / ".github" / "workflows" / "broken.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    proc = lint(actionlint, path)
    assert proc.returncode != 0, f"actionlint passed a broken workflow ({name}):\n{text}"
    assert f"[{rule}]" in proc.stdout, f"expected a [{rule}] error for {name}:\n{proc.stdout}{proc.stderr}"


# ------------------------------------------------------------------ structure


def test_triggers_are_prs_and_pushes_to_main(wf):
    on = triggers(wf)
    assert set(on) == {"pull_request", "push"}, "pull_request_target would hand fork code the secrets"
    assert on["pull_request"]["branches"] == ["main"]
    assert on["push"]["branches"] == ["main"]


def test_pr_previews_every_stack_with_its_policy_config(wf):
    preview_jobs = jobs_running(wf, "preview")
    assert len(preview_jobs) == 1, f"expected one (matrix) preview job, got {sorted(preview_jobs)}"
    (job,) = preview_jobs.values()
    assert "github.event_name == 'pull_request'" in job["if"]
    calls = [(combo, flags(argv)) for combo, argv in pulumi_calls(wf, job) if argv[1] == "preview"]
    combos = matrix_combos(job)
    assert {c["stack"] for c in combos} >= {"dev", "prod"}
    assert len(calls) == len(combos)
    for combo, f in calls:
        assert f["--stack"] == combo["stack"]
        assert f["--policy-pack"] == "policies"
        assert f["--policy-pack-config"] == f"policies/config.{combo['env']}.json"


def test_pr_preview_is_posted_as_a_comment_that_reruns_edit(wf):
    (job,) = jobs_running(wf, "preview").values()
    steps = job["steps"]
    preview_index = next(i for i, s in enumerate(steps) if "pulumi preview" in s.get("run", ""))
    assert "tee" in steps[preview_index]["run"], "the preview output must be captured for the comment"
    comment = next(s for s in steps[preview_index + 1 :] if s.get("uses", "").startswith("actions/github-script@"))
    script = comment["with"]["script"]
    assert "marker" in script and "${stack}" in script, "one comment per stack, found by its marker"
    assert "updateComment" in script and "createComment" in script
    assert "!cancelled()" in comment["if"], "a failed preview must still be reported"
    assert job["permissions"]["pull-requests"] == "write"


def test_merge_runs_up_on_dev_then_prod_behind_an_approval(wf):
    by_stack = up_jobs_by_stack(wf)
    assert set(by_stack) == {c["stack"] for c in preview_stacks(wf)}, "every previewed stack is deployed on merge"
    dev, prod = wf["jobs"][by_stack["dev"]], wf["jobs"][by_stack["prod"]]
    for job in (dev, prod):
        assert job["if"] == "github.event_name == 'push'"
        calls = [argv for _, argv in pulumi_calls(wf, job) if argv[1] != "config"]
        assert calls, "the job runs pulumi up"
        for argv in calls:
            f = flags(argv)
            assert argv[1] == "up" and f.get("--yes") is True
            assert f["--policy-pack"] == "policies"
            assert f["--policy-pack-config"] == f"policies/config.{stack_environment(f['--stack'])}.json"
    environment = prod["environment"]
    assert (environment if isinstance(environment, str) else environment["name"]) == "prod"
    needs = prod["needs"]
    assert by_stack["dev"] in ([needs] if isinstance(needs, str) else needs)


def test_permissions_are_least_privilege(wf):
    assert wf["permissions"] in ({}, {"contents": "read"})
    (preview_id,) = jobs_running(wf, "preview")
    for job_id, job in wf["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"job {job_id} must state its permissions"
        allowed_writes = {"pull-requests"} if job_id == preview_id else set()
        writes = {scope for scope, level in perms.items() if level == "write"}
        assert writes <= allowed_writes, f"job {job_id} may not write {writes - allowed_writes}"
        assert perms.get("contents") == "read"
        assert set(perms.values()) <= {"read", "write", "none"}


def test_one_run_per_stack_at_a_time(wf):
    groups = set()
    for stack, job_id in up_jobs_by_stack(wf).items():
        concurrency = wf["jobs"][job_id]["concurrency"]
        assert stack in concurrency["group"]
        assert concurrency["cancel-in-progress"] is False, "a cancelled `pulumi up` leaves the stack locked"
        groups.add(concurrency["group"])
    assert len(groups) == len(up_jobs_by_stack(wf))
    (preview,) = jobs_running(wf, "preview").values()
    assert "matrix.stack" in preview["concurrency"]["group"]


def test_actions_pinned_jobs_time_limited_cli_matches_sdk(wf):
    uses = re.findall(r"uses:\s*(\S+)(.*)", WORKFLOW.read_text())
    assert uses
    for ref, rest in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), f"{ref}: pin actions by commit SHA"
        assert re.match(r"\s*#\s*v\d+\.\d+\.\d+", rest), f"{ref}: name the pinned release in a comment"
    sdk = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    engine = re.search(r"^PULUMI_CLI_VERSION=(\S+)$", (ROOT / "scripts" / "engine.env").read_text(), re.M).group(1)
    assert tuple(map(int, engine.split("."))) >= tuple(map(int, sdk.split(".")))
    for job_id, job in wf["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 120, job_id
        for step in job["steps"]:
            if step.get("uses", "").startswith("pulumi/actions@"):
                assert "command" not in step.get("with", {}), "the action only installs the CLI"
                assert str(step["with"]["pulumi-version"]) == engine, f"{job_id}: CLI != the tested engine {engine}"


def test_secrets_are_documented_and_the_kubeconfig_never_printed(wf):
    text = WORKFLOW.read_text()
    header = text.split("\nname:", 1)[0]
    names = set(re.findall(r"secrets\.(\w+)", text))
    names |= {c["kubeconfig"] for c in preview_stacks(wf)}
    assert {"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN"} <= names
    for name in names:
        assert re.search(rf"^#\s+{name}\s", header, re.M), f"secret {name} is not documented in the header"
    for job_id, job in wf["jobs"].items():
        assert "KUBECONFIG_DATA" in job["env"], job_id
        for step in job["steps"]:
            run = step.get("run", "")
            assert "set -x" not in run
            for line in run.splitlines():
                if re.search(r"\b(echo|printf|cat)\b.*KUBECONFIG_DATA", line):
                    assert re.search(r'>\s*"\$RUNNER_TEMP/kubeconfig"', line), f"{job_id}: {line.strip()}"


def test_every_stack_has_its_stack_file_and_policy_config(wf):
    combos = preview_stacks(wf)
    for combo in combos:
        stack_file = ROOT / f"Pulumi.{combo['stack']}.yaml"
        assert stack_file.is_file(), f"matrix stack {combo['stack']} has no {stack_file.name}"
        assert stack_environment(combo["stack"]) == combo["env"], f"{stack_file.name}: matrix env differs"
        assert (ROOT / "policies" / f"config.{combo['env']}.json").is_file()
    # a team adds its stacks (staging, eu-prod, ...) to the matrix when it wants them in CI; a stack
    # file the workflow does not list yet is not an error
    on_disk = {p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml")}
    assert {c["stack"] for c in combos} <= on_disk


def test_bootstrap_venv_serves_the_policy_pack(wf):
    # The jobs only run scripts/bootstrap.sh, which creates ./venv: the policy pack must run there.
    for job_id, job in wf["jobs"].items():
        assert any(step.get("run", "").strip() == "bash scripts/bootstrap.sh" for step in job["steps"]), job_id
    options = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["runtime"]["options"]
    assert (ROOT / "policies" / options["virtualenv"]).resolve() == ROOT / "venv", (
        f"PulumiPolicy.yaml's virtualenv {options['virtualenv']!r} is not the venv bootstrap.sh creates"
    )
