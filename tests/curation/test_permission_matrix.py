"""Who may open what: every URL of curation, citations, screening and accounts by anonymous,
author, another curator, reviewer, admin.

One table, one test. Every URL of curation.urls, citations.urls and
accounts.urls must have at least one row (test_every_url_is_in_the_matrix
fails otherwise), so a new page cannot ship without saying who may see it.
Others' drafts are 404, not 403: their existence is private.

Columns: anonymous, the curator who wrote the case ("author"), another
curator, a reviewer, an admin. 302 for anonymous is the login page (checked).
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, reverse

from accounts import urls as accounts_urls
from citations import urls as citations_urls
from citations.models import FetchJob, SavedSearch
from curation import urls as curation_urls
from curation import workflow
from curation.actions.cases import transition
from curation.models import Subscription, TermProposal
from screening import urls as screening_urls
from screening.actions import add_candidate
from tests.factories import CaseFactory, make_published_case

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "author", "other_curator", "reviewer", "admin")
# Each app's URLs and the namespace they are reversed in (accounts' have none:
# Django's auth views know them as "login", "logout"...).
URLCONFS = {
    "curation": (curation_urls, "curation:"),
    "citations": (citations_urls, "citations:"),
    "screening": (screening_urls, "screening:"),
    "accounts": (accounts_urls, ""),
}


@dataclass(frozen=True)
class Row:
    name: str  # URL name in the app's urls.py
    args: str = ""  # which fixture object the URL points to (see _objects)
    method: str = "get"
    data: dict = field(default_factory=dict)
    # anonymous, author, other curator, reviewer, admin
    expect: tuple = (200, 200, 200, 200, 200)
    note: str = ""
    app: str = "curation"  # whose urls.py (URLCONFS)
    # An anonymous 302 goes to the login page (checked), unless this is False.
    anonymous_to_login: bool = True

    @property
    def url_name(self) -> str:
        return URLCONFS[self.app][1] + self.name

    @property
    def id(self) -> str:
        app = "" if self.app == "curation" else f"{self.app}:"
        return (
            f"{self.method.upper()} {app}{self.name}{'(' + self.args + ')' if self.args else ''}"
        )


LOGIN = 302  # anonymous: to the login page
EVERYONE = (200, 200, 200, 200, 200)
CURATORS = (LOGIN, 200, 200, 200, 200)
LOGGED_IN = (LOGIN, 200, 200, 200, 200)
REVIEWERS = (LOGIN, 403, 403, 200, 200)
CURATORS_POST = (LOGIN, 302, 302, 302, 302)
ADMINS = (LOGIN, 403, 403, 403, 200)

MATRIX = [
    # -- screening (screening/views.py) ---------------------------------------------
    Row("inbox", expect=CURATORS, app="screening"),
    Row(
        "decide",
        "candidate",
        "post",
        {"decision": "maybe"},
        expect=(LOGIN, 302, 302, 302, 302),
        app="screening",
    ),
    Row("decide", "candidate", expect=(LOGIN, 405, 405, 405, 405), app="screening"),
    Row("suggest", app="screening"),
    Row("prisma", expect=CURATORS, app="screening"),
    Row("prisma_svg", expect=CURATORS, app="screening"),
    Row("conflicts", expect=REVIEWERS, app="screening"),
    Row("digest", expect=CURATORS, app="screening"),
    Row("digest", method="post", data={"on": "0"}, expect=CURATORS_POST, app="screening"),
    Row(
        "digest_stop",
        "bad_token",
        expect=(400, 400, 400, 400, 400),
        app="screening",
        anonymous_to_login=False,
        note="the signed token is the authority",
    ),
    Row("dual_searches", expect=REVIEWERS, app="screening"),
    Row(
        "dual_set",
        "saved_search",
        "post",
        {"dual": "1"},
        expect=(LOGIN, 403, 403, 302, 302),
        app="screening",
    ),
    Row("dual_set", "saved_search", expect=(LOGIN, 405, 405, 405, 405), app="screening"),
    Row(
        "search_curators",
        "saved_search",
        "post",
        {},
        expect=(LOGIN, 403, 403, 302, 302),
        app="screening",
    ),
    Row("search_curators", "saved_search", expect=(LOGIN, 405, 405, 405, 405), app="screening"),
    Row("chase", "pmid", "post", expect=(LOGIN, 302, 302, 302, 302), app="screening"),
    Row(
        "suggest",
        method="post",
        data={"identifier": "10.1111/cup.14261"},
        expect=(302, 302, 302, 302, 302),
        app="screening",
        anonymous_to_login=False,
        note="public: anyone suggests a paper",
    ),
    # -- readers' subscriptions (curation/views/subscriptions.py) ---------------------
    Row("subscriptions", expect=LOGGED_IN),
    Row(
        "subscribe",
        method="post",
        data={"kind": "gene", "query": "q=ALK", "label": "gene ALK", "frequency": "weekly"},
        expect=(302, 302, 302, 302, 302),
        note="anonymous: to the login page with a message",
    ),
    Row("subscribe", expect=(405, 405, 405, 405, 405), anonymous_to_login=False),
    Row("subscription_delete", "subscription", "post", expect=(LOGIN, 302, 404, 404, 404)),
    Row(
        "unsubscribe",
        "bad_token",
        expect=(400, 400, 400, 400, 400),
        anonymous_to_login=False,
        note="the signed token is the authority",
    ),
    # -- readers register themselves (accounts/registration.py) ---------------------
    Row("register", app="accounts", expect=(200, 200, 200, 200, 200)),
    Row("confirm_email", "bad_token", app="accounts", expect=(400, 400, 400, 400, 400)),
    # -- public pages --------------------------------------------------------------
    Row("home"),
    Row("search", data={"q": "ALK"}),
    Row("export", "csv", data={"q": "ALK"}),
    Row("search_summary", data={"q": "ALK"}),
    Row("search_summary_download", "csv", data={"q": "ALK"}),
    Row("gene", "ALK"),
    Row("stats"),
    Row("release_list"),
    Row("case_flag", "published"),
    Row("case_flag", "draft", expect=(404, 404, 404, 404, 404)),
    Row(
        "case_flag",
        "published",
        "post",
        {"message": "Age is 48."},
        expect=(302,) * 5,
        anonymous_to_login=False,
        note="anyone may flag: back to the case page",
    ),
    Row("flag_queue", expect=CURATORS),
    Row(
        "flag_resolve",
        "missing_flag",
        "post",
        {"action": "revise"},
        expect=(LOGIN, 404, 404, 404, 404),
    ),
    Row(
        "release_file",
        "no_release",
        expect=(404, 404, 404, 404, 404),
        note="public when the release exists (tests/curation/test_releases_page.py)",
    ),
    Row("diagnoses"),
    Row("diagnosis", "imt"),
    Row("stains"),
    Row(
        "stains",
        data={"dx": "@imt"},
        note="one diagnosis (from its entity page) asks for the others",
    ),
    Row(
        "stains",
        data={"dx": "no-such-tumour"},
        expect=(400, 400, 400, 400, 400),
        note="an unknown diagnosis is refused with the reason",
    ),
    Row("case_detail", "published"),
    Row("case_detail", "submitted", expect=(404, 200, 404, 200, 200)),
    Row("case_detail", "draft", expect=(404, 200, 404, 404, 404)),
    # -- review: timeline comments and revisions --------------------------------------
    Row(
        "case_comment",
        "submitted",
        "post",
        {"comment": "A remark."},
        expect=(LOGIN, 302, 404, 302, 302),
    ),
    Row(
        "case_comment",
        "published",
        "post",
        {"comment": "A remark."},
        expect=(LOGIN, 302, 403, 302, 302),
        note="another curator sees a published case but is not on its team",
    ),
    Row("case_comment", "draft", "post", {"comment": "x"}, expect=(LOGIN, 302, 404, 404, 404)),
    Row("case_comment", "submitted", expect=(LOGIN, 405, 405, 405, 405)),
    Row("case_revise", "published", "post", expect=(LOGIN, 302, 302, 302, 302)),
    Row("case_revise", "draft", "post", expect=(LOGIN, 404, 404, 404, 404)),
    # -- review: queue, review page, activity log ------------------------------------
    Row("review_queue", expect=REVIEWERS),
    Row("review_case", "submitted", expect=REVIEWERS),
    Row("review_case", "draft", expect=(LOGIN, 403, 403, 404, 404)),
    Row(
        "review_case",
        "submitted",
        "post",
        {"decision": "approve", "version": "2"},
        expect=(LOGIN, 403, 403, 302, 302),
    ),
    Row("term_queue", expect=REVIEWERS),
    Row(
        "term_decide",
        "proposal",
        "post",
        {"decision": "map", "term": "dermatofibroma"},
        expect=(LOGIN, 403, 403, 302, 302),
    ),
    Row("term_decide", "proposal", expect=(LOGIN, 405, 405, 405, 405)),
    Row("activity", expect=ADMINS),
    Row("activity_csv", expect=ADMINS),
    # -- the curator workflow (curation/views/curate.py, bulk_import.py) --------------
    Row("new_report", expect=CURATORS),
    Row("report_fetch", "job", expect=(LOGIN, 200, 404, 200, 200)),
    Row("report_fetch_retry", "job", "post", expect=(LOGIN, 302, 404, 302, 302)),
    Row("report", "pmid", expect=CURATORS),
    Row("case_new", "pmid", "post", expect=(LOGIN, 302, 302, 302, 302)),
    Row("case_edit", "draft", expect=(LOGIN, 200, 404, 404, 404)),
    Row("case_autosave", "draft", "post", expect=(LOGIN, 400, 404, 404, 404)),
    Row(
        "case_link_report",
        "draft",
        "post",
        {"other_case": "@published"},
        expect=(LOGIN, 302, 404, 404, 404),
    ),
    Row("case_discard", "draft", "post", expect=(LOGIN, 302, 404, 404, 404)),
    Row(
        "report_same_patient",
        "pmid",
        "post",
        {"case": "@published"},
        expect=(LOGIN, 302, 302, 302, 302),
    ),
    Row("my_drafts", expect=CURATORS),
    Row("to_curate", expect=CURATORS),
    Row("autocomplete", "diagnosis", data={"q": "myofib"}, expect=CURATORS),
    Row("autocomplete", "clone", data={"q": "D5"}, expect=CURATORS),
    Row(
        "fusion_resolve",
        data={"prefix": "fusion-0", "fusion-0-written": "CARS-ALK"},
        expect=CURATORS,
    ),
    Row("bulk_import", expect=CURATORS),
    Row("bulk_job", "job", expect=(LOGIN, 200, 404, 200, 200)),
    Row("bulk_retry", "job", "post", expect=(LOGIN, 302, 404, 302, 302)),
    # -- figures (curation/views/figures.py) ----------------------------------------------
    Row("figure_file", "public_figure"),
    Row(
        "figure_file",
        "unlicensed_figure",
        expect=(404, 200, 200, 200, 200),
        anonymous_to_login=False,
        note="a figure without a licence that allows showing it: curators and reviewers only",
    ),
    Row("figure_file", "draft_figure", expect=(404, 200, 404, 404, 404), anonymous_to_login=False),
    Row("figure_zoom", "public_figure_id"),
    Row("figure_dzi", "public_figure_id"),
    Row(
        "figure_dzi", "draft_figure_id", expect=(404, 200, 404, 404, 404), anonymous_to_login=False
    ),
    Row("figure_tile", "public_figure_tile"),
    Row(
        "figure_tile",
        "unlicensed_figure_tile",
        expect=(404, 200, 200, 200, 200),
        anonymous_to_login=False,
    ),
    Row("case_figures", "draft", expect=(LOGIN, 200, 404, 404, 404)),
    Row("case_figures", "published", expect=(LOGIN, 200, 200, 200, 200), note="via a revision"),
    Row("case_figures", "submitted", expect=(LOGIN, 403, 404, 403, 403)),
    Row("figure_edit", "draft_figure_id", expect=(LOGIN, 200, 404, 404, 404)),
    Row("open_access_fetch", "draft", "post", expect=(LOGIN, 302, 404, 404, 404)),
    Row("open_access_fetch", "draft", expect=(LOGIN, 405, 405, 405, 405)),
    Row("open_access_attach", "draft_offer", "post", expect=(LOGIN, 302, 404, 404, 404)),
    Row("figure_remove", "draft_figure_id", "post", expect=(LOGIN, 302, 404, 404, 404)),
    Row("figure_remove", "draft_figure_id", expect=(LOGIN, 405, 405, 405, 405)),
    # -- citations (citations/urls.py) --------------------------------------------------
    Row("list", app="citations", data={"q": "tumour"}),
    Row("export", app="citations", data={"format": "ris"}),
    Row("detail", "pmid", app="citations"),
    Row("job", "job", app="citations", expect=(LOGIN, 200, 404, 200, 200)),
    Row("job_retry", "job", "post", app="citations", expect=(LOGIN, 302, 404, 302, 302)),
    Row("job_retry", "job", app="citations", expect=(LOGIN, 405, 405, 405, 405)),
    Row("chase_links", "pmid", "post", app="citations", expect=(LOGIN, 302, 302, 302, 302)),
    Row("chase_links", "pmid", app="citations", expect=(LOGIN, 405, 405, 405, 405)),
    Row("watch", app="citations", expect=CURATORS),
    Row("watch", app="citations", data={"kind": "retraction"}, expect=CURATORS),
    Row("watch_start", method="post", app="citations", expect=(LOGIN, 403, 403, 302, 302)),
    Row("watch_start", app="citations", expect=(LOGIN, 405, 405, 405, 405)),
    Row("saved_searches", app="citations", expect=REVIEWERS),
    Row(
        "saved_searches",
        method="post",
        data={"name": ""},
        app="citations",
        expect=(LOGIN, 403, 403, 400, 400),
        note="an empty name is refused before PubMed is asked",
    ),
    Row("saved_search_edit", "saved_search", app="citations", expect=REVIEWERS),
    Row(
        "saved_search_enabled",
        "saved_search",
        "post",
        {"enabled": "0"},
        app="citations",
        expect=(LOGIN, 403, 403, 302, 302),
    ),
    Row(
        "saved_search_enabled",
        "saved_search",
        app="citations",
        expect=(LOGIN, 405, 405, 405, 405),
    ),
    # -- accounts (accounts/urls.py) ----------------------------------------------------
    Row("login", app="accounts"),
    Row("logout", app="accounts", expect=(405, 405, 405, 405, 405)),
    Row(
        "logout",
        method="post",
        app="accounts",
        expect=(302, 302, 302, 302, 302),
        anonymous_to_login=False,
        note="to the home page",
    ),
    Row("password_change", app="accounts", expect=LOGGED_IN),
    Row("password_change_done", app="accounts", expect=LOGGED_IN),
    Row("public_name_settings", app="accounts", expect=LOGGED_IN),
    Row("api_tokens", app="accounts", expect=CURATORS, note="a reader (no role): 403"),
]


def _figure(case, author, licence):
    """A figure with a thumbnail and a deep zoom in the (test's own) figures storage."""
    from django.core.files.base import ContentFile

    from curation.models import Figure
    from curation.models.figure import figure_storage

    storage = figure_storage()
    name = storage.save(f"{licence}/thumbnail.jpg", ContentFile(b"\xff\xd8 a jpeg"))
    dzi = storage.save(f"{licence}/zoom.dzi", ContentFile(b"<Image/>"))
    storage.save(f"{licence}/zoom_files/0/0_0.jpg", ContentFile(b"\xff\xd8 a tile"))
    return Figure.objects.create(
        case=case,
        caption="c",
        licence=licence,
        original=name,
        thumbnail=name,
        deep_zoom=dzi,
        content_type="image/jpeg",
        width=1,
        height=1,
        sha256=licence,
        created_by=author,
    )


def _offer(case, author):
    """A figure of the case's paper's open-access package (its file not a picture)."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from curation.models import OpenAccessFigure, OpenAccessPackage
    from curation.models.figure import figure_storage

    package = OpenAccessPackage.objects.create(
        citation=case.citation, state="done", requested_by=author, requested_at=timezone.now()
    )
    name = figure_storage().save("open-access/f.png", ContentFile(b"not a picture"))
    return OpenAccessFigure.objects.create(
        package=package, fig_id="F1", label="Figure 1", file=name
    )


def _objects(author):
    draft = CaseFactory(created_by=author)
    submitted = CaseFactory(created_by=author)
    transition(submitted, workflow.SUBMITTED, author)
    published = make_published_case(created_by=author)
    job = FetchJob.objects.create(requested_by=author, state=FetchJob.State.DONE)
    # On a case of its own: a pending term holds back the approval of its case.
    proposing = CaseFactory(created_by=author)
    proposal = TermProposal.objects.create(
        case=proposing, proposed_by=author, kind="diagnosis", field="final_diagnosis", text="x"
    )
    figures = {
        name: _figure(case, author, licence)
        for name, case, licence in (
            ("public_figure", published, "CC0-1.0"),
            ("unlicensed_figure", published, "NOASSERTION"),
            ("draft_figure", draft, "CC-BY-4.0"),
        )
    }
    return {
        **{name: [figure.pk, "thumbnail"] for name, figure in figures.items()},
        "draft_figure_id": [figures["draft_figure"].pk],
        "public_figure_id": [figures["public_figure"].pk],
        "draft_offer": [draft.pk, _offer(draft, author).pk],
        "public_figure_tile": [figures["public_figure"].pk, 0, 0, 0],
        "unlicensed_figure_tile": [figures["unlicensed_figure"].pk, 0, 0, 0],
        "draft": [draft.pk],
        "submitted": [submitted.pk],
        "published": [published.pk],
        "job": [job.pk],
        "pmid": [draft.citation.pmid],
        "csv": ["csv"],
        "no_release": ["1999-01", "cases.csv"],
        "missing_flag": [999999],
        "bad_token": ["not-a-token"],
        "subscription": [
            Subscription.objects.create(user=author, kind="gene", label="ALK", query="q=ALK").pk
        ],
        "ALK": ["ALK"],
        "imt": ["inflammatory-myofibroblastic-tumor"],
        "diagnosis": ["diagnosis"],
        "clone": ["clone"],
        "proposal": [proposal.pk],
        "saved_search": [
            SavedSearch.objects.create(name="Cutaneous IMT", query="imt[tiab]", enabled=False).pk
        ],
        "candidate": [add_candidate(kind="manual", pmid=35560368).candidate.pk],
        "": [],
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=[r.id for r in MATRIX])
def test_each_url_answers_each_role_as_the_matrix_says(
    client, row, role, curator, curator2, reviewer, admin, figure_storage
):
    objects = _objects(curator)
    user = {
        "anonymous": None,
        "author": curator,
        "other_curator": curator2,
        "reviewer": reviewer,
        "admin": admin,
    }[role]
    if user is not None:
        client.force_login(user)
    url = reverse(row.url_name, args=objects[row.args])
    # "@published" in the data: that object's id.
    data = {k: objects[v[1:]][0] if v.startswith("@") else v for k, v in row.data.items()}
    response = getattr(client, row.method)(url, data)
    expected = row.expect[ROLES.index(role)]
    assert response.status_code == expected, (
        f"{row.id} as {role}: {response.status_code}, expected {expected}"
    )
    if role == "anonymous" and expected == LOGIN and row.anonymous_to_login:
        assert response.url.startswith(reverse("login")), response.url


@pytest.mark.parametrize("app", URLCONFS)
def test_every_url_is_in_the_matrix(app):
    urls = URLCONFS[app][0]
    names = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern)}
    assert names, f"{app} has no named URL: is URLCONFS right?"
    missing = names - {row.name for row in MATRIX if row.app == app}
    assert not missing, f"add rows to MATRIX for {app}: {sorted(missing)}"
