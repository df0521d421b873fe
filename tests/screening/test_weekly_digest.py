"""The weekly screening digest (screening.digest, task screening.send_weekly_digest, beat):
each curator gets one e-mail in the outbox with the week's new candidates and the papers
included for them; nothing new, no e-mail; a second run in the same week writes nothing."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from outbox.models import Email
from screening.actions import add_candidate, decide_candidate
from screening.digest import queue_weekly_digest
from screening.models import Candidate
from screening.tasks import send_weekly_digest

pytestmark = pytest.mark.django_db


def test_each_curator_gets_the_weeks_new_candidates_once(curator, curator2, reviewer, reader):
    add_candidate(kind="search", pmid=1, label="cutaneous IMT")
    add_candidate(kind="search", pmid=2, label="cutaneous IMT")
    add_candidate(kind="search", pmid=1, label="IMT, other wording")  # a duplicate: not counted
    old = add_candidate(kind="suggestion", pmid=3).candidate
    Candidate.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    included = add_candidate(kind="search", pmid=4, label="cutaneous IMT").candidate
    decide_candidate(included, "include", by=reviewer, assign_to=curator2)

    assert send_weekly_digest.apply().get() == 3  # two curators and a reviewer, not the reader
    emails = {e.to[0]: e for e in Email.objects.filter(kind="screening-digest")}
    assert set(emails) == {
        "carla_curator@example.org",
        "colin_curator@example.org",
        "rosa_reviewer@example.org",
    }
    carla = emails["carla_curator@example.org"]
    assert carla.subject == "[RareDerm] Screening this week: 2 new, 0 for you"
    assert "Saved search: cutaneous IMT: 2" in carla.body
    assert "other wording" not in carla.body
    assert "/screening/" in carla.body
    colin = emails["colin_curator@example.org"]
    assert colin.subject == "[RareDerm] Screening this week: 2 new, 1 for you"
    assert "(PMID 4)" in colin.body

    assert queue_weekly_digest() == 0  # the same week: each digest is in the outbox already
    assert Email.objects.filter(kind="screening-digest").count() == 3


def test_nothing_new_sends_nothing(curator):
    old = add_candidate(kind="suggestion", pmid=3).candidate
    Candidate.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert queue_weekly_digest() == 0
    assert not Email.objects.filter(kind="screening-digest").exists()


def test_beat_sends_it_weekly():
    entry = settings.CELERY_BEAT_SCHEDULE["screening-weekly-digest"]
    assert entry["task"] == "screening.send_weekly_digest"
    assert entry["schedule"].day_of_week == {1}


def test_a_search_that_names_curators_puts_its_papers_in_their_digests_only(
    curator, curator2, reviewer
):
    from citations.models import SavedSearch
    from screening.actions import set_search_curators

    named = SavedSearch.objects.create(name="cutaneous IMT", query="imt[tiab]")
    SavedSearch.objects.create(name="DFSP", query="dfsp[tiab]")
    set_search_curators(named, [curator2], by=reviewer)
    add_candidate(kind="search", pmid=1, label="cutaneous IMT")
    add_candidate(kind="search", pmid=2, label="cutaneous IMT")
    add_candidate(kind="search", pmid=3, label="DFSP")  # names nobody: everyone's
    add_candidate(kind="suggestion", pmid=4)
    add_candidate(kind="search", pmid=4, label="cutaneous IMT")  # found again: named too
    assert queue_weekly_digest() == 3
    bodies = {e.to[0]: (e.subject, e.body) for e in Email.objects.filter(kind="screening-digest")}
    assert bodies[curator2.email][0].startswith("[RareDerm] Screening this week: 4 new")
    assert "Saved search: cutaneous IMT: 2" in bodies[curator2.email][1]
    for other in (curator, reviewer):
        subject, body = bodies[other.email]
        assert subject.startswith("[RareDerm] Screening this week: 1 new")
        assert "Saved search: DFSP: 1" in body and "cutaneous IMT" not in body


def test_a_curator_stops_the_digest_in_one_click_and_turns_it_on_again(client, curator):
    import re
    from urllib.parse import urlsplit

    from django.test import Client
    from django.urls import reverse

    add_candidate(kind="search", pmid=1, label="cutaneous IMT")
    assert queue_weekly_digest() == 1
    (email,) = Email.objects.filter(kind="screening-digest")
    stop = re.search(r"Stop it \(one click\): (\S+)", email.body).group(1)
    assert email.headers["List-Unsubscribe"] == f"<{stop}>"
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    mail_program = Client(enforce_csrf_checks=True)
    path = urlsplit(stop).path
    assert "Stop the weekly screening digest to" in mail_program.get(path).content.decode()
    Email.objects.all().delete()
    assert queue_weekly_digest() == 1  # looking at the link stopped nothing
    Email.objects.all().delete()
    done = mail_program.post(path, {"List-Unsubscribe": "One-Click"})
    assert 'data-testid="stopped"' in done.content.decode()
    assert queue_weekly_digest() == 0
    forged = mail_program.post(path.replace("/stop/", "/stop/x"))
    assert forged.status_code == 400 and "not one RareDerm sent" in forged.content.decode()

    client.force_login(curator)
    page = client.get(reverse("screening:digest")).content.decode()
    assert "You get <strong>no</strong> weekly digest." in page
    client.post(reverse("screening:digest"), {"on": "1"})
    assert queue_weekly_digest() == 1
