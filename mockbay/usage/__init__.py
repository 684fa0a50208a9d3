"""Prompt accounting: the input-token estimator, the simulated prompt cache and rate limits. No I/O."""
