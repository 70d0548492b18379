"""GET /health (no secrets) and GET /metrics (counters move)."""

from __future__ import annotations

from conftest import API4AI_KEY, CLIENT_KEY, SUPABASE_KEY
from samples import photo_bytes
from server_helpers import metric


def test_health_names_configured_partners_and_no_secrets(make_server, partners, client):
    base, _ = make_server(**partners, client_keys=CLIENT_KEY)
    for route in ("/health", "/api/health"):
        r = client.get(base + route)
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "ok" and body["version"]
        assert body["uptime_s"] >= 0
        assert body["partners"]["api4ai"]["configured"] is True
        assert body["partners"]["supabase"]["configured"] is True
        assert body["storage"] == "supabase" and body["auth_required"] is True
        for secret in (API4AI_KEY, SUPABASE_KEY, CLIENT_KEY):
            assert secret not in r.text


def test_health_of_the_embedded_default(make_server, client):
    base, _ = make_server()
    body = client.get(base + "/api/health").json()
    assert body["partners"]["api4ai"]["configured"] is False
    assert body["partners"]["supabase"]["configured"] is False
    assert body["storage"] == "local" and body["auth_required"] is False


def test_half_configured_partner_counts_as_not_configured(make_server, client):
    base, _ = make_server(supabase_url="http://127.0.0.1:9", supabase_bucket="b")
    assert client.get(base + "/health").json()["partners"]["supabase"]["configured"] is False


def test_metrics_move(make_server, partners, api4ai_fake, client):
    base, _ = make_server(**partners, rate_limit_per_minute=3)
    photo = photo_bytes("astronaut.png")
    before = client.get(base + "/metrics")
    assert before.headers["content-type"].startswith("text/plain")
    route = "/api/v1/remove-background"
    assert metric(before.text, "pixelpress_http_requests_total", route=route, status="200") == 0

    assert client.post(base + route, files={"image": ("a.jpg", photo, "image/jpeg")}).status_code == 200
    api4ai_fake.mode = "error500"
    assert client.post(base + route, files={"image": ("a.jpg", photo, "image/jpeg")}).status_code == 502
    assert client.post(base + route).status_code == 400
    assert client.post(base + route).status_code == 429

    text = client.get(base + "/metrics").text
    assert metric(text, "pixelpress_http_requests_total", method="POST", route=route, status="200") == 1
    assert metric(text, "pixelpress_http_requests_total", route=route, status="502") == 1
    assert metric(text, "pixelpress_http_requests_total", route=route, status="429") == 1
    assert metric(text, "pixelpress_http_requests_total", route="/metrics", status="200") == 1
    assert metric(text, "pixelpress_http_request_duration_seconds_count", route=route) == 4
    assert metric(text, "pixelpress_upstream_calls_total", partner="api4ai", outcome="ok") == 1
    assert metric(text, "pixelpress_upstream_calls_total", partner="api4ai", outcome="http_5xx") == 2
    assert metric(text, "pixelpress_upstream_duration_seconds_count", partner="api4ai") == 3
    assert metric(text, "pixelpress_upstream_failures_total", partner="api4ai", reason="http_500") == 1
    assert metric(text, "pixelpress_rate_limit_rejections_total") == 1


def test_each_app_has_its_own_registry(make_server, client):
    a, _ = make_server()
    b, _ = make_server()
    client.get(a + "/health")
    client.get(a + "/health")
    assert metric(client.get(a + "/metrics").text, "pixelpress_http_requests_total", route="/health") == 2
    assert metric(client.get(b + "/metrics").text, "pixelpress_http_requests_total", route="/health") == 0


def test_unmatched_paths_share_one_label(make_server, client):
    base, _ = make_server()
    for i in range(5):
        assert client.get(f"{base}/no/such/{i}").status_code == 404
    text = client.get(base + "/metrics").text
    assert metric(text, "pixelpress_http_requests_total", route="unmatched", status="404") == 5
    assert "/no/such" not in text


def test_env_example_documents_every_setting_and_configures_nothing():
    from pathlib import Path

    from pixelpress_server.settings import Settings

    example = Path(__file__).resolve().parents[2] / ".env.example"
    names = {line.split("=", 1)[0] for line in example.read_text().splitlines() if line.startswith("PIXELPRESS_")}
    assert names == {f"PIXELPRESS_{field.upper()}" for field in Settings.model_fields}
    settings = Settings(_env_file=example)
    assert not settings.api4ai_configured and not settings.supabase_configured
    assert settings.static_dir is None and settings.client_keys == []


def test_no_secrets_in_logs(make_server, partners, api4ai_fake, supabase_fake, client, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    base, _ = make_server(**partners, client_keys=CLIENT_KEY)
    auth = {"Authorization": f"Bearer {CLIENT_KEY}"}
    photo = photo_bytes("astronaut.png")
    api4ai_fake.mode = "error500"
    supabase_fake.mode = "error500"
    assert client.post(base + "/api/v1/remove-background", headers=auth,
                       files={"image": ("a.jpg", photo, "image/jpeg")}).status_code == 502
    assert client.post(base + "/api/v1/uploads", headers=auth, data={"path": "a.jpg"},
                       files={"file": ("a.jpg", photo, "image/jpeg")}).status_code == 502
    assert client.post(base + "/api/v1/uploads", headers={"Authorization": "Bearer guess"}).status_code == 401
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "api4ai answered HTTP 500" in text or "retrying" in text  # the failures were logged...
    for secret in (API4AI_KEY, SUPABASE_KEY, CLIENT_KEY, "guess"):
        assert secret not in text  # ...without any key
