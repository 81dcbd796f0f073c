"""Reading a Dockerfile well enough to run its commands outside Docker (the deploy tests)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    """One ``FROM`` stage: its instructions in order, continuation lines joined."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for word, args in self.instructions if word == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"no {keyword} in stage {self.name}"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for item in shlex.split(args):
                name, _, value = item.partition("=")
                values[name] = value
        return values

    def cmd(self) -> list[str]:
        command = json.loads(self.last("CMD"))
        assert isinstance(command, list) and all(isinstance(p, str) for p in command)
        return command

    def healthcheck_command(self) -> str:
        """The shell form after ``HEALTHCHECK [options] CMD``."""
        match = re.search(r"\bCMD\s+(.*)$", self.last("HEALTHCHECK"), re.S)
        assert match, "HEALTHCHECK has no CMD"
        return match.group(1).strip()


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def read_stages(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        word, _, args = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append((word, args.strip()))
    return stages
