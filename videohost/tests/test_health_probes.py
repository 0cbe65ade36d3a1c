def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_component_ready(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == ["channel_layer", "database", "storage"]


def test_readyz_names_the_failing_component(client, db, monkeypatch):
    from videohost import health

    def broken() -> None:
        raise ConnectionError("refused")

    monkeypatch.setitem(health.CHECKS, "channel_layer", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["failing"] == ["channel_layer"]
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
