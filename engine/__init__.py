"""atlas-tui's solver engine: plain async Python, no UI imports (see docs/ARCHITECTURE.md)."""
