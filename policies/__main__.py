"""Entry point the Pulumi engine runs: build the pack from the importable module (this call blocks)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from agent_runtime_policies import build_pack  # noqa: E402

build_pack()
