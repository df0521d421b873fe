"""The screening inbox (/screening/), decisions on it, and the public "Suggest a paper" form.

Curators and reviewers screen; every decision goes through
screening.actions.decide_candidate. A curator's included papers are listed by
curation ("To curate", curation.views.to_curate), which starts their reports.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import CURATOR, REVIEWER, has_role
from accounts.throttle import client_address
from citations.models import Citation, CitationLink, SavedSearch
from screening import actions
from screening.forms import DecisionForm, SuggestForm
from screening.highlight import query_phrases, term_pattern
from screening.models import (
    Candidate,
    CandidateSource,
    DigestOptOut,
    DualSearch,
    HighlightTerm,
    ScreeningDecision,
    SearchCurator,
)

PAGE_SIZE = 20


def screener_required(view):
    """Logged in (else the login page) and a curator or reviewer (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not has_role(request.user, CURATOR):
            raise PermissionDenied("Only curators and reviewers screen papers.")
        return view(request, *args, **kwargs)

    return wrapped


TABS = [
    (Candidate.Status.NEW, "To screen"),
    (Candidate.Status.MAYBE, "Maybe"),
    (Candidate.Status.INCLUDED, "Included"),
    (Candidate.Status.EXCLUDED, "Excluded"),
]


def _candidates():
    return Candidate.objects.select_related("citation", "assigned_to").prefetch_related(
        Prefetch(
            "sources",
            queryset=CandidateSource.objects.select_related("added_by").order_by(
                "created_at", "pk"
            ),
        ),
        Prefetch(
            "decisions",
            queryset=ScreeningDecision.objects.select_related("reason", "by", "assigned_to"),
        ),
    )


@screener_required
@require_GET
def inbox(request):
    status = request.GET.get("status", Candidate.Status.NEW)
    if status not in dict(TABS):
        status = Candidate.Status.NEW
    counts = dict(
        Candidate.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    )
    form = DecisionForm()
    shown = _candidates().filter(status=status)
    if status == Candidate.Status.NEW:
        # Dual screening: a paper this screener decided waits for the other one, elsewhere.
        mine = ScreeningDecision.objects.filter(by=request.user, settles=False)
        shown = shown.exclude(dual=True, pk__in=mine.values("candidate_id"))
    page = Paginator(shown.order_by("created_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "screening/inbox.html",
        {
            "status": status,
            "tabs": [(code, label, counts.get(code, 0)) for code, label in TABS],
            "page": page,
            # The lists once for the whole page, not once per paper.
            "reasons": _choices(form.fields["reason"]),
            "curators": _choices(form.fields["assign_to"]),
            "terms": term_pattern(_entity_terms()),
            "conflicts": counts.get(Candidate.Status.CONFLICT, 0),
        },
    )


def _reviewer_required(request) -> None:
    if not has_role(request.user, REVIEWER):
        raise PermissionDenied("Only reviewers settle conflicts and set dual screening.")


@screener_required
@require_GET
def conflicts(request):
    """Reviewers: the papers whose two screeners disagree, each with both decisions."""
    _reviewer_required(request)
    form = DecisionForm()
    page = Paginator(
        _candidates().filter(status=Candidate.Status.CONFLICT).order_by("created_at", "pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "screening/conflicts.html",
        {
            "page": page,
            "status": Candidate.Status.CONFLICT,
            "reasons": _choices(form.fields["reason"]),
            "curators": _choices(form.fields["assign_to"]),
            "terms": term_pattern(_entity_terms()),
        },
    )


@screener_required
@require_GET
def dual_searches(request):
    """Reviewers: for each saved search, whether one curator or two (blind) screen its papers."""
    _reviewer_required(request)
    dual = set(DualSearch.objects.values_list("search_id", flat=True))
    named: dict[int, set[int]] = {}
    for search_id, user_id in SearchCurator.objects.values_list("search_id", "user_id"):
        named.setdefault(search_id, set()).add(user_id)
    curators = [u for u in _users() if has_role(u, CURATOR)]
    searches = [
        (s, s.pk in dual, named.get(s.pk, set())) for s in SavedSearch.objects.order_by("name")
    ]
    return render(
        request,
        "screening/dual_searches.html",
        {"searches": searches, "curators": curators},
    )


def _users():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True).order_by("username")


@screener_required
@require_POST
def search_curators(request, pk: int):
    """Reviewers: the curators a saved search notifies in their weekly digest."""
    _reviewer_required(request)
    search = get_object_or_404(SavedSearch, pk=pk)
    wanted = request.POST.getlist("curator")
    if not all(value.isdigit() for value in wanted):
        messages.error(request, "Nothing changed: choose curators from the list.")
        return redirect("screening:dual_searches")
    users = list(_users().filter(pk__in=[int(v) for v in wanted]))
    try:
        actions.set_search_curators(search, users, by=request.user)
    except ValidationError as exc:
        messages.error(request, f"Nothing changed: {' '.join(exc.messages)}")
    else:
        names = ", ".join(u.get_username() for u in users) or "every curator"
        messages.success(request, f"Saved search “{search.name}” notifies {names}.")
    return redirect("screening:dual_searches")


@screener_required
@require_POST
def dual_set(request, pk: int):
    _reviewer_required(request)
    search = get_object_or_404(SavedSearch, pk=pk)
    on = request.POST.get("dual") == "1"
    actions.set_dual_screening(search, on, by=request.user)
    messages.success(
        request,
        f"Saved search “{search.name}”: "
        + (
            "two curators screen the papers it finds from now on, each without seeing the "
            "other's decision."
            if on
            else "one curator's decision is enough for the papers it finds from now on."
        ),
    )
    return redirect("screening:dual_searches")


def _entity_terms() -> list[str]:
    """The reviewers' list of terms, and the phrases the saved searches look for."""
    terms = list(HighlightTerm.objects.values_list("term", flat=True))
    for query in SavedSearch.objects.filter(enabled=True).values_list("query", flat=True):
        terms += query_phrases(query)
    return terms


def _choices(field) -> list[tuple[str, str]]:
    return [(str(value), label) for value, label in field.choices]


@screener_required
@require_POST
def decide(request, pk: int):
    candidate = get_object_or_404(Candidate, pk=pk)
    back = request.POST.get("status", Candidate.Status.NEW)
    query = urlencode({"status": back if back in dict(TABS) else Candidate.Status.NEW})
    target = reverse("screening:inbox") + f"?{query}"
    if back == Candidate.Status.CONFLICT:
        target = reverse("screening:conflicts") + "?"
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.decide_candidate(
                candidate,
                data["decision"],
                by=request.user,
                reason=data["reason"],
                assign_to=data["assign_to"],
                note=data["note"],
            )
        except ValidationError as exc:
            messages.error(request, f"{candidate}: {' '.join(exc.messages)}")
        else:
            if candidate.status == Candidate.Status.NEW:
                messages.success(
                    request,
                    f"{candidate}: your decision is recorded; a second curator screens it "
                    "without seeing it.",
                )
            elif candidate.status == Candidate.Status.CONFLICT:
                messages.warning(
                    request,
                    f"{candidate}: the two screeners disagree; a reviewer settles it (Conflicts).",
                )
            else:
                label = Candidate.Status(data["decision"]).label.lower()
                extra = ""
                if candidate.assigned_to_id:
                    extra = f", assigned to {candidate.assigned_to.get_username()}"
                messages.success(request, f"{candidate}: {label}{extra}.")
    else:
        errors = " ".join(e for field in form.errors.values() for e in field)
        messages.error(request, f"{candidate}: nothing changed. {errors}")
    return redirect(f"{target}#candidate-{candidate.pk}")


THANKS = "Thank you: the paper will be screened."


@require_http_methods(["GET", "POST"])
def suggest(request):
    """Anyone (no account) suggests a paper; it lands in screening once."""
    form = SuggestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            # A robot: thanked like anyone, nothing stored.
            messages.success(request, THANKS)
            return redirect("screening:suggest")
        try:
            added = actions.suggest_paper(
                data["identifier"],
                note=data["note"],
                email=data["email"],
                address=client_address(request),
            )
        except actions.SuggestionRefused as refused:
            for field, text in refused.errors.items():
                form.add_error(None if field == "__all__" else field, text)
            status = 429 if refused.throttled else 400
        else:
            if added.outcome == actions.KNOWN:
                messages.info(
                    request, f"RareDerm has this paper already (PMID {added.citation.pmid})."
                )
            elif added.outcome == actions.DUPLICATE:
                messages.info(
                    request, "This paper was suggested or found already: it is in screening."
                )
            else:
                messages.success(request, THANKS)
            return redirect("screening:suggest")
    elif request.method == "POST":
        status = 400
    return render(request, "screening/suggest.html", {"form": form}, status=status)


def references_section(request, citation) -> str:
    """A section of a citation's page (citations.hooks): its linked papers, for screeners.

    "References (n in PubMed, k already in RareDerm)", "Cited by", "Related",
    each with one button that sends the others to screening, and a button that
    fetches the links from PubMed (elink) again. Seven queries.
    """
    if not has_role(request.user, CURATOR):
        return ""
    relations = []
    for relation, label in CitationLink.Relation.choices:
        pmids = actions.linked_pmids(citation, relation)
        relations.append(
            {
                "relation": relation,
                "label": label,
                "total": len(pmids),
                "known": Citation.objects.filter(pmid__in=pmids).count() if pmids else 0,
                "in_screening": (Candidate.objects.filter(pmid__in=pmids).count() if pmids else 0),
            }
        )
    fetched = citation.links.order_by("-fetched_at").values_list("fetched_at", flat=True).first()
    return render_to_string(
        "screening/_references.html",
        {"citation": citation, "relations": relations, "fetched": fetched},
        request=request,
    )


@screener_required
@require_POST
def chase(request, pmid: int):
    citation = get_object_or_404(Citation, pmid=pmid)
    relation = request.POST.get("relation", CitationLink.Relation.REFERENCE)
    try:
        counts = actions.chase_references(citation, by=request.user, relation=relation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(citation.get_absolute_url())
    label = dict(CitationLink.Relation.choices)[relation]
    messages.success(
        request,
        f"{label} of PMID {pmid}: {counts[actions.NEW]} sent to screening, "
        f"{counts[actions.DUPLICATE]} in screening already, "
        f"{counts[actions.KNOWN]} in RareDerm already.",
    )
    return redirect(citation.get_absolute_url())


def _prisma_search(request) -> str | None:
    """The saved search named by ?search= (404 for one that does not exist), or None: overall."""
    name = request.GET.get("search")
    if not name:
        return None
    get_object_or_404(SavedSearch, name=name)
    return name


@screener_required
@require_GET
def prisma(request):
    """PRISMA counts of screening, overall or for one saved search, as a table."""
    from screening.prisma import prisma_counts

    search = _prisma_search(request)
    searches = SavedSearch.objects.order_by("name").values_list("name", flat=True)
    return render(
        request,
        "screening/prisma.html",
        {"counts": prisma_counts(search), "saved_searches": searches, "query": request.GET},
    )


@screener_required
@require_GET
def prisma_svg(request):
    """The same counts as a PRISMA flow diagram (SVG drawn here), downloadable."""
    from screening.prisma import prisma_counts
    from screening.prisma_svg import flow_svg

    search = _prisma_search(request)
    title = f"PRISMA flow: saved search “{search}”" if search else "PRISMA flow of screening"
    response = HttpResponse(flow_svg(prisma_counts(search), title=title), "image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = 'attachment; filename="prisma.svg"'
    return response


# -- the weekly digest: on or off (screening/digest.py) -------------------------------


@screener_required
@require_http_methods(["GET", "POST"])
def digest(request):
    """A curator turns their weekly screening digest on or off."""
    from screening.digest import set_digest

    if request.method == "POST":
        on = request.POST.get("on") == "1"
        set_digest(request.user, on)
        messages.success(
            request,
            "You will get the weekly screening digest."
            if on
            else "You will get no weekly screening digest.",
        )
        return redirect("screening:digest")
    off = DigestOptOut.objects.filter(user=request.user).exists()
    return render(request, "screening/digest.html", {"off": off})


@csrf_exempt  # the signed token is the authority; mail programs post without a form
@require_http_methods(["GET", "POST"])
def digest_stop(request, token: str):
    """The digest's one-click link: GET says what it does, POST (the button, or a mail
    program's List-Unsubscribe-Post) stops the digest."""
    from django.contrib.auth import get_user_model

    from config import oneclick
    from screening.digest import PURPOSE, set_digest

    try:
        data = oneclick.read(PURPOSE, token)
        user = get_user_model().objects.filter(pk=int(data.get("u", 0))).first()
    except (ValidationError, TypeError, ValueError):
        user = None
    if user is None:
        return render(
            request, "screening/digest_stop.html", {"error": oneclick.REFUSED}, status=400
        )
    if request.method == "POST":
        set_digest(user, False)
        return render(request, "screening/digest_stop.html", {"done": True})
    return render(request, "screening/digest_stop.html", {"recipient": user})
