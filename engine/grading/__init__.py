"""Grading: runs hidden tests on one submitted answer per task, after submission."""
