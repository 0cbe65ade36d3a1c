"""With object storage, /readyz really asks the S3 server: a stopped server or a missing
bucket is a 503 naming storage, not a green light from a cached answer."""

from videohost.settings import storages_for
from videohost.testing_s3 import s3_bucket_create, s3_options, s3_server_start


def test_readyz_asks_the_s3_server_and_names_storage_once_it_is_down(client, db, settings):
    server = s3_server_start()
    try:
        s3_bucket_create(server.client(), "readyz")
        settings.STORAGES = storages_for(settings.MEDIA_ROOT, s3_options(server, "readyz"))
        assert client.get("/readyz").status_code == 200

        server.stop()
        response = client.get("/readyz")
    finally:
        server.stop()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["failing"] == ["storage"]
    assert body["error"]["message"] == "Not ready: storage"
    assert "Could not connect to the endpoint URL" in body["error"]["details"]["storage"]


def test_readyz_names_storage_when_the_bucket_is_missing(client, db, settings, s3_server):
    settings.STORAGES = storages_for(settings.MEDIA_ROOT, s3_options(s3_server, "no-such-bucket"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]
    assert "404" in response.json()["error"]["details"]["storage"]
