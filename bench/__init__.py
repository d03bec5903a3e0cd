"""Benchmarks (not tests): figures reported as ratios to a baseline measured in the same run."""
