"""Content-block kinds, one class each, registered by wire `type` (see base.py)."""

from mockbay.blocks import compaction, results, text, tools
from mockbay.blocks.base import KINDS, BlockKind, Received, RenderContext

__all__ = ["KINDS", "BlockKind", "Received", "RenderContext", "compaction", "results", "text", "tools"]
