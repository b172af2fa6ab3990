"""Pure translation, the middle layer: settings and specs in, Kubernetes object dicts out (no Pulumi resource)."""
