"""The curation side of the retraction and correction watch (citations/actions/refresh.py).

- Which citations the watch re-fetches: those a case cites, as its primary paper or
  another report of the same patient (registered with citations.hooks).
- Who is told when a case's primary paper is retracted: its curator and the reviewers
  who decided on it (all reviewers when none did), by e-mail through the outbox, in
  the transaction that records the retraction (curation/notifications.py's way).
- What the pages that count cases say about the cases they leave out
  (Case.objects.counted holds the rule itself).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string

from config.site import absolute_url
from curation.models import Case, CaseEvent
from curation.notifications import DECISIONS, reviewers_to_notify
from curation.search import cache as search_cache
from curation.search.params import RETRACTED_INCLUDE, RETRACTED_PARAM, read_retracted
from outbox.actions import queue_emails


def cited_by_cases() -> Q:
    """Citations that cases cite (citations.hooks.add_cited_citations)."""
    return Q(cases__isnull=False) | Q(other_cases__isnull=False)


def people_to_tell(case: Case) -> list:
    """The case's curator and the reviewers who decided on it (all reviewers when none
    did), active and with an e-mail address, each once."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    deciders = CaseEvent.objects.filter(case=case, to_status__in=DECISIONS).values("actor_id")
    chosen = list(users.filter(pk__in=deciders).order_by("pk"))
    if not chosen:
        chosen = list(reviewers_to_notify(CaseEvent(case=case)))
    curator = users.filter(pk=case.created_by_id).first()
    people = ([curator] if curator else []) + chosen
    return list({user.pk: user for user in people}.values())


def tell_about_retractions(changes: list) -> list[int]:
    """E-mail the curator and reviewers of each case whose primary paper one of these
    changes retracts (citations.hooks listener). Idempotent per change, case and person."""
    from citations.models import CitationChange

    retractions = [c for c in changes if c.kind == CitationChange.Kind.RETRACTION]
    if not retractions:
        return []
    by_citation = {c.citation_id: c for c in retractions}
    cases = (
        Case.objects.filter(citation_id__in=list(by_citation))
        .select_related("citation", "final_diagnosis", "created_by")
        .order_by("pk")
    )
    messages, keys = [], []
    for case in cases:
        change = by_citation[case.citation_id]
        url = absolute_url(case.get_absolute_url())
        for user in people_to_tell(case):
            body = render_to_string(
                "curation/review/email/retracted.txt",
                {"recipient": user, "case": case, "change": change, "url": url},
            )
            subject = (
                f"[RareDerm] {case.number}: its paper (PMID {case.citation.pmid}) was retracted"
            )
            messages.append(EmailMessage(subject, body, to=[user.email]))
            keys.append(f"citation-change:{change.pk}:case:{case.pk}:user:{user.pk}")
    return queue_emails(messages, kind="case paper retracted", keys=keys)


def retracted_note(request) -> dict:
    """What a counting page says about the cases of retracted papers: how many are left
    out (or were brought back), the link that switches, and the error for a bad value."""
    included, error = read_retracted(request.GET)
    query = request.GET.copy()
    query.pop(RETRACTED_PARAM, None)
    if not included:
        query[RETRACTED_PARAM] = RETRACTED_INCLUDE
    toggle = "?" + query.urlencode() if query else request.path
    # Once per registry generation (a citation's change starts a new one).
    count = search_cache.cached("retracted", ["left-out"], lambda: Case.objects.left_out().count())
    return {"included": included, "count": count, "toggle": toggle, "error": error}
