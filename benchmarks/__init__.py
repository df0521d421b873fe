"""RareDerm's benchmarks (`make bench`): see benchmarks/run.py."""
