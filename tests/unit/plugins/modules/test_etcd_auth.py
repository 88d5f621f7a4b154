"""etcd_auth against a real etcd v3.3.27 (from the artifact mirror) on loopback over TLS:
clients known by their certificate's CN, in both of etcd's user stores.

Needs KUBEBIN_ARTIFACTS_MIRROR (make sets it when the offline mirror is present); without it
the etcd binaries are not available here and the tests are skipped, saying so.
"""

import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.kubebin.cluster.plugins.modules import etcd_auth

from . import etcdlab, moduleutil

pytestmark = pytest.mark.skipif(not etcdlab.available(), reason=etcdlab.SKIP_REASON)

CLIENTS = ["etcdctl", "flanneld", "kube-apiserver-etcd-client", "nobody"]
ROOT_PASSWORD = "test-root-password"
WANT = {
    "v2_roles": {
        "flannel": {"read": ["/coreos.com/network/*"], "write": ["/coreos.com/network/*"]}
    },
    "v2_users": {"etcdctl": ["root"], "flanneld": ["flannel"]},
    "v3_users": {"etcdctl": ["root"], "kube-apiserver-etcd-client": ["root"]},
}


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    work = tmp_path_factory.mktemp("etcd-auth")
    proc, url = etcdlab.start(work, CLIENTS)
    try:
        for _attempt in range(100):
            if (
                v3(work, url, "etcdctl", "put", "/registry/secrets/default/x", "secret").returncode
                == 0
            ):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("etcd did not come up")
        for key in ("/v2/keys/coreos.com/network/config", "/v2/keys/other/key"):
            assert v2(work, url, "etcdctl", "PUT", key, data="value=x")[0] in (200, 201)
        yield work, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work / "data", ignore_errors=True)


def v3(work, url, who, *args):
    return subprocess.run(
        [
            str(work / "etcdctl"),
            f"--endpoints={url}",
            f"--cacert={work / 'ca.crt'}",
            f"--cert={work / who}.crt",
            f"--key={work / who}.key",
            *args,
        ],
        env=dict(os.environ, ETCDCTL_API="3"),
        capture_output=True,
        text=True,
        check=False,
    )


def v2(work, url, who, method, path, *, data=None):
    """(HTTP status, document) of a v2 request made with WHO's certificate."""
    ctx = ssl.create_default_context(cafile=str(work / "ca.crt"))
    ctx.load_cert_chain(str(work / f"{who}.crt"), str(work / f"{who}.key"))
    body = data.encode() if data else None
    req = urllib.request.Request(url + path, data=body, method=method)
    if body:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def run_module(work, url, check=False):
    args = {
        "endpoint": url,
        "ca_file": str(work / "ca.crt"),
        "cert_file": str(work / "etcdctl.crt"),
        "key_file": str(work / "etcdctl.key"),
        "etcdctl": str(work / "etcdctl"),
        "root_password": ROOT_PASSWORD,
        **WANT,
    }
    return moduleutil.run_module(etcd_auth.__file__, args, work, check=check)


def test_check_mode_reports_and_changes_nothing(etcd):
    work, url = etcd
    result = run_module(work, url, check=True)
    assert result["changed"] is True, result
    assert "v3 authorization enabled" in result["changes"]
    assert "v2 authorization enabled" in result["changes"]
    # nothing changed: every certificate still reads everything
    assert (
        v3(work, url, "nobody", "get", "/registry/secrets/default/x")
        .stdout.strip()
        .endswith("secret")
    )
    assert v2(work, url, "nobody", "GET", "/v2/keys/other/key")[0] == 200


def test_authorization_on_then_nothing_left_to_change(etcd):
    work, url = etcd
    first = run_module(work, url)
    assert first["changed"] is True, first
    assert any(c.startswith("v2 role guest: revoked") for c in first["changes"]), first["changes"]
    again = run_module(work, url)
    assert again == {**again, "changed": False, "changes": []}, again


def test_v3_clients_by_their_cn(etcd):
    work, url = etcd
    run_module(work, url)
    assert (
        v3(work, url, "kube-apiserver-etcd-client", "get", "/registry/secrets/default/x").returncode
        == 0
    )
    for who in ("flanneld", "nobody"):
        out = v3(work, url, who, "get", "/registry/secrets/default/x")
        assert out.returncode != 0 and "permission denied" in out.stderr, (who, out.stderr)
        assert v3(work, url, who, "put", "/x", "y").returncode != 0


def test_v2_flanneld_only_under_its_prefix(etcd):
    work, url = etcd
    run_module(work, url)
    assert v2(work, url, "flanneld", "GET", "/v2/keys/coreos.com/network/config")[0] == 200
    lease = "/v2/keys/coreos.com/network/subnets/172.20.5.0-24?prevExist=false"
    assert v2(work, url, "flanneld", "PUT", lease, data="value=%7B%7D&ttl=60")[0] == 201
    listed = v2(work, url, "flanneld", "GET", "/v2/keys/coreos.com/network/subnets?recursive=true")
    assert listed[0] == 200
    for method, data in (("GET", None), ("PUT", "value=y")):
        status, doc = v2(work, url, "flanneld", method, "/v2/keys/other/key", data=data)
        assert status == 401 and doc["errorCode"] == 110, (method, doc)
    status, doc = v2(work, url, "nobody", "GET", "/v2/keys/coreos.com/network/config")
    assert status == 401, doc
    assert v2(work, url, "etcdctl", "GET", "/v2/keys/other/key")[0] == 200  # root
