"""Textual widgets, one per pane, rendering folded engine state."""
