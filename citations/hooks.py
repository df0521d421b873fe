"""Where apps above citations add to its pages, without citations knowing them.

citations is the lower layer: it knows no case. An app above it (curation)
registers, in its AppConfig.ready, a function that renders a section of a
citation's page (curation: the published cases that cite it).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

# section(request, citation) -> HTML (a SafeString, as render_to_string gives), "" for none.
CitationSection = Callable[[HttpRequest, object], str]

citation_page_sections: list[CitationSection] = []


def add_citation_page_section(section: CitationSection) -> CitationSection:
    """Show `section` at the end of every citation's page (once, however often registered)."""
    if section not in citation_page_sections:
        citation_page_sections.append(section)
    return section


def render_citation_page_sections(request: HttpRequest, citation) -> list[str]:
    return [html for section in citation_page_sections if (html := section(request, citation))]


# found(search, stored) -> None: a saved search's batch was stored (`stored`:
# citations.actions.storage.Stored by PMID), in the same transaction. screening
# makes candidates of them.
SavedSearchListener = Callable[[object, dict], None]

saved_search_listeners: list[SavedSearchListener] = []


def add_saved_search_listener(listener: SavedSearchListener) -> SavedSearchListener:
    """Call `listener` with every batch a saved search stores (once, however often registered)."""
    if listener not in saved_search_listeners:
        saved_search_listeners.append(listener)
    return listener


# cited() -> Q over Citation: the citations the retraction watch re-fetches (curation:
# those its cases cite). Several are OR-ed; with none registered, every citation.
CitedCitations = Callable[[], object]

cited_citation_filters: list[CitedCitations] = []


def add_cited_citations(condition: CitedCitations) -> CitedCitations:
    """Let the watch re-fetch the citations `condition()` selects (once, however often)."""
    if condition not in cited_citation_filters:
        cited_citation_filters.append(condition)
    return condition


# changed(changes) -> None: the watch recorded these CitationChange rows, in the
# transaction that stored them. curation tells the curators and reviewers of the cases
# whose paper was retracted.
CitationChangeListener = Callable[[list], None]

citation_change_listeners: list[CitationChangeListener] = []


def add_citation_change_listener(listener: CitationChangeListener) -> CitationChangeListener:
    """Call `listener` with the changes of every batch the watch stores (once, however often)."""
    if listener not in citation_change_listeners:
        citation_change_listeners.append(listener)
    return listener
