"""FIGURE_STORAGE=s3: figures in an S3-compatible bucket, through django-storages.

A real S3-compatible HTTP server on 127.0.0.1 (moto's server), reached by boto3
as any bucket is: the files land as objects, are served through RareDerm's view
with the same headers, and a refused file leaves nothing in the bucket.
"""

import uuid

import boto3
import pytest
from django.urls import reverse
from moto.server import ThreadedMotoServer

from curation.actions.figures import FigureRefused, attach_figure
from curation.models import Case, Figure
from tests.conftest import run_python
from tests.factories import CaseFactory
from tests.figure_files import SVG_WITH_SCRIPT, jpeg

pytestmark = pytest.mark.django_db

CREDENTIALS = {"aws_access_key_id": "rarederm", "aws_secret_access_key": "test-secret"}


@pytest.fixture
def bucket(settings):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    # moto keeps its buckets per process: a bucket of the test's own.
    name = f"rarederm-figures-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "figures": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": "private",
                "file_overwrite": False,
            },
        },
    }
    try:
        yield lambda: sorted(
            o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])
        )
    finally:
        server.stop()


def test_a_figure_and_its_copies_are_objects_in_the_bucket_served_by_rarederm(
    client, curator, bucket, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    with django_capture_on_commit_callbacks(execute=True):
        figure = attach_figure(case, by=curator, data=jpeg(), caption="H&E", licence="CC0-1.0")
    keys = bucket()
    assert [key.rsplit("/", 1)[1] for key in keys] == sorted(
        ["original.jpg", "thumbnail.jpg", "screen.jpg", "webp.webp"]
    )
    assert all(key.startswith(figure.sha256[:2] + "/" + figure.sha256) for key in keys)
    Case.objects.filter(pk=case.pk).update(status="published", published_at=case.created_at)
    response = client.get(reverse("curation:figure_file", args=[figure.pk, "webp"]))
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_a_refused_file_leaves_nothing_in_the_bucket(curator, bucket):
    with pytest.raises(FigureRefused):
        attach_figure(
            CaseFactory(created_by=curator),
            by=curator,
            data=SVG_WITH_SCRIPT,
            caption="c",
            licence="CC0-1.0",
        )
    assert bucket() == [] and not Figure.objects.exists()


def test_s3_without_a_bucket_is_refused_at_start():
    result = run_python(["manage.py", "check"], FIGURE_STORAGE="s3")
    assert result.returncode != 0
    assert "FIGURE_STORAGE=s3 needs FIGURE_S3_BUCKET" in result.stderr
    ok = run_python(["manage.py", "check"], FIGURE_STORAGE="s3", FIGURE_S3_BUCKET="figs")
    assert ok.returncode == 0, ok.stderr
