"""Run untrusted candidate programs under real isolation and judge them like LiveCodeBench."""
