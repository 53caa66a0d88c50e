"""The workbench's actions, by what they act on; each module is a mixin of the app."""
