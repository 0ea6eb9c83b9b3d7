"""Benchmarks of the console against raw exec and kubectl on the local cluster (`./dev bench`)."""
