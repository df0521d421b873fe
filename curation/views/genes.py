"""The fusion explorer: one gene's fusion partners in published cases, with sites and diagnoses."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from curation.models import Figure, resolve_gene
from curation.search import bitmaps
from curation.search import cache as search_cache
from curation.search.pagecache import kept_per_generation
from curation.search.partners import gene_partners


def _linked(partners: list[dict]) -> list[dict]:
    """Each partner with the links of its search and its own gene page."""
    search = reverse("curation:search")
    return [
        {
            **p,
            "search_url": search + "?" + urlencode(p["query"]),
            "gene_url": reverse("curation:gene", args=[p["symbol"]]) if p["symbol"] else "",
        }
        for p in partners
    ]


@kept_per_generation
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
    as_three, as_five = bitmaps.cached(
        "gene-partners",
        target.pk,
        lambda index: (
            gene_partners(target, gene_is="three", index=index),
            gene_partners(target, gene_is="five", index=index),
        ),
        bypass=search_cache.bypassed(request.GET),
        background=True,
    )
    as_three, as_five = _linked(as_three), _linked(as_five)
    context = {
        "gene": target,
        "as_three": as_three,
        "as_five": as_five,
        "total_three": sum(p["cases"] for p in as_three),
        "total_five": sum(p["cases"] for p in as_five),
        "search_three": reverse("curation:search") + "?" + urlencode({"three": target.symbol}),
        "search_five": reverse("curation:search") + "?" + urlencode({"five": target.symbol}),
        "figures": Figure.objects.of_gene(target),
        # The word search finds the gene in every finding of the record (and in the text).
        "sub_kind": "gene",
        "sub_query": urlencode({"q": target.symbol}),
        "sub_label": f"gene {target.symbol}",
    }
    return render(request, "curation/search/gene.html", context)
