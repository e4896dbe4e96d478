"""pixelbot's benchmark suite: `./dev bench` (or `python -m benchmarks`)."""
