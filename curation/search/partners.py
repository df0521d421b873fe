"""A gene's fusion partners in published cases, with their sites and diagnoses.

Counted in the facet index (curation/search/bitmaps.py): the published cases of each
fusion (5' gene, 3' gene, method) intersected with those of each site and diagnosis.
"""

from __future__ import annotations

from pyroaring import BitMap

from curation.search import bitmaps

UNKNOWN = "?"


def gene_partners(gene, *, gene_is: str, index=None) -> list[dict]:
    """Partners of `gene` when it is the 5' (`five`) or 3' (`three`) gene, from the facet
    index (`index`, else the current one); every published case (those of retracted
    papers included).

    Each partner's `query` is the search that lists its cases; links are the view's.
    """
    index = index or bitmaps.current()
    mine, other = (0, 1) if gene_is == "five" else (1, 0)
    by_partner: dict[int | None, BitMap] = {}
    for key, of_fusion in index.values[bitmaps.FUSIONS].items():
        if key[mine] == gene.pk:
            by_partner.setdefault(key[other], BitMap()).update(of_fusion)
    symbols, sites = index.labels["gene"], index.labels["site"]
    diagnoses = index.labels["dx"]
    result = []
    for partner, cases in by_partner.items():
        symbol = symbols.get(partner) if partner is not None else None
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
                "cases": len(cases),
                "sites": sorted(
                    (
                        (code, sites.get(code, ""), n)
                        for code, n in bitmaps.counts(index, "site", cases).items()
                    ),
                    key=lambda s: (-s[2], s[0]),
                ),
                "diagnoses": sorted(
                    (
                        (diagnoses.get(dx, ""), n)
                        for dx, n in bitmaps.counts(index, "dx", cases).items()
                    ),
                    key=lambda d: (-d[1], d[0]),
                ),
                "query": query,
            }
        )
    result.sort(key=lambda p: (-p["cases"], p["symbol"] == "", p["symbol"]))
    return result
