"""A review e-mail whose decision was committed while the broker was down (issue 11, item 9).

Real processes throughout: the decision is made by a separate Python process
whose broker (Redis) is a closed port, as a web process sees a broker that is
down; then a real worker on the live broker, and the sweep sent through the
broker as beat sends it, deliver the e-mail to a real SMTP server. Before the
outbox, the task message was lost with the broker and the e-mail never went.
"""

import socket
import subprocess
import sys
import textwrap
import time

import pytest

from curation import workflow
from curation.actions.cases import transition
from curation.models import Case
from outbox.models import Email
from tests.conftest import ROOT, subprocess_env
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


APPROVE = textwrap.dedent(
    """
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from curation.actions.review import approve_case
    from curation.models import Case

    case = approve_case(Case.objects.get(pk={case}), get_user_model().objects.get(pk={reviewer}))
    print("status:", case.status)
    """
)


def test_an_email_of_a_decision_committed_while_the_broker_was_down_is_delivered_once(
    curator, reviewer, smtp_sink, start_worker, settings, postgres
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # this process
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)

    dead_broker = f"redis://127.0.0.1:{closed_port()}/0"
    started = time.monotonic()
    approving = subprocess.run(
        [sys.executable, "-c", APPROVE.format(case=case.pk, reviewer=reviewer.pk)],
        cwd=ROOT,
        env=subprocess_env(CELERY_BROKER_URL=dead_broker, **smtp_sink.env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert approving.returncode == 0, approving.stderr
    assert "status: published" in approving.stdout, approving.stderr
    # A dead broker does not hold the reviewer up (Python and Django start included).
    assert time.monotonic() - started < 30, approving.stderr
    assert "could not queue" in approving.stderr  # the broker refused: logged, not raised
    assert Case.objects.get(pk=case.pk).status == workflow.PUBLISHED
    assert smtp_sink.messages == []
    waiting = Email.objects.get(kind="case published")
    assert (waiting.state, waiting.queued_at, waiting.to) == ("pending", None, [curator.email])

    # The broker is back: a worker, and the sweep as beat sends it.
    worker = start_worker(**smtp_sink.env)
    from config.celery import queue_task

    queue_task("outbox.sweep")
    delivered = smtp_sink.wait_for(1, timeout=60)
    assert len(delivered) == 1, (worker.output(), list(Email.objects.values()))
    message = delivered[0]
    assert message["To"] == curator.email
    assert f"RareDerm #{case.pk}" in message["Subject"]
    assert "approved and published" in message["Subject"]
    assert f"/cases/{case.pk}/" in message.get_payload()
    waiting.refresh_from_db()
    assert waiting.state == Email.State.SENT and waiting.sent_at is not None
    assert message["Message-ID"] == waiting.message_id

    # Sweeping again sends nothing twice.
    queue_task("outbox.sweep")
    deadline = time.monotonic() + 30
    while worker.output().count("Task outbox.sweep") < 4 and time.monotonic() < deadline:
        time.sleep(0.2)  # received + succeeded, twice
    assert worker.output().count("Task outbox.sweep") >= 4, worker.output()
    assert len(smtp_sink.messages) == 1, worker.output()


def test_publishing_a_papers_first_case_while_the_broker_is_down_still_publishes(
    curator, reviewer, postgres
):
    """The chase of the paper's links is asked for again from its page; the approval stands."""
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    dead_broker = f"redis://127.0.0.1:{closed_port()}/0"
    approving = subprocess.run(
        [sys.executable, "-c", APPROVE.format(case=case.pk, reviewer=reviewer.pk)],
        cwd=ROOT,
        env=subprocess_env(CELERY_BROKER_URL=dead_broker, CHASE_ON_PUBLISH="true"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert approving.returncode == 0, approving.stderr
    assert "status: published" in approving.stdout, approving.stderr
    assert "could not queue citations.chase_citation" in approving.stderr
    assert Case.objects.get(pk=case.pk).status == workflow.PUBLISHED
    assert not case.citation.links.exists()
