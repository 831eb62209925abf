"""End-to-end benchmarks on a real broker: `make bench` (python -m benchmarks)."""
