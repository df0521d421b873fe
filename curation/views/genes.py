"""The fusion explorer: one gene's fusion partners in published cases, with sites and diagnoses."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from curation.models import FusionFinding, resolve_gene
from curation.search import cache as search_cache

UNKNOWN = "?"


def _partners(gene, *, gene_is: str) -> list[dict]:
    """Partners of `gene` when it is the 5' (`five`) or 3' (`three`) gene: three GROUP BYs."""
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
                "search_url": reverse("curation:search") + "?" + urlencode(query),
                "gene_url": reverse("curation:gene", args=[symbol]) if symbol else "",
            }
        )
    result.sort(key=lambda p: (-p["cases"], p["symbol"] == "", p["symbol"]))
    return result


def gene(request, symbol: str):
    found = resolve_gene(symbol[:60])
    if found.gene is None:
        if found.candidates:
            return render(
                request,
                "curation/search/gene_ambiguous.html",
                {"symbol": symbol, "candidates": found.candidates},
            )
        raise Http404(found.resolution.message or "No such gene.")
    if found.gene.symbol != symbol:
        # One address per gene: /genes/CARS/ -> /genes/CARS1/.
        return redirect("curation:gene", found.gene.symbol)
    target = found.gene
    # Recounted once per registry generation (curation/search/cache.py), not per request.
    as_three, as_five = search_cache.cached(
        "gene",
        target.pk,
        lambda: (_partners(target, gene_is="three"), _partners(target, gene_is="five")),
        bypass=search_cache.bypassed(request.GET),
    )
    context = {
        "gene": target,
        "as_three": as_three,
        "as_five": as_five,
        "total_three": sum(p["cases"] for p in as_three),
        "total_five": sum(p["cases"] for p in as_five),
        "search_three": reverse("curation:search") + "?" + urlencode({"three": target.symbol}),
        "search_five": reverse("curation:search") + "?" + urlencode({"five": target.symbol}),
    }
    return render(request, "curation/search/gene.html", context)
