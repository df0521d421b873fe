"""Issue 11: every page that shows citation, case, comment or user text, as each
role, with markup in every such field: none of it may reach the page as markup.

Every free-text field of a case, its IHC and fusion rows, its comments, its
citation and authors, term proposals, fetch jobs and the users themselves
(user name, first and last name, e-mail), and the names of the vocabulary
terms the cases use (which reviewers edit in the admin) hold a payload that names its field
(`<rdx-leak f=case.histology>`), found by introspecting the models, so a field
added later is covered too. Then every GET page of the permission matrix is
opened as each role, plus the admin's pages of the same rows. A page fails if
the payload's `<` reaches it raw anywhere, or if its quotes made an attribute
(`rdx-x`) on any tag. Pages must show the payloads (escaped), or the test would
prove nothing: the fields seen are checked at the end.
"""

import re
from html.parser import HTMLParser

import pytest
from django.db import models
from django.urls import reverse
from django.utils.text import slugify

from citations.models import Author, Citation, FetchJob, FetchJobItem
from curation.models import (
    Case,
    CaseEvent,
    Figure,
    FusionFinding,
    IHCResult,
    OpenAccessFigure,
    OpenAccessPackage,
    TermProposal,
)
from tests.curation.test_permission_matrix import MATRIX, ROLES, _objects

pytestmark = pytest.mark.django_db

RAW = "<rdx-leak"
ESCAPED_FIELD = re.compile(r"&lt;rdx-leak f=([a-z_]+\.[a-z_]+)")
# Kept as they are: choices, machine-written text, and what no page shows as text.
SKIP = {"raw_xml", "history_change_reason", "task_id", "worker", "role", "state", "status"}
SKIP |= {"sha256", "content_type"}  # a figure's file's digest and stored type
MODELS = [Case, IHCResult, FusionFinding, CaseEvent, Citation, Author, TermProposal]
MODELS += [FetchJob, FetchJobItem, Figure, OpenAccessPackage, OpenAccessFigure]


def payload(tag: str, max_length: int | None) -> str:
    text = f"\" rdx-x=\"1' rdx-x='1><rdx-leak f={tag}></rdx-leak>"
    if max_length and len(text) > max_length:
        text = f"<rdx-leak f={tag}>"
        if len(text) > max_length:
            text = "<rdx-leak>"[:max_length]
    return text


def _fill(obj, label: str) -> None:
    for f in obj._meta.concrete_fields:
        if not isinstance(f, models.CharField | models.TextField) or f.choices or f.name in SKIP:
            continue
        value = payload(f"{label}.{f.name}", f.max_length)
        if f.max_length is None or len(value) + 12 <= f.max_length:
            value += f"#{obj.pk}"  # distinct per row (unique constraints)
        if isinstance(f, models.URLField):
            value = ("https://example.org/?" + value)[: f.max_length]
        if f.name == "doi":  # unique
            value = f"10.5555/{obj.pk}{value}".lower()
        setattr(obj, f.name, value)
    if isinstance(obj, Citation):
        obj.abstract = [
            {"label": payload("abstract.label", None), "text": payload("abstract.text", None)}
        ]
        obj.keywords = [payload("citation.keywords", None)]
        obj.mesh_terms = [{"descriptor": payload("citation.mesh", None), "qualifiers": []}]
        obj.publication_types = [payload("citation.publication_types", None)]
    if isinstance(obj, Author):
        obj.affiliations = [payload("author.affiliations", None)]
    obj.save()


def _hostile_users(*users):
    for user in users:
        role = user.username.split("_", 1)[0]
        user.username = f"{role}{payload('user.username', 120)}"
        user.first_name = payload("user.first_name", 150)
        user.last_name = payload("user.last_name", 150)
        user.save()


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.injected = []

    def handle_starttag(self, tag, attrs):
        if any(name == "rdx-x" for name, _ in attrs):
            self.injected.append(tag)


def _check(html: str, where: str) -> set[str]:
    assert RAW not in html, (
        f"{where}: markup from a field reached the page: "
        + html[max(0, html.index(RAW) - 300) : html.index(RAW) + 100]
    )
    parser = _Attributes()
    parser.feed(html)
    assert not parser.injected, f"{where}: a field's quotes made attributes on {parser.injected}"
    return set(ESCAPED_FIELD.findall(html))


@pytest.fixture
def hostile(client, curator, curator2, reviewer, admin):
    objects = _objects(curator)
    # Comments through the page, as people write them.
    published = Case.objects.get(pk=objects["published"][0])
    submitted = Case.objects.get(pk=objects["submitted"][0])
    client.force_login(reviewer)
    for case in (submitted, published):
        url = reverse("curation:case_comment", args=[case.pk])
        client.post(url, {"comment": payload("comment.text", None)})
    client.logout()
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.COMMENT).count() == 2
    # A job's rows: one failed (its error shown), one that found a citation.
    job = FetchJob.objects.get(pk=objects["job"][0])
    FetchJobItem.objects.create(job=job, position=0, query="x", status="failed", error="x")
    FetchJobItem.objects.create(
        job=job, position=1, query="y", status="new", citation=published.citation
    )
    for model in MODELS:
        label = model._meta.model_name
        label = {"ihcresult": "ihc", "fusionfinding": "fusion", "caseevent": "event"}.get(
            label, label
        )
        for obj in model.objects.all():
            _fill(obj, label)
    _hostile_users(curator, curator2, reviewer, admin)
    # Vocabulary names, which reviewers edit in the admin: those the cases use.
    for case in Case.objects.all():
        for term in (case.final_diagnosis, case.topography):
            if term is not None:
                term.name = payload(f"vocabulary.{term._meta.model_name}", 200)
                term.save()
    for row in IHCResult.objects.select_related("marker"):
        row.marker.name = payload("vocabulary.marker", 100)
        row.marker.save()
    for row in FusionFinding.objects.select_related("three_prime_gene"):
        row.three_prime_gene.name = payload("vocabulary.gene", 300)
        row.three_prime_gene.save()
    # The published case is also "another report of the same patient" of itself.
    published.other_citations.add(Citation.objects.exclude(pk=published.citation_id).first())
    # The entity page of the published case's (now hostile-named) diagnosis, by its slug.
    published.refresh_from_db()
    objects["imt"] = [slugify(published.final_diagnosis.name)]
    return objects


def test_no_field_reaches_any_page_as_markup_for_any_role(
    client, hostile, curator, curator2, reviewer, admin
):
    seen: set[str] = set()
    users = {
        "anonymous": None,
        "author": curator,
        "other_curator": curator2,
        "reviewer": reviewer,
        "admin": admin,
    }
    pages = 0
    for role in ROLES:
        client.logout()
        if users[role] is not None:
            client.force_login(users[role])
        for row in MATRIX:
            if row.method != "get":
                continue
            url = reverse(row.url_name, args=hostile[row.args])
            # "@name" in a row's data is one of the objects, as in the permission matrix.
            data = {
                k: hostile[v[1:]][0] if isinstance(v, str) and v.startswith("@") else v
                for k, v in row.data.items()
            }
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, data, headers=headers)
                where = f"{row.id} as {role}{' (htmx)' if headers else ''}"
                assert response.status_code < 500, where
                expected = row.expect[ROLES.index(role)]
                if not headers:
                    assert response.status_code == expected, (where, response.status_code)
                if "html" not in response.get("Content-Type", ""):
                    continue
                seen |= _check(response.content.decode(), where)
                pages += 1
    assert pages > 200

    # The admin's pages of the same rows, for an admin.
    client.force_login(admin)
    for model, label in [
        (Case, "curation_case"),
        (Citation, "citations_citation"),
        (CaseEvent, "curation_caseevent"),
        (TermProposal, "curation_termproposal"),
        (FetchJob, "citations_fetchjob"),
    ]:
        listing = client.get(reverse(f"admin:{label}_changelist"))
        seen |= _check(listing.content.decode(), f"admin {label} list")
        visible = Case.objects.visible_to(admin)
        for obj in model.objects.all():
            page = client.get(reverse(f"admin:{label}_change", args=[obj.pk]))
            case = obj if isinstance(obj, Case) else getattr(obj, "case", None)
            if case is not None and not visible.filter(pk=case.pk).exists():
                # A curator's private draft: not opened in the admin either.
                assert page.status_code == 302, (label, obj.pk)
                continue
            assert page.status_code == 200, (label, obj.pk)
            seen |= _check(page.content.decode(), f"admin {label} {obj.pk}")
    user_list = client.get(reverse("admin:auth_user_changelist"))
    seen |= _check(user_list.content.decode(), "admin user list")

    # The payloads were on the pages (escaped): these fields at least were tested.
    for field in [
        "case.label",
        "case.site_detail",
        "case.clinical_presentation",
        "case.histology",
        "case.treatment",
        "case.notes",
        "ihc.clone",
        "fusion.as_reported",
        "event.comment",
        "citation.journal",
        "author.last_name",
        "author.fore_name",
        "user.first_name",
        "user.username",
        "termproposal.text",
        "fetchjobitem.query",
        "fetchjobitem.error",
        "vocabulary.diagnosis",
        "vocabulary.topography",
        "vocabulary.marker",
        "figure.caption",
        "figure.credit",
        "openaccesspackage.licence_note",
        "openaccessfigure.caption",
        "openaccessfigure.label",
    ]:
        assert field in seen, f"no page showed {field}: {sorted(seen)}"
