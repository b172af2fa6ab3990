"""Test servers assembled from Maven Central: resolve a tool's pom into ~/.m2, cache its classpath.

`tools/<name>/pom.xml` writes `classpath.txt` (and, where the tool compiles a launcher, its
jar) into a build directory outside the repo, under ${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}/<name>/.
A build is reused while the pom and sources hash the same and every classpath entry still exists;
concurrent test sessions serialize on a lock file. Stdlib only.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from processes import tail

MISSING_MARKERS = ("Could not resolve dependencies", "Could not find artifact", "Could not transfer artifact", "could not be resolved")


class MavenBuildError(RuntimeError):
    """Maven could not assemble the tool; the message names the artifact and carries the log tail."""


@dataclass(frozen=True)
class BuildResult:
    classpath: str
    built: bool  # False when the cached build was reused
    jar: Optional[Path] = None  # the tool's own launcher, when it compiles one

    def java_classpath(self) -> str:
        return os.pathsep.join([str(self.jar), self.classpath]) if self.jar else self.classpath

    @property
    def entries(self) -> list[str]:
        return self.classpath.split(os.pathsep)


@dataclass(frozen=True)
class MavenTool:
    """One `tools/<name>` Maven project and how its build is cached."""

    name: str
    tool_dir: Path
    build_dir_property: str  # the pom's property naming the output directory
    goals: tuple[str, ...] = ("package",)
    jar_name: Optional[str] = None
    error: type[MavenBuildError] = MavenBuildError

    @property
    def pom(self) -> Path:
        return self.tool_dir / "pom.xml"

    def cache_dir(self) -> Path:
        root = os.environ.get("AGENT_RUNTIME_CACHE") or str(Path.home() / ".cache" / "agent-runtime")
        return Path(root) / self.name

    def sources_hash(self) -> str:
        """Hash of the pom and any launcher sources: a change means a rebuild."""
        h = hashlib.sha256()
        sources = self.tool_dir / "src"
        files = [self.pom] + (sorted(p for p in sources.rglob("*") if p.is_file()) if sources.is_dir() else [])
        for p in files:
            h.update(str(p.relative_to(self.tool_dir)).encode())
            h.update(b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
        return h.hexdigest()

    def cached(self, build_dir: Path, digest: str) -> Optional[BuildResult]:
        stamp, cp_file = build_dir / "build.sha256", build_dir / "classpath.txt"
        jar = build_dir / self.jar_name if self.jar_name else None
        if not (stamp.is_file() and cp_file.is_file()) or (jar is not None and not jar.is_file()):
            return None
        if stamp.read_text().strip() != digest:
            return None
        classpath = cp_file.read_text().strip()
        # ~/.m2 may have been cleaned since: every entry must still exist
        if not classpath or not all(Path(p).is_file() for p in classpath.split(os.pathsep)):
            return None
        return BuildResult(classpath=classpath, built=False, jar=jar)

    def build(self, force: bool = False, quiet: bool = True, announce: str = "") -> BuildResult:
        """The cached build, or a new one (idempotent); `announce` is printed before a real Maven run unless quiet."""
        build_dir = self.cache_dir() / "build"
        digest = self.sources_hash()
        if not force and (cached := self.cached(build_dir, digest)) is not None:
            return cached
        self.cache_dir().mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir() / "build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not force and (cached := self.cached(build_dir, digest)) is not None:
                return cached
            return self._run_maven(build_dir, digest, quiet, announce)

    def _run_maven(self, build_dir: Path, digest: str, quiet: bool, announce: str) -> BuildResult:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise self.error("Maven (mvn) is not on PATH; install maven and a JDK >= 17")
        build_dir.mkdir(parents=True, exist_ok=True)
        log = build_dir.parent / "mvn-build.log"
        cmd = [mvn, "-B", "-ntp", "-f", str(self.pom), f"-D{self.build_dir_property}={build_dir}", *self.goals]
        if quiet:
            cmd.insert(2, "-q")
        elif announce:
            print(f"{self.name}: {announce} (log: {log})", file=sys.stderr, flush=True)
        with open(log, "wb") as out:
            rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=str(self.tool_dir))
        if rc != 0:
            raise self.error(f"mvn exited {rc}: {missing_artifact(log)}\n--- tail of {log}:\n{tail(log, 40)}")
        (build_dir / "build.sha256").write_text(digest + "\n")
        result = self.cached(build_dir, digest)
        if result is None:
            raise self.error(f"mvn succeeded but {build_dir} lacks the classpath{' or the jar' if self.jar_name else ''}")
        return BuildResult(classpath=result.classpath, built=True, jar=result.jar)


def missing_artifact(log: Path) -> str:
    """The artifact Maven could not get, as Maven names it, so the error says what is missing."""
    for line in tail(log, 200).splitlines():
        if any(marker in line for marker in MISSING_MARKERS):
            return line.replace("[ERROR]", "").strip()
    return "see the log below"
