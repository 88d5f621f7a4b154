"""plugin_utils.artifacts: the plan for upstream and mirror sources, checksum lines, mismatch
reports and what a host gets, on the role's own artifact table."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.kubebin.cluster.plugins.plugin_utils import artifacts
from ansible_collections.kubebin.cluster.plugins.plugin_utils.artifacts import ArtifactsError

ROOT = Path(__file__).resolve().parents[4]
SHA = "a" * 64
TABLE = {
    "kubernetes": {
        "kind": "archive",
        "version": "1.10.13",
        "upstream": {
            "url": "https://dl.k8s.io/v1.10.13/kubernetes-server-linux-amd64.tar.gz",
            "checksums": {"1.10.13": "SHA512:ABC"},
            "checksum_url": "https://dl.k8s.io/v1.10.13/kubernetes-server-linux-amd64.tar.gz.sha256",
        },
        "mirror": "kubernetes-server-v1.10.13-linux-amd64.tar.xz",
        "dir": "kubernetes/server/bin",
        "files": ["kubelet", "kube-proxy", "kubectl"],
    },
    "etcd": {
        "kind": "archive",
        "version": "3.3.27",
        "upstream": {
            "url": "https://github.com/etcd-io/etcd/releases/download/v3.3.27/etcd-v3.3.27-linux-amd64.tar.gz",
            "checksums": {},
            "checksum_url": "https://github.com/etcd-io/etcd/releases/download/v3.3.27/SHA256SUMS",
        },
        "mirror": "etcd-v3.3.27-linux-amd64.tar.xz",
        "dir": "etcd-v3.3.27-linux-amd64",
        "files": ["etcd", "etcdctl"],
    },
    "flannel": {
        "kind": "archive",
        "version": "0.10.0",
        "upstream": {
            "url": "https://example.invalid/flannel.tar.gz",
            "checksums": {},
            "checksum_url": "",
        },
        "mirror": "flannel-v0.10.0-linux-amd64.tar.xz",
        "dir": "",
        "files": ["flanneld", "mk-docker-opts.sh"],
    },
    "pause-amd64": {
        "kind": "image",
        "version": "3.1",
        "image": "k8s.gcr.io/pause-amd64:3.1",
        "mirror": "images/pause-amd64-3.1.tar.xz",
    },
}


def test_mirror_kinds():
    assert artifacts.mirror_kind("") == "none"
    assert artifacts.mirror_kind(None) == "none"
    assert artifacts.mirror_kind("https://files.lan/k8s/") == "url"
    assert artifacts.mirror_kind("/srv/mirror") == "dir"
    assert artifacts.mirror_kind("srv/mirror") == "invalid"


def test_upstream_plan():
    plan = artifacts.plan(TABLE, ["kubernetes", "etcd", "kubernetes", "flannel"], "", "/c/")
    assert [p["name"] for p in plan] == ["kubernetes", "etcd", "flannel"]
    k8s, etcd, flannel = plan
    assert k8s["src"] == TABLE["kubernetes"]["upstream"]["url"] and k8s["remote"] is True
    assert k8s["checksum"] == "SHA512:ABC" and k8s["checksum_url"] == ""  # the pin wins
    assert k8s["cache_dir"] == "/c/kubernetes/1.10.13"
    assert k8s["fetch_path"] == "/c/kubernetes/1.10.13/kubernetes-server-linux-amd64.tar.gz"
    assert k8s["members"] == [
        "kubernetes/server/bin/kubelet",
        "kubernetes/server/bin/kube-proxy",
        "kubernetes/server/bin/kubectl",
    ]
    assert k8s["paths"]["kubectl"] == "/c/kubernetes/1.10.13/kubernetes/server/bin/kubectl"
    assert k8s["marker"] == "/c/kubernetes/1.10.13/.kubebin-artifact.json"
    assert etcd["checksum"] == "" and etcd["checksum_url"].endswith("/SHA256SUMS")
    assert etcd["checksum_key"] == "etcd-v3.3.27-linux-amd64.tar.gz"
    assert (
        flannel["checksum"] == flannel["checksum_url"] == ""
    )  # nothing to verify with: the role stops
    assert flannel["members"] == ["flanneld", "mk-docker-opts.sh"]


def test_mirror_plan_reads_files_in_place_and_its_sha256sums():
    plan = artifacts.plan(TABLE, ["kubernetes", "pause-amd64"], "/srv/mirror/", "/c")
    k8s, pause = plan
    assert k8s["src"] == "/srv/mirror/kubernetes-server-v1.10.13-linux-amd64.tar.xz"
    assert k8s["remote"] is False and k8s["fetch_path"] == k8s["src"]
    assert k8s["checksum"] == "" and k8s["checksum_url"] == "/srv/mirror/SHA256SUMS"
    assert k8s["checksum_key"] == "kubernetes-server-v1.10.13-linux-amd64.tar.xz"
    assert pause["members"] == ["pause-amd64-3.1.tar.xz"]
    assert pause["paths"] == {"pause-amd64-3.1.tar.xz": "/c/pause-amd64/3.1/pause-amd64-3.1.tar.xz"}
    assert pause["checksum_key"] == "images/pause-amd64-3.1.tar.xz"
    url = artifacts.plan(TABLE, ["etcd"], "https://files.lan/m", "/c")[0]
    assert (
        url["remote"] is True
        and url["fetch_path"] == "/c/etcd/3.3.27/etcd-v3.3.27-linux-amd64.tar.xz"
    )


def test_the_role_table_plans_for_the_project_mirror():
    """The role's real table (versions templated) plans every entry from a mirror."""
    table = yaml.safe_load((ROOT / "roles/artifacts/vars/main.yml").read_text())["artifacts_table"]
    for entry in table.values():
        entry["version"] = "1"
    plan = artifacts.plan(table, list(table), "/m", "/c")
    assert {p["name"] for p in plan} == set(table)
    assert all(p["src"].startswith("/m/") and p["checksum_url"] == "/m/SHA256SUMS" for p in plan)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (
            (TABLE, ["helm"], "", "/c"),
            r"'helm' is not in the artifact table; known artifacts: etcd, flannel",
        ),
        ((TABLE, ["etcd"], "mirror", "/c"), r"mirror: 'mirror' is neither an absolute directory"),
        (({"x": {"kind": "rpm"}}, ["x"], "", "/c"), r"table\[x\]: needs kind archive or image"),
    ],
)
def test_bad_requests(args, match):
    with pytest.raises(ArtifactsError, match=match):
        artifacts.plan(*args)


def test_expected_checksums_from_pins_lists_and_single_sums():
    plan = artifacts.plan(TABLE, ["kubernetes", "etcd", "flannel"], "", "/c")
    texts = {
        plan[1]["checksum_url"]: "%s  etcd-v3.3.27-linux-amd64.tar.gz\n%s *other\n"
        % (SHA.upper(), "b" * 64),
    }
    assert artifacts.expected_checksums(plan, texts) == {
        "kubernetes": "sha512:abc",
        "etcd": "sha256:" + SHA,
        "flannel": "",
    }
    mirror = artifacts.plan(TABLE, ["pause-amd64"], "/m", "/c")
    listed = {"/m/SHA256SUMS": "%s ./images/pause-amd64-3.1.tar.xz\n" % SHA}
    assert artifacts.expected_checksums(mirror, listed) == {"pause-amd64": "sha256:" + SHA}
    single = dict(plan[0], checksum="", checksum_url="u", checksum_key="k")
    assert artifacts.expected_checksums([single], {"u": "  %s\n" % SHA}) == {
        "kubernetes": "sha256:" + SHA
    }
    # A list without the file's line: no expected sum (the role stops naming the artifact).
    assert artifacts.expected_checksums(mirror, {"/m/SHA256SUMS": "%s other\n" % SHA}) == {
        "pause-amd64": ""
    }


def test_mismatches_report_what_was_expected_and_found():
    plan = artifacts.plan(TABLE, ["etcd", "pause-amd64"], "/m", "/c")
    expected = {"etcd": "sha256:" + SHA, "pause-amd64": "sha256:" + SHA}
    results = [
        {"item": plan[0], "stat": {"exists": True, "checksum": "b" * 64}},
        {"item": plan[1], "stat": {"exists": True, "checksum": SHA}},
        {"item": plan[1], "skipped": True},
        {"item": dict(plan[1], name="etcd"), "stat": {"exists": False}},
    ]
    bad = artifacts.mismatches(results, expected)
    assert [b["actual"] for b in bad] == ["sha256:" + "b" * 64, "no such file"]
    assert bad[0]["report"] == (
        "etcd-v3.3.27-linux-amd64.tar.xz (/m/etcd-v3.3.27-linux-amd64.tar.xz) expected sha256:%s"
        " (from /m/SHA256SUMS), actual sha256:%s" % (SHA, "b" * 64)
    )
    assert bad[0]["expected"] == expected["etcd"] and bad[0]["name"] == "etcd"


def test_install_set_binaries_links_images_and_the_record():
    plan = {p["name"]: p for p in artifacts.plan(TABLE, ["kubernetes", "pause-amd64"], "/m", "/c")}
    got = artifacts.install_set(
        plan,
        [
            {"artifact": "kubernetes", "files": ["kubelet"]},
            {"artifact": "kubernetes", "files": ["kubelet", "kubectl"]},
            {"artifact": "pause-amd64"},
        ],
        "/opt/kubebin/",
        "/usr/local/bin",
        "/var/lib/kubebin/images",
    )
    assert got["files"] == [
        {
            "artifact": "kubernetes",
            "src": "/c/kubernetes/1.10.13/kubernetes/server/bin/kubelet",
            "dest": "/opt/kubebin/kubernetes-1.10.13/bin/kubelet",
            "link": "/usr/local/bin/kubelet",
            "mode": "0755",
        },
        {
            "artifact": "kubernetes",
            "src": "/c/kubernetes/1.10.13/kubernetes/server/bin/kubectl",
            "dest": "/opt/kubebin/kubernetes-1.10.13/bin/kubectl",
            "link": "/usr/local/bin/kubectl",
            "mode": "0755",
        },
        {
            "artifact": "pause-amd64",
            "src": "/c/pause-amd64/3.1/pause-amd64-3.1.tar.xz",
            "dest": "/var/lib/kubebin/images/pause-amd64-3.1.tar.xz",
            "mode": "0644",
        },
    ]
    assert got["dirs"] == ["/opt/kubebin/kubernetes-1.10.13/bin", "/var/lib/kubebin/images"]
    assert got["installed"]["kubernetes"]["files"] == {
        "kubelet": "/opt/kubebin/kubernetes-1.10.13/bin/kubelet",
        "kubectl": "/opt/kubebin/kubernetes-1.10.13/bin/kubectl",
    }
    assert got["installed"]["pause-amd64"] == {
        "version": "3.1",
        "image": "k8s.gcr.io/pause-amd64:3.1",
        "path": "/var/lib/kubebin/images/pause-amd64-3.1.tar.xz",
    }
    # All of an archive's files when none are named.
    every = artifacts.install_set(plan, [{"artifact": "kubernetes", "files": []}], "/o", "/l", "/i")
    assert [f["dest"].rsplit("/", 1)[1] for f in every["files"]] == [
        "kubelet",
        "kube-proxy",
        "kubectl",
    ]
    with pytest.raises(ArtifactsError, match=r"etcd is not in this run's verified plan"):
        artifacts.install_set(plan, [{"artifact": "etcd"}], "/o", "/l", "/i")


def test_bad_install_files_names_artifact_and_file():
    assert artifacts.bad_install_files(
        TABLE,
        [
            {"artifact": "kubernetes", "files": ["kubelet", "kubeadm"]},
            {"artifact": "pause-amd64", "files": ["x"]},
            {"artifact": "helm", "files": ["helm"]},
        ],
    ) == ["kubernetes: kubeadm", "pause-amd64: x"]


def _cache_item(tmp_path, name, files=("a", "b")):
    paths = {f: str(tmp_path / name / f) for f in files}
    return {"name": name, "marker": str(tmp_path / name / ".kubebin-artifact.json"), "paths": paths}


def test_cached_names_need_the_expected_checksum_in_the_marker_and_every_file(tmp_path):
    want = {"full": "sha256:" + SHA, "stale": "sha256:" + SHA, "partial": "sha256:" + SHA}
    items = [_cache_item(tmp_path, n) for n in ("full", "stale", "partial", "absent", "garbled")]
    want["absent"] = want["garbled"] = "sha256:" + SHA
    for item in items[:3] + items[4:]:
        Path(item["marker"]).parent.mkdir(parents=True)
    Path(items[0]["marker"]).write_text('{"checksum": "sha256:%s"}' % SHA)
    Path(items[1]["marker"]).write_text('{"checksum": "sha256:%s"}' % ("b" * 64))
    Path(items[2]["marker"]).write_text('{"checksum": "sha256:%s"}' % SHA)
    Path(items[4]["marker"]).write_text("{not json")
    for item in items[:2]:
        for path in item["paths"].values():
            Path(path).write_text("x")
    Path(items[2]["paths"]["a"]).write_text("x")  # "b" missing
    assert artifacts.cached_names(items, want) == ["full"]


def test_image_load_args_keep_or_force_and_the_registry_alias():
    installed = {
        "pause-amd64": {"image": "k8s.gcr.io/pause-amd64:3.1", "path": "/opt/i/pause.tar"},
        "busybox": {"image": "busybox:1.28", "path": "/opt/i/busybox.tar"},
    }
    args = artifacts.image_load_args(
        ["pause-amd64", "busybox"], installed, "registry.lan:5000/", ["etcd"]
    )
    assert args == [
        "keep",
        "/opt/i/pause.tar",
        "k8s.gcr.io/pause-amd64:3.1",
        "registry.lan:5000/pause-amd64:3.1",
        "/opt/i/busybox.tar",
        "busybox:1.28",
        "registry.lan:5000/busybox:1.28",
    ]
    assert artifacts.image_load_args(["busybox"], installed, "r", ["busybox"])[0] == "force"
    assert artifacts.image_load_args([], installed, "r", []) == ["keep"]


def test_image_load_args_name_an_image_the_host_lacks():
    with pytest.raises(ArtifactsError, match="image kube-dns was not installed on this host"):
        artifacts.image_load_args(["kube-dns"], {}, "r", [])
    with pytest.raises(ArtifactsError, match="etcd is not an image artifact"):
        artifacts.image_load_args(["etcd"], {"etcd": {"bin_dir": "/x"}}, "r", [])


def test_install_set_names_files_an_artifact_lacks():
    plan = {p["name"]: p for p in artifacts.plan(TABLE, ["kubernetes", "pause-amd64"], "/m", "/c")}
    with pytest.raises(
        ArtifactsError, match="asks kubernetes for kubelett, which it does not have; it has kube"
    ):
        artifacts.install_set(
            plan, [{"artifact": "kubernetes", "files": ["kubelett"]}], "/o", "/l", "/i"
        )
    with pytest.raises(ArtifactsError, match="asks image pause-amd64 for files"):
        artifacts.install_set(
            plan, [{"artifact": "pause-amd64", "files": ["pause"]}], "/o", "/l", "/i"
        )
