"""The public search page and its exports: published cases only, state in the URL."""

from __future__ import annotations

from dataclasses import replace

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from citations.exports import ama_html
from config.csvfile import csv_download, streamed_download
from config.site import site_url
from curation.retractions import retracted_note
from curation.search import cache as search_cache
from curation.search import exports
from curation.search import summary as review
from curation.search.answers import name_slug
from curation.search.engine import Resolved, export_cases, run_search
from curation.search.pagecache import kept_per_generation
from curation.search.params import (
    AGE_BANDS,
    COLUMN_SORT_KEYS,
    COLUMN_SORTS,
    COLUMNS,
    PAGE_SIZES,
    SORTS,
    SearchParams,
)

DIFFERENTIAL_SHOWN = 15  # diagnoses of a profile's ranking shown on the page


def _active_filters(params: SearchParams, result) -> list[tuple[str, str]]:
    """(label, link that removes it) for every filter in force."""
    names = {v.value: v.label for v in result.facets["dx"].values}
    families = {v.value: v.label for v in result.facets["family"].values}
    bands = {key: label for key, label, _, _ in AGE_BANDS}
    chips: list[tuple[str, str]] = []
    if params.q:
        chips.append((f"Text: {params.q}", params.without("q")))
    chips += [
        (f"WHO family: {families.get(v, f'#{v}')}", params.toggle("family", v))
        for v in params.family
    ]
    chips += [(f"Diagnosis: {names.get(v, f'#{v}')}", params.toggle("dx", v)) for v in params.dx]
    chips += [(f"Site: {v}", params.toggle("site", v)) for v in params.site]
    for name, partner in (("five", "5'"), ("three", "3'")):
        value = getattr(params, name)
        if value:
            shown = result.genes.get(name, value)
            chips.append((f"{partner} partner: {shown}", params.without(name)))
    chips += [(f"{m} {r}", params.toggle("ihc", (m, r))) for m, r in params.ihc]
    chips += [(f"Sex: {v}", params.toggle("sex", v)) for v in params.sex]
    chips += [(f"Age: {bands[v]}", params.toggle("age", v)) for v in params.age]
    chips += [(f"Year: {v}", params.toggle("year", v)) for v in params.year]
    for name in ("grade", "finding", "method", "treatment", "event", "outcome", "source"):
        labels = {v.value: v.label for v in result.facets[name].values}
        title = result.facets[name].title
        chips += [
            (f"{title}: {labels.get(v, v)}", params.toggle(name, v)) for v in getattr(params, name)
        ]
    if result.profile and result.profile.usable:  # what of the profile was applied
        chips.append((f"Profile: {result.profile.normalised}", params.without("profile")))
    return chips


def _link_facets(params: SearchParams, facets) -> None:
    """Each counted value's link (and its children's): the counting builds none."""
    for facet in facets.values():
        for item in facet.values:
            item.link = params.facet_link(facet.name, item.value, item.selected)
            for child in item.children:
                child.link = params.facet_link(facet.name, child.value, child.selected)


def _differential(params: SearchParams, result) -> list[dict]:
    """The profile's ranked diagnoses with their entity page, their consistent cases
    (the diagnosis facet's count) and the link that lists those cases."""
    consistent = {v.value: v for v in result.facets["dx"].values}
    return [
        {
            "item": item,
            "slug": name_slug(item.name),
            "consistent": consistent[item.diagnosis_id].count
            if item.diagnosis_id in consistent
            else 0,
            "link": params.query_string(dx=(item.diagnosis_id,)),
        }
        for item in result.differential[:DIFFERENTIAL_SHOWN]
    ]


def _table_row(case, columns) -> SafeString:
    """One case as a row of the results table. 100 rows a page of a dozen cells: built
    here, every value escaped, rather than by 1,200 template cells (five times faster)."""
    cells = review.result_cells(case)
    # What the dense cells shorten, for their tooltips.
    titles = {
        "site": case.topography.name if case.topography_id else "",
        "outcome": case.get_outcome_display() if case.outcome else "",
    }
    url = escape(case.get_absolute_url())
    html = [f'<tr data-case="{case.pk}"><td><a href="{url}">{case.pk}</a></td>']
    for key in columns:  # params.COLUMNS' keys only
        value = cells.get(key, "")
        if key == "diagnosis":
            content = f'<a href="{url}">{escape(value or "not recorded")}</a>'
        elif key == "reference":
            content = _reference_cell(case.citation)
        else:
            content = escape(value)
        title = titles.get(key, "")
        title = f' title="{escape(title)}"' if title else ""
        html.append(f'<td data-column="{key}"{title}>{content}</td>')
    html.append("</tr>")
    return mark_safe("".join(html))  # noqa: S308 -- every value escaped above


def _reference_cell(citation) -> str:
    """ "McCollum KJ et al., 2022; PMID 35560368" (the rows fetch two authors a paper)."""
    authors = list(citation.authors.all())
    first = ""
    if authors:
        first = format_html("{}{}, ", authors[0], " et al." if len(authors) > 1 else "")
    pmid = ""
    if citation.pmid:
        pmid = format_html(
            '; <a href="{}">PMID {}</a>',
            reverse("citations:detail", args=[citation.pmid]),
            citation.pmid,
        )
    return format_html("{}{}{}", first, citation.year or "", pmid)


def _table(params: SearchParams, cases) -> dict:
    """The results as a table: its headers (with their sort links) and one row of cells
    per case, in the columns chosen (summary.result_cells: the review table's words)."""
    current = params.sort.removeprefix("-")
    headers = []
    for key in params.columns:
        sort_key = COLUMN_SORT_KEYS.get(key)
        state = ""
        if sort_key and sort_key == current:
            descending = COLUMN_SORTS[sort_key][3] != params.sort.startswith("-")
            state = "descending" if descending else "ascending"
        headers.append(
            {
                "key": key,
                "label": COLUMNS[key],
                "link": params.column_sort_link(key) if sort_key else "",
                "sort": state,
            }
        )
    return {
        "headers": headers,
        "rows": [_table_row(case, params.columns) for case in cases],
        "choices": [(key, label, key in params.columns) for key, label in COLUMNS.items()],
        # The column form carries the rest of the search.
        "hidden": [(n, v) for n, v in params.as_pairs(page=False) if n != "cols"],
    }


def _sort_options(params: SearchParams) -> dict[str, str]:
    """The form's sorts, and a column sort chosen in the table (kept by a new search)."""
    options = dict(SORTS)
    if params.sort not in options:
        key = params.sort.removeprefix("-")
        name, forward, backward, _ = COLUMN_SORTS[key]
        order = backward if params.sort.startswith("-") else forward
        options[params.sort] = f"{name.capitalize()} ({order})"
    return options


@kept_per_generation
def search(request):
    params = SearchParams.from_query(request.GET)
    result = run_search(params, bypass_cache=search_cache.bypassed(request.GET))
    _link_facets(params, result.facets)
    page = result.page
    if result.profile and result.profile.errors and result.profile.usable:
        # The downloads get the profile as applied: the same cases as the page.
        params_applied = replace(params, profile=result.profile.normalised)
    else:
        params_applied = params
    export_query = params_applied.presentation.query_string(page=1)
    context = {
        "params": params,
        # The facet filters in force travel with the form (its own inputs are visible).
        "hidden_filters": [
            (name, value)
            for name, value in params.as_pairs(page=False)
            if name not in ("q", "profile", "five", "three", "sort", "per_page", "page")
        ],
        "result": result,
        "page": page,
        "cases": list(page.object_list),
        "facets": result.facets,
        "active": _active_filters(params, result),
        "sorts": _sort_options(params),
        "table": _table(params, page.object_list) if params.view == "table" else None,
        "cards_link": replace(params, view="cards").query_string(page=page.number),
        "table_link": replace(params, view="table").query_string(page=page.number),
        "page_sizes": PAGE_SIZES,
        "prev_link": params.query_string(page=page.previous_page_number())
        if page.has_previous()
        else "",
        "next_link": params.query_string(page=page.next_page_number()) if page.has_next() else "",
        "export_query": "" if export_query == "?" else export_query,
        # "Subscribe to this search": the same query, without its page.
        "sub_kind": "search",
        "sub_query": export_query.lstrip("?"),
        "sub_label": "search " + (export_query.lstrip("?") or "(every case)"),
        "export_formats": [("csv", "CSV"), ("json", "JSON"), ("ris", "RIS"), ("bibtex", "BibTeX")],
        "profile_in_force": bool(result.profile and result.profile.usable),
        "differential": _differential(params, result),
        # "IMT" names a diagnosis: its entity page answers more than a list of cases.
        "named": [(name, name_slug(name)) for _pk, name in result.named_diagnoses],
        "differential_more": max(0, len(result.differential) - DIFFERENTIAL_SHOWN),
        "clear_link": "?",
        "retracted_note": _retracted_note(request),
    }
    return render(request, "curation/search/search.html", context)


def _refused(request, errors):
    # As the page and the API: input that cannot be read is refused, never
    # quietly left out (which would export every case instead).
    return render(
        request,
        "curation/search/export_refused.html",
        {"errors": errors, "search": f"?{request.GET.urlencode()}"},
        status=400,
    )


SUMMARY_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "md": ("text/markdown; charset=utf-8", "md"),
}


@kept_per_generation
def summary(request, fmt: str = ""):
    """The review table of a search (curation/search/summary.py): the page or a download."""
    if fmt and fmt not in SUMMARY_FORMATS:
        raise Http404("No such download format.")
    params = SearchParams.from_query(request.GET)
    resolved = Resolved(params)
    if resolved.errors:
        return _refused(request, resolved.errors)
    query = params.query_string(page=1)
    query = "" if query == "?" else query
    total = review.count(params, resolved)
    too_many = total > review.MAX_CASES
    table = None if too_many else review.summarise(review.cohort(params, resolved))
    stamp = timezone.now().strftime("%Y%m%d")
    title = f"RareDerm review table: {total} case{'s' if total != 1 else ''} ({stamp})"
    if fmt:
        if too_many:
            return render(
                request,
                "curation/search/summary.html",
                {"too_many": True, "total": total, "max": review.MAX_CASES, "query": query},
                status=400,
            )
        filename = f"rarederm-review-{stamp}.{SUMMARY_FORMATS[fmt][1]}"
        if fmt == "csv":
            return csv_download(review.csv_file(table), filename)
        if fmt == "xlsx":
            body = review.xlsx_bytes(table)
        elif fmt == "docx":
            body = review.docx_bytes(table, title)
        else:
            body = review.markdown(table, title)
        response = HttpResponse(body, content_type=SUMMARY_FORMATS[fmt][0])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    context = {
        "title": title,
        "total": total,
        "too_many": too_many,
        "max": review.MAX_CASES,
        "query": query,
        "table": table,
        "rows": list(zip(table.cases, table.rows, strict=True)) if table else [],
        "columns": review.CASE_COLUMNS,
        "references": [
            (number, mark_safe(ama_html(citation)))  # noqa: S308 -- escaped by ama_html
            for number, citation in enumerate(table.papers, 1)
        ]
        if table
        else [],
        "formats": [
            ("csv", "CSV"),
            ("xlsx", "Excel (XLSX)"),
            ("docx", "Word (DOCX)"),
            ("md", "Markdown"),
        ],
        "retracted_note": _retracted_note(request),
    }
    return render(request, "curation/search/summary.html", context)


def _retracted_note(request) -> dict:
    # The search's own error list already says a bad `retracted` value.
    return {**retracted_note(request), "error": ""}


def export(request, fmt: str):
    """The whole result of a search (every page) as a download, streamed."""
    if fmt not in exports.FORMATS:
        raise Http404("No such export format.")
    params = SearchParams.from_query(request.GET)
    resolved = Resolved(params)
    if resolved.errors:
        return _refused(request, resolved.errors)
    cases = export_cases(params, resolved)
    content_type, extension = exports.FORMATS[fmt]
    what = "cases" if fmt in ("csv", "json") else "citations"
    stamp = timezone.now().strftime("%Y%m%d")
    return streamed_download(
        exports.stream(cases, fmt, site_url(request)),
        content_type,
        f"rarederm-{what}-{stamp}.{extension}",
    )
