"""Readers' subscriptions (issue 17 §4): subscribe from a diagnosis's page, a gene's page or a
search; a daily or weekly digest of the new and revised published cases the search finds,
through the outbox, once; one-click unsubscribe links that only RareDerm can make."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from curation import workflow
from curation.models import CaseEvent, Diagnosis, Subscription
from curation.subscriptions import queue_subscription_digests, subscribe
from curation.tasks import send_subscription_digests
from outbox.models import Email
from tests.factories import diagnosis, make_published_case

pytestmark = pytest.mark.django_db

IMT = "inflammatory myofibroblastic tumor"


def published(dx_name: str, *, days_ago: float, version: int = 1, **kwargs):
    """A published case whose publication (or revision's) event is `days_ago` old."""
    case = make_published_case(final_diagnosis=diagnosis(dx_name), version=version, **kwargs)
    CaseEvent.objects.create(
        case=case,
        from_status=workflow.SUBMITTED,
        to_status=workflow.PUBLISHED,
        created_at=timezone.now() - timedelta(days=days_ago),
    )
    return case


def aged(subscription: Subscription, days: float) -> Subscription:
    Subscription.objects.filter(pk=subscription.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )
    subscription.refresh_from_db()
    return subscription


def test_a_reader_subscribes_from_the_entity_page(client, reader):
    page = client.get(reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"]))
    assert 'data-testid="subscribe"' not in page.content.decode()
    assert "to get new cases of this by e-mail" in page.content.decode()
    client.force_login(reader)
    page = client.get(reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"]))
    form = page.content.decode().split('data-testid="subscribe"', 1)[1].split("</form>", 1)[0]
    query = re.search(r'name="query" value="([^"]+)"', form).group(1).replace("&amp;", "&")
    imt = Diagnosis.objects.get(name=IMT)
    assert f"dx={imt.pk}" in query
    done = client.post(
        reverse("curation:subscribe"),
        {"kind": "diagnosis", "query": query, "label": IMT, "frequency": "daily"},
        follow=True,
    ).content.decode()
    assert f"Subscribed to “{IMT}”: a daily e-mail to {reader.email}" in done
    (made,) = Subscription.objects.filter(user=reader)
    assert (made.kind, made.frequency, made.query) == ("diagnosis", "daily", query)
    listing = client.get(reverse("curation:subscriptions")).content.decode()
    assert IMT in listing


def test_a_search_that_cannot_be_read_is_not_subscribed(client, reader):
    client.force_login(reader)
    done = client.post(
        reverse("curation:subscribe"),
        {"kind": "search", "query": "site=Q99", "label": "x", "frequency": "weekly"},
        follow=True,
    ).content.decode()
    assert "Not subscribed:" in done
    assert not Subscription.objects.exists()


def test_the_digest_lists_new_and_revised_matching_cases_since_the_last_one(reader):
    subscription = aged(
        subscribe(reader, "diagnosis", f"dx={diagnosis(IMT).pk}", IMT, "weekly"), 8
    )
    new = published(IMT, days_ago=3)
    revised = published(IMT, days_ago=1, version=2)
    published(IMT, days_ago=10)  # before the subscription: not listed
    published("dermatofibrosarcoma protuberans", days_ago=2)  # another diagnosis

    assert send_subscription_digests.apply().get() == 1
    (email,) = Email.objects.filter(kind="subscription digest")
    assert email.to == [reader.email]
    assert email.subject == "[RareDerm] 2 new or revised cases for your subscriptions"
    assert f"/cases/{new.pk}/" in email.body and "(new)" in email.body
    assert f"/cases/{revised.pk}/" in email.body and "(revised, version 2)" in email.body
    assert email.body.count("/cases/") == 2
    headers = email.headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/subscriptions/unsubscribe/" in headers["List-Unsubscribe"]
    subscription.refresh_from_db()
    assert subscription.last_sent_at is not None

    # Run again the same day: nothing is due, nothing written twice.
    assert queue_subscription_digests() == 0
    # A week on, only what came since.
    later = published(IMT, days_ago=0)
    assert queue_subscription_digests(now=timezone.now() + timedelta(days=7)) == 1
    latest = Email.objects.filter(kind="subscription digest").order_by("-pk").first()
    assert f"/cases/{later.pk}/" in latest.body and f"/cases/{new.pk}/" not in latest.body


def test_a_weekly_subscription_waits_a_week_and_nothing_new_sends_nothing(reader):
    subscription = aged(subscribe(reader, "gene", "q=ALK", "gene ALK", "weekly"), 2)
    published(IMT, days_ago=1, ihc=[("ALK", "positive")])
    assert queue_subscription_digests() == 0  # two days old: not due yet
    aged(subscription, 8)
    Subscription.objects.filter(pk=subscription.pk).update(last_sent_at=None)
    CaseEvent.objects.update(created_at=timezone.now() - timedelta(days=9))  # all older
    assert queue_subscription_digests() == 0
    subscription.refresh_from_db()
    assert subscription.last_sent_at is not None  # the window moved on


def test_unsubscribe_links_ask_then_remove_and_forged_ones_are_refused(reader):
    keep = subscribe(reader, "gene", "q=ALK", "gene ALK", "daily")
    aged(subscribe(reader, "diagnosis", f"dx={diagnosis(IMT).pk}", IMT, "daily"), 2)
    published(IMT, days_ago=0.5)
    queue_subscription_digests()
    body = Email.objects.get(kind="subscription digest").body
    one = re.search(r"Stop this subscription \(one click\): (\S+)", body).group(1)
    client = Client(enforce_csrf_checks=True)  # as a mail program or a browser from e-mail
    page = client.get(urlsplit(one).path)
    assert page.status_code == 200 and IMT in page.content.decode()
    assert Subscription.objects.filter(user=reader).count() == 2  # looking removes nothing
    done = client.post(urlsplit(one).path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and 'data-testid="unsubscribed"' in done.content.decode()
    assert list(Subscription.objects.filter(user=reader)) == [keep]

    forged = urlsplit(one).path.replace("/unsubscribe/", "/unsubscribe/x")
    refused = client.post(forged)
    assert refused.status_code == 400
    assert "not one RareDerm sent" in refused.content.decode()
    assert Subscription.objects.filter(user=reader).count() == 1

    every = re.search(r"Stop them all \(one click\): (\S+)", body).group(1)
    assert client.post(urlsplit(every).path).status_code == 200
    assert not Subscription.objects.filter(user=reader).exists()


def test_a_reader_removes_only_their_own_subscription(client, reader, curator):
    theirs = subscribe(curator, "gene", "q=ALK", "gene ALK", "daily")
    client.force_login(reader)
    url = reverse("curation:subscription_delete", args=[theirs.pk])
    assert client.post(url).status_code == 404
    assert Subscription.objects.filter(pk=theirs.pk).exists()
