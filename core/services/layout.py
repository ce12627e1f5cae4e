"""Where service sources, cached jars and runtime state live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# The host and ports every service binds; the rest of tierwatch's defaults point here.
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Layout:
    source_dir: Path  # services/ in the repository: poms, launcher sources
    cache_dir: Path  # built and downloaded jars, reused across starts
    state_dir: Path  # data directories, logs, pid files

    @classmethod
    def from_env(cls) -> Layout:
        home = Path.home()
        cache = os.environ.get("TIERWATCH_CACHE_DIR") or home / ".cache" / "tierwatch"
        state = os.environ.get("TIERWATCH_SERVICES_DIR") or home / ".local" / "state" / "tierwatch" / "services"
        return cls(
            source_dir=Path(__file__).resolve().parents[2] / "services",
            cache_dir=Path(cache).expanduser(),
            state_dir=Path(state).expanduser(),
        )
