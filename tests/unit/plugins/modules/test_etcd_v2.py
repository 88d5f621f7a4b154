"""etcd_v2 module against a real etcd (from the artifact mirror) on loopback, over TLS.

Needs KUBEBIN_ARTIFACTS_MIRROR (make sets it when the offline mirror is present); without it
the etcd binary is not available here and the tests are skipped, saying so.
"""

import json
import shutil
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.kubebin.cluster.plugins.modules import etcd_v2

from . import etcdlab, moduleutil

pytestmark = pytest.mark.skipif(not etcdlab.available(), reason=etcdlab.SKIP_REASON)


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    work = tmp_path_factory.mktemp("etcd")
    proc, url = etcdlab.start(work, ["etcdctl"])
    auth = {
        "endpoint": url,
        "ca_file": str(work / "ca.crt"),
        "cert_file": str(work / "etcdctl.crt"),
        "key_file": str(work / "etcdctl.key"),
    }
    try:
        for _attempt in range(100):
            result = run_module({"action": "read", "prefix": "/", **auth}, work)
            if not result.get("failed"):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"etcd did not come up: {result}")
        yield auth, work
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work / "data", ignore_errors=True)


def run_module(args, work, check=False, diff=False):
    return moduleutil.run_module(etcd_v2.__file__, args, work, check=check, diff=diff)


LEASE = "/coreos.com/network/subnets/172.20.1.0-24"
VALUE = {"PublicIP": "10.0.0.1", "BackendType": "host-gw"}


def read(auth, work, prefix="/coreos.com/network"):
    return {
        k["key"]: k for k in run_module({"action": "read", "prefix": prefix, **auth}, work)["keys"]
    }


def test_write_read_and_idempotence(etcd):
    auth, work = etcd
    keys = {
        LEASE: {"value": VALUE},
        "/coreos.com/network/config": {"value": {"Network": "172.20.0.0/16"}},
    }
    first = run_module({"action": "write", "keys": keys, **auth}, work)
    assert first["changed"] is True
    assert {c["key"] for c in first["changes"]} == set(keys)
    stored = read(auth, work)
    assert json.loads(stored[LEASE]["value"]) == VALUE
    assert stored[LEASE]["ttl"] is None
    again = run_module({"action": "write", "keys": keys, **auth}, work)
    assert again["changed"] is False


def test_json_values_compare_as_json(etcd):
    auth, work = etcd
    respaced = '{ "BackendType": "host-gw",  "PublicIP": "10.0.0.1" }'
    result = run_module({"action": "write", "keys": {LEASE: {"value": respaced}}, **auth}, work)
    assert result["changed"] is False


def test_a_lease_becomes_a_reservation_keeping_its_value(etcd):
    auth, work = etcd
    key = "/coreos.com/network/subnets/172.20.9.0-24"
    value = '{"PublicIP":"10.0.0.9","BackendType":"host-gw"}'
    run_module({"action": "write", "keys": {key: {"value": value, "ttl": 600}}, **auth}, work)
    assert 0 < read(auth, work)[key]["ttl"] <= 600
    planned = run_module(
        {"action": "write", "keys": {key: {"value": value}}, **auth}, work, check=True, diff=True
    )
    assert planned["changed"] is True
    assert "ttl" in planned["diff"]["before"]
    assert read(auth, work)[key]["ttl"] is not None  # check mode wrote nothing
    done = run_module({"action": "write", "keys": {key: {"value": value}}, **auth}, work)
    assert done["changed"] is True
    after = read(auth, work)[key]
    assert after["ttl"] is None
    assert after["value"] == value


def test_a_client_certificate_from_another_ca_is_refused(etcd):
    auth, work = etcd
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = etcdlab._cert("stranger", key, "stranger", key)
    etcdlab._write(work / "stranger.crt", cert=stranger)
    etcdlab._write(work / "stranger.key", key=key)
    bad = dict(auth, cert_file=str(work / "stranger.crt"), key_file=str(work / "stranger.key"))
    result = run_module({"action": "read", **bad}, work)
    assert result.get("failed")
    assert "cannot reach etcd" in result["msg"] or "failed" in result["msg"]


def test_unreadable_tls_files_are_a_clear_error(etcd):
    auth, work = etcd
    result = run_module({"action": "read", **dict(auth, key_file=str(work / "none.key"))}, work)
    assert result["failed"]
    assert "cannot load the etcd client TLS files" in result["msg"]


def test_reading_a_missing_prefix_is_empty(etcd):
    auth, work = etcd
    assert run_module({"action": "read", "prefix": "/nothing/here", **auth}, work)["keys"] == []


def test_reading_several_prefixes_returns_their_keys_together(etcd):
    auth, work = etcd
    kept = "/kubebin/kept-subnets/172.20.7.0-24"
    run_module(
        {
            "action": "write",
            "keys": {kept: {"value": {"node": "n2"}}, LEASE: {"value": VALUE}},
            **auth,
        },
        work,
    )
    both = run_module(
        {
            "action": "read",
            "prefix": ["/coreos.com/network", "/kubebin/kept-subnets", "/none"],
            **auth,
        },
        work,
    )["keys"]
    names = [k["key"] for k in both]
    assert kept in names and LEASE in names and names == sorted(names)


def test_absent_keys_are_deleted_once(etcd):
    auth, work = etcd
    key = "/kubebin/kept-subnets/172.20.8.0-24"
    run_module({"action": "write", "keys": {key: {"value": {"node": "n3"}}}, **auth}, work)
    planned = run_module({"action": "write", "absent": [key], **auth}, work, check=True, diff=True)
    assert planned["changed"] is True and f"{key} (absent)" in planned["diff"]["after"]
    assert key in read(auth, work, "/kubebin")  # check mode deleted nothing
    done = run_module({"action": "write", "absent": [key], **auth}, work)
    assert done["changed"] is True and done["changes"][0]["after"] is None
    assert key not in read(auth, work, "/kubebin")
    assert run_module({"action": "write", "absent": [key], **auth}, work)["changed"] is False
