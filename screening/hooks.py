"""Where apps above screening add to its counts, without screening knowing them.

screening knows no case. An app above it (curation) registers, in its
AppConfig.ready, a function that counts the cases curated from the papers
screening included, for the PRISMA counts' last boxes.
"""

from __future__ import annotations

from collections.abc import Callable

# counter(citation_ids) -> {"cases_curated": n, "cases_published": m}: `citation_ids` is
# a queryset of the included papers' citation ids.
IncludedCounter = Callable[[object], dict[str, int]]

included_counters: list[IncludedCounter] = []


def add_included_counter(counter: IncludedCounter) -> IncludedCounter:
    """Add what `counter` counts to every PRISMA count (once, however often registered)."""
    if counter not in included_counters:
        included_counters.append(counter)
    return counter


def count_included(citation_ids) -> dict[str, int]:
    counts: dict[str, int] = {}
    for counter in included_counters:
        counts.update(counter(citation_ids))
    return counts
