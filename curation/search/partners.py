"""A gene's fusion partners in published cases, with their sites and diagnoses."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count

from curation.models import FusionFinding

UNKNOWN = "?"


def gene_partners(gene, *, gene_is: str) -> list[dict]:
    """Partners of `gene` when it is the 5' (`five`) or 3' (`three`) gene: three GROUP BYs.

    Each partner's `query` is the search that lists its cases; links are the view's.
    """
    mine, other = ("five_prime_gene", "three_prime_gene")
    if gene_is == "three":
        mine, other = other, mine
    findings = FusionFinding.objects.filter(case__status="published", **{mine: gene}).order_by()
    partner = f"{other}__symbol"
    rows = findings.values(partner).annotate(n=Count("case", distinct=True))
    sites = findings.values(partner, "case__topography__code", "case__topography__name").annotate(
        n=Count("case", distinct=True)
    )
    diagnoses = findings.values(partner, "case__final_diagnosis__name").annotate(
        n=Count("case", distinct=True)
    )
    by_site, by_dx = defaultdict(list), defaultdict(list)
    for row in sites:
        if row["case__topography__code"]:
            by_site[row[partner]].append(
                (row["case__topography__code"], row["case__topography__name"], row["n"])
            )
    for row in diagnoses:
        if row["case__final_diagnosis__name"]:
            by_dx[row[partner]].append((row["case__final_diagnosis__name"], row["n"]))
    result = []
    for row in rows:
        symbol = row[partner]
        if gene_is == "three":
            notation = f"{symbol or UNKNOWN}::{gene.symbol}"
            query = {"three": gene.symbol, **({"five": symbol} if symbol else {})}
        else:
            notation = f"{gene.symbol}::{symbol}"
            query = {"five": gene.symbol, "three": symbol}
        result.append(
            {
                "symbol": symbol or "",
                "notation": notation,
                "cases": row["n"],
                "sites": sorted(by_site[symbol], key=lambda s: (-s[2], s[0])),
                "diagnoses": sorted(by_dx[symbol], key=lambda d: (-d[1], d[0])),
                "query": query,
            }
        )
    result.sort(key=lambda p: (-p["cases"], p["symbol"] == "", p["symbol"]))
    return result
