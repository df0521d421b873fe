"""generate_synthetic: fill a database with plausible, clearly synthetic records.

For benchmarks and load tests only. Every synthetic record is recognisable:

- its citation's PMID lies in the reserved range 900,000,000-999,999,999
  (PubMed's PMIDs are 8 digits today, about 40 million; NCBI will not reach
  this range for decades), and a case is synthetic when its primary
  citation is;
- titles start with "[SYNTHETIC]", the journal is "Synthetic Journal of
  Dermatopathology", DOIs are 10.5555/rarederm-synthetic.<pmid> (10.5555 is
  the DOI prefix kept for examples and tests);
- everything is owned by the inactive user "rarederm-synthetic".

Sub-ranges: this command numbers citations from 900,000,001; the benchmarks
(benchmarks/run.py) fetch and import renumbered PubMed records from
980,000,001 and 990,000,001. `generate_synthetic --delete` removes every
record of the whole range, whoever made it.

The records are plausible, not real: each diagnosis of the shipped
vocabulary has its own age, sex, sites, IHC panel and fusions (ALK fusions
with their usual partners in inflammatory myofibroblastic tumour, COL1A1::PDGFB
in DFSP, melanocytic markers in melanoma...; curation/synthetic/profiles.py),
weighted as a registry of rare skin tumours would be. The same --seed gives
the same records.

Written as rows, not model instances (curation/synthetic/generator.py): the
generator makes each table's varying values as plain tuples, and
curation/synthetic/tables.py completes them from the model's fields (defaults,
auto_now) and writes them with PostgreSQL's COPY, ids reserved from the
tables' sequences so that children name their case before it is written, or on
another database (SQLite) with one INSERT executed for many rows. One
transaction per batch of 1,000 citations; on PostgreSQL two threads (--workers)
make and write batches side by side, each batch from a random generator of its
own, so the records do not depend on who wrote them. No save(), so
django-simple-history writes no history rows (right for synthetic data, which
has no past), and no signals: the search cache is bumped once at the end. The
cases' search_vector trigger fires on COPY as on INSERT. Speed: README,
Performance. Cases are created published, with one audit event each
("synthetic data").

The command refuses a database holding real (non-synthetic) cases unless
--allow-real-data: synthetic records belong in a database of their own, never
mixed into demo or production data.
"""

from __future__ import annotations

import math
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from citations import counts as citation_counts
from citations.models import Author, Citation, FetchJobItem
from curation.models import (
    Case,
    CaseEvent,
    ClinicalEvent,
    FusionFinding,
    IHCResult,
    MolecularFinding,
    Treatment,
)
from curation.search import cache as search_cache
from curation.synthetic import (
    GENERATED_PMID_START,
    MAX_GENERATED_CITATIONS,
    SYNTHETIC_PMID_MAX,
    SYNTHETIC_PMID_MIN,
    SYNTHETIC_USERNAME,
    TITLE_PREFIX,
)
from curation.synthetic.generator import DEFAULT_WORKERS, generate


def synthetic_citations(first: int = SYNTHETIC_PMID_MIN, last: int = SYNTHETIC_PMID_MAX):
    if not SYNTHETIC_PMID_MIN <= first <= last <= SYNTHETIC_PMID_MAX:
        raise ValueError(f"{first}-{last} is not inside the reserved synthetic PMID range")
    return Citation.objects.filter(pmid__gte=first, pmid__lte=last)


def synthetic_cases():
    return Case.objects.filter(
        citation__pmid__gte=SYNTHETIC_PMID_MIN, citation__pmid__lte=SYNTHETIC_PMID_MAX
    )


def delete_synthetic(
    first: int = SYNTHETIC_PMID_MIN, last: int = SYNTHETIC_PMID_MAX
) -> dict[str, int]:
    """Remove every citation in the reserved PMID range (or a part of it) and its cases.

    Raw DELETEs rather than QuerySet.delete(): the latter would load each row
    and send signals, and simple-history would write a "deleted" history row
    for each of 100,000 cases. The order respects the foreign keys.
    """
    removed: dict[str, int] = {}
    citation_ids = synthetic_citations(first, last).values("pk")
    case_ids = Case.objects.filter(citation__in=citation_ids).values("pk")
    with transaction.atomic():
        # Revisions of synthetic cases are synthetic too (same citation), so
        # revision_of links stay inside the set; clear them so the order
        # below cannot trip over one.
        Case.objects.filter(pk__in=case_ids).exclude(revision_of=None).update(revision_of=None)
        for label, queryset in [
            ("ihc", IHCResult.objects.filter(case__in=case_ids)),
            ("ihc history", IHCResult.history.filter(case_id__in=case_ids)),
            ("fusions", FusionFinding.objects.filter(case__in=case_ids)),
            ("molecular findings", MolecularFinding.objects.filter(case__in=case_ids)),
            ("treatments", Treatment.objects.filter(case__in=case_ids)),
            ("clinical events", ClinicalEvent.objects.filter(case__in=case_ids)),
            ("fusion history", FusionFinding.history.filter(case_id__in=case_ids)),
            ("events", CaseEvent.objects.filter(case__in=case_ids)),
            ("differentials", Case.differentials.through.objects.filter(case__in=case_ids)),
            ("other citations", Case.other_citations.through.objects.filter(case__in=case_ids)),
            (
                "links to synthetic citations",
                Case.other_citations.through.objects.filter(citation__in=citation_ids),
            ),
            ("case history", Case.history.filter(citation_id__in=citation_ids)),
            ("cases", Case.objects.filter(pk__in=case_ids)),
            ("authors", Author.objects.filter(citation__in=citation_ids)),
        ]:
            removed[label] = _raw_delete(queryset)
        FetchJobItem.objects.filter(citation__in=citation_ids).update(citation=None)
        removed["citations"] = _raw_delete(synthetic_citations(first, last))
        search_cache.bump()  # raw deletes send no signals: cached search counts are obsolete
        citation_counts.changed()  # the citation list, kept per citations generation
    return removed


def _raw_delete(queryset) -> int:
    # QuerySet._raw_delete: one DELETE ... WHERE, no row loading, no signals.
    return queryset._raw_delete(queryset.db)


class Command(BaseCommand):
    help = (
        "Create N published, clearly synthetic cases on M synthetic citations (PMIDs "
        f"{SYNTHETIC_PMID_MIN:,}-{SYNTHETIC_PMID_MAX:,}, titles '{TITLE_PREFIX} ...', owned by "
        f"the inactive user {SYNTHETIC_USERNAME}) for benchmarks; --delete removes every "
        "synthetic record."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=1000, help="cases to create")
        parser.add_argument(
            "--citations",
            type=int,
            default=None,
            help="citations to create (default: half the cases, rounded up)",
        )
        parser.add_argument("--seed", type=int, default=1, help="same seed, same records")
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help="threads writing batches side by side (PostgreSQL; the records do not change)",
        )
        parser.add_argument(
            "--delete", action="store_true", help="remove every synthetic record, then stop"
        )
        parser.add_argument(
            "--allow-real-data",
            action="store_true",
            help="add synthetic records to a database that holds real cases (not advised)",
        )

    def handle(self, *args, cases, citations, seed, workers, delete, allow_real_data, **options):
        if delete:
            started = time.monotonic()
            removed = delete_synthetic()
            self.stdout.write(
                f"Removed {removed['cases']:,} synthetic cases and {removed['citations']:,} "
                f"synthetic citations in {time.monotonic() - started:.1f} s."
            )
            return
        if citations is None:
            citations = math.ceil(cases / 2)
        if cases < 0 or citations < 0:
            raise CommandError("--cases and --citations cannot be negative.")
        if workers < 1:
            raise CommandError("--workers: at least 1.")
        if cases and not citations:
            raise CommandError("Cases need citations: give --citations of at least 1.")
        if citations > MAX_GENERATED_CITATIONS:
            raise CommandError(f"At most {MAX_GENERATED_CITATIONS:,} synthetic citations.")
        existing = synthetic_citations().count()
        if existing:
            raise CommandError(
                f"This database already holds {existing:,} synthetic citations; remove them "
                "first with `manage.py generate_synthetic --delete`."
            )
        real = Case.objects.exclude(
            Q(citation__pmid__gte=SYNTHETIC_PMID_MIN) & Q(citation__pmid__lte=SYNTHETIC_PMID_MAX)
        ).count()
        if real and not allow_real_data:
            raise CommandError(
                f"This database holds {real:,} real case(s). Synthetic records belong in a "
                "database of their own (set DATABASE_URL); --allow-real-data overrides this."
            )
        started = time.monotonic()
        verbosity = options.get("verbosity", 1)

        def progress(written):
            if verbosity > 1:
                self.stdout.write(
                    f"  {written['cases']:,} cases, {written['citations']:,} citations, "
                    f"{time.monotonic() - started:.0f} s"
                )

        written = generate(cases, citations, seed, progress=progress, workers=workers)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Created {written['cases']:,} synthetic cases ({written['ihc']:,} IHC results, "
            f"{written['fusions']:,} fusions) on {written['citations']:,} synthetic citations "
            f"(PMIDs from {GENERATED_PMID_START:,}) in {elapsed:.1f} s, seed {seed}."
        )
