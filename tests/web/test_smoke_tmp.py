import pytest

pytestmark = pytest.mark.filterwarnings("error")


def test_pages(client_for, world):
    c = client_for("xly1")
    r = c.get("/tasks")
    assert r.status_code == 200, r.text
    r = c.get(f"/tasks/{world.tasks['t_east']}")
    assert r.status_code == 200, r.text
    for u, paths in {"shenhe": ["/review", "/cases", "/work", "/overdue", f"/cases/{world.cases['death']}"],
                     "fenxi": ["/analytics"], "admin": ["/admin", "/tasks", "/review", "/analytics"]}.items():
        c = client_for(u)
        for p in paths:
            r = c.get(p)
            assert r.status_code == 200, (p, r.text[-3000:])
