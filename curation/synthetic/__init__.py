"""Synthetic records for benchmarks and load tests (manage.py generate_synthetic).

What marks a record synthetic: its citation's PMID in the reserved range
(and a case through its primary citation), the title prefix, the journal, the
DOI prefix and the owner; see the command's docstring.
"""

SYNTHETIC_PMID_MIN = 900_000_000
SYNTHETIC_PMID_MAX = 999_999_999
# generate_synthetic's citations; 980,000,001+ and 990,000,001+ are the benchmarks'.
GENERATED_PMID_START = 900_000_001
MAX_GENERATED_CITATIONS = 80_000_000
SYNTHETIC_USERNAME = "rarederm-synthetic"
TITLE_PREFIX = "[SYNTHETIC]"
JOURNAL = "Synthetic Journal of Dermatopathology"
JOURNAL_ISO = "Synth J Dermatopathol"
DOI_PREFIX = "10.5555/rarederm-synthetic."
