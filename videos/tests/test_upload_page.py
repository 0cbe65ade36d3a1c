"""The upload page: who reaches it, and the form its script drives."""

import pytest
from django.conf import settings
from django.urls import reverse

from videohost.testing import UserFactory

pytestmark = pytest.mark.django_db


def test_upload_page_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("upload"))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{settings.LOGIN_URL}?next=/upload")


def test_upload_page_redirects_a_user_without_a_channel_to_the_studio_with_a_message(client):
    client.force_login(UserFactory())

    response = client.get(reverse("upload"), follow=True)

    assert response.redirect_chain == [(reverse("studio"), 302)]
    assert "Create your channel first" in response.content.decode()
    assert "Create channel" in response.content.decode()


def test_upload_page_gives_the_author_the_form_the_script_needs(client, author):
    client.force_login(author)

    page = client.get(reverse("upload")).content.decode()

    for element_id in ("id_file", "id_title", "id_description", "id_access_level", "id_has_ads"):
        assert f'id="{element_id}"' in page
    assert 'accept="video/*"' in page
    assert f'data-max-size="{settings.MAX_UPLOAD_SIZE}"' in page
    assert 'data-api-url="/api/videos"' in page
    assert '<progress id="upload-progress" max="100" value="0"' in page
    assert 'id="upload-done"' in page
    assert 'type="submit"' in page
    assert 'src="/static/js/upload.js"' in page
    assert "Alice&#x27;s Workshop" in page


def test_upload_page_carries_no_inline_script(client, author):
    client.force_login(author)

    page = client.get(reverse("upload")).content.decode()

    assert "<script>" not in page
    assert " onclick=" not in page and " onsubmit=" not in page


def test_upload_page_loads_tus_and_tells_the_script_when_to_resume(client, author, settings):
    settings.RESUMABLE_UPLOAD_THRESHOLD = 12345
    settings.UPLOAD_CHUNK_SIZE = 65536
    client.force_login(author)

    page = client.get(reverse("upload")).content.decode()

    assert 'data-tus-url="/api/uploads"' in page
    assert 'data-resumable-threshold="12345"' in page
    assert 'data-chunk-size="65536"' in page
    # The UMD build defines window.tus; it must run before the module that uses it.
    tus = page.index('src="/static/vendor/tus-js-client-4.3.1/tus.min.js"')
    assert tus < page.index('src="/static/js/upload.js"')
