"""Verify the artifacts role on the lab hosts (testinfra, through molecule's inventory).

The hosts' binaries are compared with the controller's cache (ARTIFACTS_CACHE, computed here
on the controller) and with the sha256 the offline mirror's PROVENANCE.md records.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

CACHE = Path(os.environ["ARTIFACTS_CACHE"])
ROOT = "/opt/kubebin"
LINKS = "/usr/local/bin"
# From the mirror's PROVENANCE.md (etcd v3.3.27 built from upstream source).
ETCD_SHA256 = "dd4bb4e8d5e967a4ddfada3d3ec7b85539b106cbb4efc9e4dee04969441e6beb"
BINARIES = {
    "etcd": ("etcd-3.3.27", CACHE / "etcd/3.3.27/etcd-v3.3.27-linux-amd64/etcd"),
    "etcdctl": ("etcd-3.3.27", CACHE / "etcd/3.3.27/etcd-v3.3.27-linux-amd64/etcdctl"),
    "flanneld": ("flannel-0.10.0", CACHE / "flannel/0.10.0/flanneld"),
    "mk-docker-opts.sh": ("flannel-0.10.0", CACHE / "flannel/0.10.0/mk-docker-opts.sh"),
}
ALL_ARTIFACTS = {
    "kubernetes": "1.10.13",
    "etcd": "3.3.27",
    "flannel": "0.10.0",
    "pause-amd64": "3.1",
    "k8s-dns-kube-dns-amd64": "1.14.10",
    "k8s-dns-dnsmasq-nanny-amd64": "1.14.10",
    "k8s-dns-sidecar-amd64": "1.14.10",
    "filebeat": "6.2.4",
    "rbd-provisioner": "2.1.1-k8s1.11",
}


def controller_sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_binary_in_its_versioned_directory(host, name):
    directory = BINARIES[name][0]
    f = host.file(f"{ROOT}/{directory}/bin/{name}")
    assert f.is_file
    assert f.user == "root"
    assert f.group == "root"
    assert f.mode == 0o755


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_link_points_at_the_version(host, name):
    directory = BINARIES[name][0]
    link = host.file(f"{LINKS}/{name}")
    assert link.is_symlink
    assert link.linked_to == f"{ROOT}/{directory}/bin/{name}"


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_binary_is_the_one_in_the_controller_cache(host, name):
    directory, cached = BINARIES[name]
    assert host.file(f"{ROOT}/{directory}/bin/{name}").sha256sum == controller_sha256(cached)


def test_etcd_is_the_mirror_build(host):
    assert host.file(f"{ROOT}/etcd-3.3.27/bin/etcd").sha256sum == ETCD_SHA256
    assert controller_sha256(BINARIES["etcd"][1]) == ETCD_SHA256


def test_etcd_runs_from_the_path(host):
    out = host.check_output("etcd --version")
    assert "etcd Version: 3.3.27" in out
    assert "3.3.27" in host.check_output("etcdctl --version")


def test_flanneld_runs_from_the_path(host):
    result = host.run("flanneld --version")
    assert result.rc == 0, result.stderr
    assert (result.stdout + result.stderr).strip() == "v0.10.0"


def test_only_what_was_asked_is_installed(host):
    assert sorted(host.file(ROOT).listdir()) == ["etcd-3.3.27", "flannel-0.10.0"]
    assert not host.file(f"{LINKS}/kubelet").exists
    assert not host.file("/var/lib/kubebin/images").exists


def test_controller_cache_holds_every_artifact_once(host):
    for name, version in ALL_ARTIFACTS.items():
        marker = json.loads((CACHE / name / version / ".kubebin-artifact.json").read_text())
        assert marker["version"] == version
        assert marker["checksum"].startswith("sha256:")
        assert marker["checksum_source"] == os.path.join(
            os.environ["KUBEBIN_ARTIFACTS_MIRROR"], "SHA256SUMS"
        )
        for path in marker["files"].values():
            assert Path(path).is_file(), path
    # Only the server binaries were unpacked from the kubernetes tarball.
    assert sorted(
        p.name for p in (CACHE / "kubernetes/1.10.13/kubernetes/server/bin").iterdir()
    ) == [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-proxy",
        "kube-scheduler",
        "kubectl",
        "kubelet",
    ]


# --- side_effect: a mirror lying about a checksum --------------------------------------------


def test_wrong_checksum_stopped_the_install_with_both_sums(host):
    msg = host.file("/var/tmp/kubebin-artifacts-failure.txt").content_string
    assert "Checksum mismatch, nothing was unpacked or installed on any host" in msg
    assert "etcd-v3.3.99-linux-amd64.tar.xz" in msg
    assert f"expected sha256:{'0' * 64}" in msg
    real = controller_sha256(
        Path(os.environ["KUBEBIN_ARTIFACTS_MIRROR"], "etcd-v3.3.27-linux-amd64.tar.xz")
    )
    assert f"actual sha256:{real}" in msg


def test_wrong_checksum_left_the_host_untouched(host):
    assert not host.file(f"{ROOT}/etcd-3.3.99").exists
    assert host.file(f"{LINKS}/etcd").linked_to == f"{ROOT}/etcd-3.3.27/bin/etcd"
    assert not host.file("/etc/kubebin-artifacts-let-me-through").exists
    bad = Path(os.environ["ARTIFACTS_BAD_MIRROR"])
    assert (bad / "etcd-v3.3.99-linux-amd64.tar.xz").is_file()  # the mirror's file, untouched
    assert not (CACHE / "etcd" / "3.3.99" / "etcd-v3.3.27-linux-amd64").exists()
    assert not (CACHE / "etcd" / "3.3.99" / ".kubebin-artifact.json").exists()
