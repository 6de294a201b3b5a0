def test_login_page_renders_in_chinese_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'lang="zh-CN"' in response.get_data(as_text=True)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
