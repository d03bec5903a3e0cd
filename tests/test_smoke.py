def test_login_page_is_served(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert b"Log in to JOF" in r.data


def test_manager_logs_in_and_sees_dashboard(web):
    c = web("manager@jof.example")
    r = c.get("/")
    assert r.status_code == 200
    assert b"manager@jof.example" in r.data
