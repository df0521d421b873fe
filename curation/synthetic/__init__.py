"""Synthetic records for benchmarks and load tests (manage.py generate_synthetic)."""
