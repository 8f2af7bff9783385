"""Benchmarks that print figures against their goals (`make bench`); measurements, not tests."""
