"""The master's side of the fleet directory, end to end: two lockerds
sharing one PostgreSQL (test_dirsync's pair), each change made on one
acted on by the other's master after the feed: a vhost routed, a limit
taken, a locker removed no longer served, a node drained by name from
another node (its health check says 503), `locker status` listing both
nodes, and audit rows of both nodes side by side without colliding."""
import json
import time

import pytest

import pg
from conftest import get, raw, wait_for
from test_dirsync import fleet, fleet_up, pair  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not pg.available(), reason="PostgreSQL 15 is not installed")

HEALTH = b"GET /.lockerd/health HTTP/1.1\r\nHost: anything.example\r\nConnection: close\r\n\r\n"


def health(d):
    r = raw(d.port, HEALTH)
    return int(r.split(b" ", 2)[1]) if r.startswith(b"HTTP/1.1 ") else None


@pytest.fixture(scope="module")
def ab(pair):
    fleet_up(pair["a"])
    fleet_up(pair["b"])
    return pair["a"], pair["b"]


def on(d, name):
    """Until d's copy has locker name."""
    assert wait_for(lambda: d.locker("info", name, "--json", check=False).returncode == 0,
                    within=15), d.log()[-2000:]


def test_a_vhost_added_on_one_is_routed_by_the_other(ab):
    a, b = ab
    a.locker("signup", "dmvh")
    a.put("dmvh", "v.html", "vhost via b\n", mode=0o644)
    on(b, "dmvh")
    # the locker's own subdomain first (lockers changed: routes pushed)
    assert wait_for(lambda: get(b.port, "/v.html", "dmvh.test.example")[0] == 200, within=15)
    a.locker("vhost", "add", "dmvh", "dmvh-site.example.org")
    assert wait_for(lambda: get(b.port, "/v.html", "dmvh-site.example.org")[0] == 200,
                    within=15), b.log()[-2000:]
    assert get(b.port, "/v.html", "dmvh-site.example.org")[2] == b"vhost via b\n"
    a.locker("vhost", "remove", "dmvh-site.example.org")
    assert wait_for(lambda: get(b.port, "/v.html", "dmvh-site.example.org")[0] == 404,
                    within=15)


def test_a_limit_set_on_one_is_the_others(ab):
    a, b = ab
    a.locker("signup", "dmlim")
    on(b, "dmlim")
    a.locker("limit", "dmlim", "process-limit", "17")

    def limit():
        own = [l for l in b.info("dmlim")["limits"] if l["key"] == "process-limit"]
        return own and own[0]["value"] == 17
    assert wait_for(limit, within=15), b.info("dmlim")["limits"]


def test_a_locker_removed_on_one_is_gone_on_the_other(ab):
    a, b = ab
    a.locker("signup", "dmrm")
    a.put("dmrm", "r.html", "here\n", mode=0o644)
    on(b, "dmrm")
    assert wait_for(lambda: get(b.port, "/r.html", "dmrm.test.example")[0] == 200, within=15)
    a.locker("remove", "dmrm")
    assert wait_for(lambda: b.locker("info", "dmrm", "--json", check=False).returncode != 0,
                    within=15)
    assert wait_for(lambda: get(b.port, "/r.html", "dmrm.test.example")[0] == 404, within=15)


def test_a_node_drained_from_another(ab):
    a, b = ab
    assert health(a) == 200 and health(b) == 200
    r = a.locker("node", "drain", "dsnode-b")
    assert "is drained" in r.stdout + r.stderr
    assert wait_for(lambda: health(b) == 503, within=15), b.log()[-2000:]
    assert health(a) == 200
    nodes = {n["name"]: n for n in json.loads(a.locker("status", "--json").stdout)["nodes"]}
    assert {"dsnode-a", "dsnode-b"} <= set(nodes), nodes
    assert nodes["dsnode-b"]["drained"] is True and nodes["dsnode-a"]["drained"] is False

    def seen_a():
        n = {n["name"]: n for n in json.loads(a.locker("status", "--json").stdout)["nodes"]}
        return 0 <= n["dsnode-a"]["seen_ago_s"] <= 10
    assert wait_for(seen_a, within=15)
    # b's own beat says so, in a's copy, within a few seconds
    assert wait_for(lambda: {n["name"]: n for n in json.loads(
        a.locker("status", "--json").stdout)["nodes"]}["dsnode-b"]["state"] == "draining",
        within=15)
    b.locker("node", "undrain", "dsnode-b")
    assert wait_for(lambda: health(b) == 200, within=15)
    # a name no node has reported is taken, and said so
    r = a.locker("node", "drain", "dsnode-later")
    assert "no such node has reported yet" in r.stdout + r.stderr
    a.locker("node", "undrain", "dsnode-later")


def test_audit_rows_of_both_nodes_never_collide(ab):
    a, b = ab
    a.locker("signup", "dmaud1")
    b.locker("signup", "dmaud2")
    on(a, "dmaud2")
    on(b, "dmaud1")

    def both(d):
        rows = json.loads(d.locker("audit", "--json").stdout)
        return {r["locker"]: r["id"] for r in rows if r["locker"] in ("dmaud1", "dmaud2")}
    assert wait_for(lambda: len(both(a)) == 2 and both(a) == both(b), within=15)
    ids = both(a)
    assert ids["dmaud1"] != ids["dmaud2"]
    # (unix ms << 12) | the node's hash: both a few thousand ms of now
    for i in ids.values():
        assert abs((i >> 12) - time.time() * 1000) < 600_000, i
