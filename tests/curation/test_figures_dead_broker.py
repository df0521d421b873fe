"""A figure committed while the broker is down: stored all the same, its web copies made
once the sweep (curation.sweep_figures, sent by beat) queues it again."""

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from curation.models import Figure
from curation.tasks import sweep_figures
from tests.conftest import ROOT, subprocess_env
from tests.factories import CaseFactory
from tests.figure_files import jpeg, stored_files

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_figure_attached_while_the_broker_is_down_gets_its_copies_from_the_sweep(
    curator, tmp_path, settings, postgres
):
    data_dir = tmp_path / "data"
    settings.STORAGES = {
        **settings.STORAGES,
        "figures": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": data_dir / "figures", "base_url": None},
        },
    }
    case = CaseFactory(created_by=curator)
    picture = tmp_path / "he.jpg"
    picture.write_bytes(jpeg())
    attaching = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "attach_figure",
            str(case.pk),
            str(picture),
            "--caption",
            "H&E",
            "--licence",
            "CC-BY-4.0",
        ],
        cwd=ROOT,
        env=subprocess_env(
            CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0", DATA_DIR=data_dir
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert attaching.returncode == 0, attaching.stderr
    assert "Figure added to" in attaching.stdout
    assert "the figures sweep will" in attaching.stderr  # logged, not a failure
    figure = Figure.objects.get()
    assert not figure.derivatives_ready
    assert len(stored_files(data_dir / "figures")) == 1  # the original only

    assert sweep_figures() == 0  # too recent: its message may still be on its way
    Figure.objects.filter(pk=figure.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    assert sweep_figures() == 1  # tasks run inline here
    figure.refresh_from_db()
    assert figure.derivatives_ready
    assert len(stored_files(data_dir / "figures")) == 4
    assert sweep_figures() == 0  # nothing left to do


def test_the_figures_sweep_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["curation-sweep-figures"]
    assert entry["task"] == sweep_figures.name and entry["schedule"] <= 60
