"""Materials in S3, as docs/deploy.md sets them up (django-storages' S3Storage), against moto's S3 server.

The server answers the S3 API over HTTP on a port of its own, so everything
between the site and the bucket is the real thing: django-storages, boto3,
signed requests, listing by prefix.
"""

import datetime

import boto3
import pytest
from django.utils import timezone
from moto.server import ThreadedMotoServer

from materials import services
from materials.models import Material
from tests import pdfs
from tests.servers import free_port

from .test_orphaned_files import erase, rolled_back_upload

pytestmark = pytest.mark.django_db

BUCKET = "seminar-materials"
CREDENTIALS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """An empty private bucket, and the materials stored in it with the options docs/deploy.md gives."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = settings.STORAGES | {
        "materials": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "region_name": CREDENTIALS["region_name"],
                "default_acl": "private",
                "file_overwrite": False,
                "endpoint_url": s3_endpoint,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
            },
        }
    }
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_an_upload_is_a_private_object_read_back_through_the_site(bucket, past_event, add_material, client):
    content = pdfs.slides(pages=2)

    material = add_material(past_event, content=content)

    name = material.file.name
    assert keys(bucket) == [name]
    assert name.startswith(f"materials/{past_event.pk}/") and name.endswith(".pdf")
    stored = bucket.get_object(Bucket=BUCKET, Key=name)["Body"].read()
    assert stored == content
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=name)["Grants"]
    assert not [grant for grant in grants if "AllUsers" in grant["Grantee"].get("URI", "")]
    response = client.get(material.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content


def test_removing_a_material_deletes_its_object(bucket, past_event, add_material, django_capture_on_commit_callbacks):
    material = add_material(past_event)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.remove_material(material=material)

    assert keys(bucket) == []


def test_orphaned_objects_go_and_held_ones_stay(bucket, past_event, make_event, add_material):
    kept = add_material(past_event, title="Slides")
    other_talk = make_event(start=timezone.now() - datetime.timedelta(days=2))
    also_kept = add_material(other_talk, title="Paper")
    left = rolled_back_upload(add_material, past_event)
    left_elsewhere = rolled_back_upload(add_material, other_talk)
    assert keys(bucket) == sorted([kept.file.name, also_kept.file.name, left, left_elsewhere])

    # S3 has no directories: the talks' "folders" are prefixes, listed as such.
    assert services.erase_orphaned_files(before=timezone.now() - datetime.timedelta(hours=1)) == []
    assert sorted(
        services.erase_orphaned_files(before=timezone.now() + datetime.timedelta(minutes=1), dry_run=True)
    ) == sorted([left, left_elsewhere])
    assert len(keys(bucket)) == 4

    erased = services.erase_orphaned_files(before=timezone.now() + datetime.timedelta(minutes=1))

    assert sorted(erased) == sorted([left, left_elsewhere])
    assert keys(bucket) == sorted([kept.file.name, also_kept.file.name])
    assert Material.objects.get(pk=kept.pk).file.read().startswith(b"%PDF")


def test_an_empty_bucket_is_nothing_to_do(bucket):
    assert erase() == "0 material files no material refers to, older than 24 hours, deleted.\n"
