"""RELEASE_STORAGE=s3: releases in an S3-compatible bucket, through django-storages.

A real S3-compatible HTTP server on 127.0.0.1 (moto's server), reached by boto3
as any bucket is: a release's files land as private objects whose bytes match
SHA256SUMS, are downloaded through /releases/, and a taken name is refused
without touching them.
"""

import hashlib
import io
import uuid

import boto3
import pytest
from django.core.management import CommandError, call_command
from moto.server import ThreadedMotoServer

from curation.models import Release
from tests.conftest import run_python
from tests.curation.searchdata import build_registry

CREDENTIALS = {"aws_access_key_id": "rarederm", "aws_secret_access_key": "test-secret"}


@pytest.fixture
def bucket(settings):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    name = f"rarederm-releases-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
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

    def read(key):
        return client.get_object(Bucket=name, Key=key)["Body"].read()

    def keys():
        return sorted(o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", []))

    try:
        yield read, keys
    finally:
        server.stop()


def test_a_release_is_objects_in_the_bucket_that_its_checksums_verify(client, db, bucket):
    read, keys = bucket
    build_registry()
    call_command("make_release", "--name", "2026-12", stdout=io.StringIO())
    release = Release.objects.get()
    assert keys() == sorted(f"2026-12/{item['name']}" for item in release.files)
    sums = read("2026-12/SHA256SUMS").decode()
    assert len(sums.splitlines()) == len(release.files) - 1
    for line in sums.splitlines():
        digest, file = line.split("  ")
        assert hashlib.sha256(read(f"2026-12/{file}")).hexdigest() == digest, file

    response = client.get("/releases/2026-12/cases.csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == read("2026-12/cases.csv")

    before = read("2026-12/SHA256SUMS")
    with pytest.raises(CommandError, match="exists already"):
        call_command("make_release", "--name", "2026-12", stdout=io.StringIO())
    assert read("2026-12/SHA256SUMS") == before
    assert len(keys()) == len(release.files)


def test_s3_without_a_bucket_is_refused_at_start():
    result = run_python(["manage.py", "check"], RELEASE_STORAGE="s3")
    assert result.returncode != 0
    assert "RELEASE_STORAGE=s3 needs RELEASE_S3_BUCKET" in result.stderr
    ok = run_python(["manage.py", "check"], RELEASE_STORAGE="s3", RELEASE_S3_BUCKET="releases")
    assert ok.returncode == 0, ok.stderr
