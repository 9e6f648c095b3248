"""`locker node drain|undrain NODE` and the nodes part of `locker status`,
on one machine (directory sqlite): the node drains itself through the same
table a fleet uses (node_drain), its health check says 503 while drained,
across a restart too, and only root may drain.  The fleet's side (a drain
reaching another node through PostgreSQL) is in test_dirsync/test_fleet."""
import json
import os
import time

import pytest

from conftest import Lockerd, as_user, raw, refused, wait_for

HEALTH = b"GET /.lockerd/health HTTP/1.1\r\nHost: anything.example\r\nConnection: close\r\n\r\n"


def health(d):
    r = raw(d.port, HEALTH)
    return int(r.split(b" ", 2)[1]) if r.startswith(b"HTTP/1.1 ") else None


@pytest.fixture(scope="module")
def node(build_dir):
    name = f"tn{os.getpid() % 100000}"
    d = Lockerd(build_dir, extra=f"node {name}\n")
    d.start()
    yield d, name
    d.cleanup()


def nodes(d):
    return json.loads(d.locker("status", "--json").stdout)["nodes"]


def test_status_shows_this_node(node):
    d, name = node
    (n,) = nodes(d)
    assert n["name"] == name and n["state"] == "up" and n["drained"] is False
    assert 0 <= n["seen_ago_s"] <= 5 and n["load"] >= 0
    text = d.locker("status").stdout
    assert "NODE" in text and name in text and "LAST CONTACT" in text
    # the object is whole JSON with its three parts
    doc = json.loads(d.locker("status", "--json").stdout)
    assert set(doc) == {"processes", "lockers", "nodes"}


def test_drain_undrain_and_health(node):
    d, name = node
    assert health(d) == 200
    r = d.locker("node", "drain", name)
    assert "is drained" in r.stdout + r.stderr
    assert wait_for(lambda: health(d) == 503, within=10)
    (n,) = nodes(d)
    assert n["drained"] is True and n["state"] == "draining"
    # again: still drained, no error
    d.locker("node", "drain", name)
    audit = json.loads(d.locker("audit", "--json").stdout)
    assert any(a["action"] == "node-drain" and a["detail"] == name for a in audit)
    # a drained node stays drained across a restart
    d.stop()
    d.start()
    assert wait_for(lambda: health(d) == 503, within=15)
    d.locker("node", "undrain", name)
    assert wait_for(lambda: health(d) == 200, within=10)
    assert nodes(d)[0]["drained"] is False


def test_mistakes(node):
    d, name = node
    r = d.locker("node", "drain", "othernode", check=False)
    assert r.returncode == 1 and "no node othernode" in r.stderr, r.stderr
    r = d.locker("node", "drain", "Bad_Name", check=False)
    assert r.returncode != 0 and "usage" in r.stderr, r.stderr
    r = d.locker("node", "drain", check=False)
    assert r.returncode != 0
    assert health(d) == 200


def test_only_root_drains(node):
    d, name = node
    r = as_user(d, "nobody", "node", "drain", name)
    refused(r, "drain a node")
    r = as_user(d, "nobody", "node", "undrain", name)
    refused(r, "undrain a node")
    assert health(d) == 200
    # status of a non-root shows no nodes part (theirs only)
    r = as_user(d, "nobody", "status", "--json")
    assert "nodes" not in r.stdout
