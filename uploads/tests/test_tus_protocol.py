"""/api/uploads speaks the tus 1.0 core protocol with creation, termination and expiration, and
only the upload's creator can see or touch it."""

import io

import pytest
from django.conf import settings
from django.test import Client
from django.utils.http import parse_http_date

from uploads.api_views import TUS_VERSION
from uploads.models import Upload
from uploads.services import upload_append, upload_create
from uploads.tests.conftest import (
    COLLECTION,
    metadata_header,
    stored_parts,
    tus_create,
    tus_delete,
    tus_head,
    tus_patch,
)
from videohost.errors import Conflict, PayloadTooLarge
from videohost.testing import assert_error_envelope

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 40  # 10 240 bytes, every byte value


@pytest.fixture
def alice(client_for, author):
    return client_for(author)


@pytest.fixture
def started(alice) -> str:
    """The URL of Alice's fresh upload of DATA."""
    response = tus_create(alice, len(DATA))
    assert response.status_code == 201, response.content
    return response["Location"]


def test_options_lists_the_version_the_limit_and_the_extensions_without_credentials(
    api_client,
):
    response = api_client.options(COLLECTION)

    assert response.status_code == 204
    assert response["Tus-Resumable"] == TUS_VERSION
    assert response["Tus-Version"] == TUS_VERSION
    assert response["Tus-Max-Size"] == str(settings.MAX_UPLOAD_SIZE)
    assert set(response["Tus-Extension"].split(",")) == {"creation", "termination", "expiration"}


def test_creation_answers_201_with_the_upload_url_and_an_empty_file(alice, author):
    response = tus_create(alice, len(DATA), filename="holiday.mp4")

    assert response.status_code == 201
    assert response["Tus-Resumable"] == TUS_VERSION
    upload = Upload.objects.get()
    assert response["Location"] == f"/api/uploads/{upload.pk}"
    assert parse_http_date(response["Upload-Expires"]) > upload.created_at.timestamp()
    assert response.json()["length"] == len(DATA)
    assert (upload.owner, upload.length, upload.offset) == (author, len(DATA), 0)
    assert upload.filename == "holiday.mp4"
    assert stored_parts() == {upload.path.name: b""}


def test_head_reports_the_offset_and_length_and_is_never_cached(alice, started):
    response = tus_head(alice, started)

    assert response.status_code == 200
    assert response["Upload-Offset"] == "0"
    assert response["Upload-Length"] == str(len(DATA))
    assert response["Cache-Control"] == "no-store"
    assert response["Tus-Resumable"] == TUS_VERSION
    assert response["Upload-Metadata"] == metadata_header(filename="clip.mp4", filetype="video/mp4")


def test_patches_append_in_order_and_the_file_is_byte_identical(alice, started):
    first = tus_patch(alice, started, DATA[:4000], offset=0)
    assert first.status_code == 204
    assert first["Upload-Offset"] == "4000"
    assert first["Tus-Resumable"] == TUS_VERSION
    assert "Upload-Expires" in first
    assert tus_head(alice, started)["Upload-Offset"] == "4000"

    second = tus_patch(alice, started, DATA[4000:], offset=4000)

    assert second.status_code == 204
    assert second["Upload-Offset"] == str(len(DATA))
    assert list(stored_parts().values()) == [DATA]
    assert Upload.objects.get().is_complete


def test_a_patch_at_the_wrong_offset_is_a_409_and_changes_nothing(alice, started):
    tus_patch(alice, started, DATA[:1000], offset=0)

    for offset in (0, 500, 2000):
        response = tus_patch(alice, started, DATA[offset : offset + 100], offset=offset)
        assert_error_envelope(response, 409, "CONFLICT")
        assert response["Tus-Resumable"] == TUS_VERSION

    assert tus_head(alice, started)["Upload-Offset"] == "1000"
    assert list(stored_parts().values()) == [DATA[:1000]]


def test_a_patch_that_would_pass_the_length_is_refused_and_nothing_of_it_is_kept(alice, started):
    tus_patch(alice, started, DATA[:1000], offset=0)

    response = tus_patch(alice, started, DATA[1000:] + b"extra", offset=1000)

    assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert tus_head(alice, started)["Upload-Offset"] == "1000"
    assert list(stored_parts().values()) == [DATA[:1000]]


def test_a_body_longer_than_declared_is_cut_off_at_the_length_while_streaming(author):
    upload = upload_create(user=author, length=len(DATA), metadata={})
    upload = upload_append(
        upload=upload, offset=0, stream=io.BytesIO(DATA[:100]), declared_length=100
    )

    # A chunked body declares nothing; this one runs past the end.
    with pytest.raises(PayloadTooLarge):
        upload_append(
            upload=upload, offset=100, stream=io.BytesIO(DATA[100:] + b"!"), declared_length=None
        )

    upload.refresh_from_db()
    assert upload.offset == 100
    assert upload.path.read_bytes() == DATA[:100]


def test_the_service_refuses_a_stale_offset_even_when_the_caller_holds_an_old_row(author):
    upload = upload_create(user=author, length=len(DATA), metadata={})
    stale = Upload.objects.get(pk=upload.pk)
    upload_append(upload=upload, offset=0, stream=io.BytesIO(DATA[:10]), declared_length=10)

    with pytest.raises(Conflict):
        upload_append(upload=stale, offset=0, stream=io.BytesIO(DATA[:10]), declared_length=10)

    assert upload.path.read_bytes() == DATA[:10]


def test_a_patch_body_is_streamed_not_read_into_memory_whole(alice, started, settings):
    # request.body refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE: a view that used it
    # would fail here.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = tus_patch(alice, started, DATA, offset=0)

    assert response.status_code == 204
    assert list(stored_parts().values()) == [DATA]


def test_an_upload_length_over_the_limit_is_refused_before_anything_is_stored(alice, settings):
    settings.MAX_UPLOAD_SIZE = 10_000

    response = tus_create(alice, 10_001)

    assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert response["Tus-Resumable"] == TUS_VERSION
    assert not Upload.objects.exists()
    assert stored_parts() == {}
    assert tus_create(alice, 10_000).status_code == 201


def test_a_patch_with_the_wrong_content_type_is_a_415(alice, started):
    response = tus_patch(alice, started, DATA[:10], offset=0, content_type="video/mp4")

    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert tus_head(alice, started)["Upload-Offset"] == "0"


@pytest.mark.parametrize("extra", [{}, {"HTTP_TUS_RESUMABLE": "0.2.2"}])
def test_a_request_without_the_supported_tus_version_is_a_412(alice, started, extra):
    response = alice.generic("HEAD", started, **extra)

    assert response.status_code == 412
    assert response["Tus-Version"] == TUS_VERSION
    assert response["Tus-Resumable"] == TUS_VERSION


def test_termination_without_the_tus_version_is_a_412_the_schema_documents(alice, started):
    # Found by the schema fuzzer: DELETE answered 412 but documented only 204, 401 and 404.
    response = alice.delete(started)

    assert_error_envelope(response, 412, "PRECONDITION_FAILED")
    assert Upload.objects.exists()
    paths = alice.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    assert "412" in paths["/api/uploads/{upload_id}"]["delete"]["responses"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_UPLOAD_LENGTH": "-5"},
        {"HTTP_UPLOAD_LENGTH": "lots"},
        {"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "filename not*base64"},
        {"HTTP_UPLOAD_DEFER_LENGTH": "1"},
    ],
)
def test_creation_without_a_valid_length_or_metadata_is_a_400(alice, headers):
    response = alice.generic("POST", COLLECTION, HTTP_TUS_RESUMABLE=TUS_VERSION, **headers)

    assert_error_envelope(response, 400, "BAD_REQUEST")
    assert not Upload.objects.exists()


def test_someone_else_cannot_see_write_or_delete_an_upload(client_for, stranger, started):
    bob = client_for(stranger)

    assert tus_head(bob, started).status_code == 404
    assert_error_envelope(tus_patch(bob, started, DATA[:10], offset=0), 404, "NOT_FOUND")
    assert_error_envelope(tus_delete(bob, started), 404, "NOT_FOUND")
    assert Upload.objects.get().offset == 0


def test_anonymous_callers_get_401(api_client, started):
    assert tus_head(api_client, started).status_code == 401
    assert_error_envelope(tus_create(api_client, 10), 401, "UNAUTHORIZED")
    assert_error_envelope(tus_patch(api_client, started, DATA[:10], offset=0), 401, "UNAUTHORIZED")
    assert Upload.objects.count() == 1


def test_a_user_without_a_channel_cannot_start_an_upload(client_for, viewer):
    response = tus_create(client_for(viewer), len(DATA))

    assert_error_envelope(response, 403, "FORBIDDEN")
    assert not Upload.objects.exists()
    assert stored_parts() == {}


def test_termination_deletes_the_upload_and_its_file(alice, started):
    tus_patch(alice, started, DATA[:100], offset=0)

    response = tus_delete(alice, started)

    assert response.status_code == 204
    assert response["Tus-Resumable"] == TUS_VERSION
    assert not Upload.objects.exists()
    assert stored_parts() == {}
    assert tus_head(alice, started).status_code == 404


def test_the_upload_url_works_with_a_trailing_slash_too(alice, started):
    assert tus_head(alice, f"{started}/")["Upload-Offset"] == "0"
    created = alice.generic(
        "POST", f"{COLLECTION}/", HTTP_TUS_RESUMABLE=TUS_VERSION, HTTP_UPLOAD_LENGTH="10"
    )
    assert created.status_code == 201


def test_session_writes_need_the_csrf_token(author):
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)

    refused = tus_create(client, len(DATA))
    client.get("/upload")
    accepted = tus_create(client, len(DATA), HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)

    assert_error_envelope(refused, 403, "FORBIDDEN")
    assert accepted.status_code == 201
