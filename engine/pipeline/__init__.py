"""The solving pipeline. Never imports engine.grading: the hidden-test firewall."""
