"""curation.make_figure_derivatives: a real Celery worker makes a figure's web copies."""

import io
import time

import pytest
from PIL import Image

from curation.actions.figures import attach_figure
from curation.models import Figure
from curation.tasks import make_figure_derivatives
from tests.factories import CaseFactory
from tests.figure_files import jpeg, stored_files

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_a_worker_makes_the_copies_of_a_figure_once_it_is_committed(
    start_worker, curator, tmp_path, settings
):
    data_dir = tmp_path / "data"
    settings.STORAGES = {
        **settings.STORAGES,
        "figures": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": data_dir / "figures", "base_url": None},
        },
    }
    start_worker(DATA_DIR=data_dir)
    case = CaseFactory(created_by=curator)
    figure = attach_figure(
        case, by=curator, data=jpeg(size=(2000, 1000)), caption="H&E", licence="CC-BY-4.0"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        figure.refresh_from_db()
        if figure.derivatives_ready:
            break
        time.sleep(0.2)
    assert figure.derivatives_ready, "the worker made no copies in 30 s"
    with figure.screen.open("rb") as screen:
        assert Image.open(io.BytesIO(screen.read())).size == (1600, 800)
    assert len(stored_files(data_dir / "figures")) == 4


def test_the_task_is_idempotent_and_skips_a_deleted_figure(db, curator, figure_storage):
    case = CaseFactory(created_by=curator)
    figure = attach_figure(case, by=curator, data=jpeg(), caption="H&E", licence="CC0-1.0")
    assert len(make_figure_derivatives(figure.pk)) == 3
    assert make_figure_derivatives(figure.pk) == []  # nothing made twice
    assert len(stored_files(figure_storage)) == 4
    Figure.objects.filter(pk=figure.pk).delete()
    assert make_figure_derivatives(figure.pk) == []
