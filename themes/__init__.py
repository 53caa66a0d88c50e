"""Textual CSS themes shipped with atlas-tui."""
