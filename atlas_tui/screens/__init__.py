"""The workbench's screens besides the main one: help, no model, replay and small questions."""
