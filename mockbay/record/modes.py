"""Record modes, as vcrpy has them; a module of their own so the CLI can offer them cheaply."""

from __future__ import annotations

from typing import Literal

Mode = Literal["once", "new_episodes", "all", "none"]
MODES: tuple[Mode, ...] = ("once", "new_episodes", "all", "none")
