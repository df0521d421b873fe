"""Browse and search published cases: parameters from the URL, full text,
filters, facet counts, immunoprofile matching and streaming exports.

    params = SearchParams.from_query(request.GET)
    result = run_search(params)          # curation.search.engine

Everything here reads published cases only; a draft never appears.
"""
