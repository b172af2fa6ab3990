"""The real program plus one privileged debug Deployment: a change the policy pack must refuse.

Every input path of the real program refuses privileged pods before the policy pack sees
them, so the pack's last line of defence is tested with a code change, as a contributor
could make one: this file composes the project's program and adds the offending object.
"""

import runpy
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

REPO = Path(__file__).resolve().parents[2]

program = runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
labels = {"app.kubernetes.io/name": "debug-shell", "app.kubernetes.io/part-of": "agent-runtime", "app.kubernetes.io/managed-by": "pulumi"}
k8s.apps.v1.Deployment(
    "debug-shell",
    metadata={"name": "debug-shell", "namespace": "tenant-retail", "labels": labels},
    spec={
        "replicas": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "debug-shell"}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "name": "shell",
                        "image": "busybox:1.37.0",
                        "command": ["sleep", "infinity"],
                        "securityContext": {"privileged": True},
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
                    }
                ]
            },
        },
    },
    opts=pulumi.ResourceOptions(provider=program["providers"]["kubernetes"]),
)
