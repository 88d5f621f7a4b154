"""The artifacts role, run for real against localhost (no network, no lab hosts).

The controller side (plan, checksum sources, verification, unpacking, the cache) and the
install entry point are exercised with tiny fake release tarballs built in tmp_path, served
from a directory mirror, from an HTTP mirror on 127.0.0.1, and through the role's upstream
code path (table URLs pointed at that local server). The official upstream URLs cannot be
reached from here: their rendering is checked instead.
"""

import functools
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = shutil.which(
    "ansible-playbook", path=str(ROOT / ".venv" / "bin")
) or shutil.which("ansible-playbook")
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="install sets root ownership")

K8S_UPSTREAM = "https://dl.k8s.io/v1.10.13/kubernetes-server-linux-amd64.tar.gz"
K8S_SHA512 = (
    "sha512:6ece286535569786579233809fee92307a103c30947e1350fa009fab29b9f45e"
    "82c065f6d3576025ea1499c9a58ee97d2386f540aee3e789aa0b2aaf2b388aca"
)
ETCD_UPSTREAM = (
    "https://github.com/etcd-io/etcd/releases/download/v3.3.27/etcd-v3.3.27-linux-amd64.tar.gz"
)
ETCD_SUMS = "https://github.com/etcd-io/etcd/releases/download/v3.3.27/SHA256SUMS"
FLANNEL_UPSTREAM = (
    "https://github.com/flannel-io/flannel/releases/download/v0.10.0/"
    "flannel-v0.10.0-linux-amd64.tar.gz"
)
K8S_FILES = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
]
IMAGES = [
    "pause-amd64",
    "k8s-dns-kube-dns-amd64",
    "k8s-dns-dnsmasq-nanny-amd64",
    "k8s-dns-sidecar-amd64",
    "filebeat",
    "rbd-provisioner",
]


# --- helpers -------------------------------------------------------------------------------


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def script(text):
    return f"#!/bin/sh\necho '{text}'\n".encode()


def make_tarball(path, members, mode="w:xz"):
    """members: {name inside the archive: bytes}; directories are implied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as tar:
        dirs = sorted({str(Path(n).parent) for n in members} - {"."})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def etcd_members(version):
    top = f"etcd-v{version}-linux-amd64"
    return {
        f"{top}/etcd": script(f"etcd Version: {version}"),
        f"{top}/etcdctl": script(f"etcdctl version: {version}"),
    }


def flannel_members(version="0.10.0"):
    return {"flanneld": script(f"v{version}"), "mk-docker-opts.sh": script("opts")}


def write_sums(mirror, overrides=None):
    """SHA256SUMS over every file of the mirror; overrides: {relpath: sum} (lies)."""
    overrides = overrides or {}
    lines = []
    for f in sorted(p for p in mirror.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        rel = f.relative_to(mirror).as_posix()
        lines.append(f"{overrides.get(rel, sha256(f))}  {rel}\n")
    (mirror / "SHA256SUMS").write_text("".join(lines))


def fake_mirror(base, etcd_versions=("3.3.27",)):
    mirror = base / "mirror"
    for v in etcd_versions:
        make_tarball(mirror / f"etcd-v{v}-linux-amd64.tar.xz", etcd_members(v))
    make_tarball(mirror / "flannel-v0.10.0-linux-amd64.tar.xz", flannel_members())
    (mirror / "images").mkdir(parents=True, exist_ok=True)
    (mirror / "images" / "pause-amd64-3.1.tar.xz").write_bytes(b"not really an image")
    write_sums(mirror)
    return mirror


def env():
    e = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    e["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{e.get('PATH', '')}"
    e["NO_PROXY"] = e["no_proxy"] = "127.0.0.1,localhost"
    # One line per message (the yaml result format folds long ones).
    e["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    # No inventory: these plays run on the implicit localhost only.
    e.pop("ANSIBLE_INVENTORY", None)
    return e


def run_playbook(tmp_path, plays, extra=None, *args):
    book = tmp_path / f"play-{len(list(tmp_path.glob('play-*.yml')))}.yml"
    book.write_text(yaml.safe_dump(plays, sort_keys=False))
    cmd = [ANSIBLE_PLAYBOOK, str(book)]
    if extra is not None:
        vars_file = book.with_suffix(".vars.json")
        vars_file.write_text(json.dumps(extra))
        cmd += ["-e", f"@{vars_file}"]
    proc = subprocess.run(
        [*cmd, *args],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def changed(out):
    m = re.search(r"localhost\s+:\s+ok=\d+\s+changed=(\d+)", out)
    assert m, out
    return int(m.group(1))


# The role alone, without the cluster model its versions default to: the releases as inputs.
VERSIONS = {
    "artifacts_kube_version": "1.10.13",
    "artifacts_etcd_version": "3.3.27",
    "artifacts_flannel_version": "v0.10.0",
}


def one_play(tasks):
    return [
        {
            "name": "t",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": VERSIONS,
            "tasks": tasks,
        }
    ]


def role_task(entry, **vars_):
    return {
        "name": f"artifacts {entry}",
        "ansible.builtin.include_role": {"name": "kubebin.cluster.artifacts", "tasks_from": entry},
        "vars": vars_,
    }


def install_vars(tmp_path, mirror, install, **more):
    (tmp_path / "host" / "usr-local-bin").mkdir(parents=True, exist_ok=True)
    return {
        "kubebin_artifacts_mirror": str(mirror),
        "artifacts_cache_dir": str(tmp_path / "cache"),
        "artifacts_install": install,
        "artifacts_install_root": str(tmp_path / "host" / "opt-kubebin"),
        "artifacts_link_dir": str(tmp_path / "host" / "usr-local-bin"),
        "artifacts_images_dir": str(tmp_path / "host" / "images"),
        **more,
    }


def install(tmp_path, variables, *args):
    tasks = [
        role_task("install"),
        {
            "name": "Save the facts",
            "ansible.builtin.copy": {
                "content": "{{ {'installed': artifacts_installed, 'changed': artifacts_changed}"
                " | to_json }}",
                "dest": str(tmp_path / "facts.json"),
                "mode": "0644",
            },
            "check_mode": False,
            "changed_when": False,
        },
    ]
    return run_playbook(tmp_path, one_play(tasks), variables, *args)


def plans(tmp_path, cases):
    """Run tasks_from: plan once per case (dict of vars); return each case's artifacts_plan."""
    tasks = []
    for i, case in enumerate(cases):
        tasks.append(role_task("plan", **case))
        tasks.append(
            {
                "name": f"Save plan {i}",
                "ansible.builtin.copy": {
                    "content": "{{ artifacts_plan | to_json }}",
                    "dest": str(tmp_path / f"plan-{i}.json"),
                    "mode": "0644",
                },
            }
        )
    rc, out = run_playbook(tmp_path, one_play(tasks))
    assert rc == 0, out
    return [
        {p["name"]: p for p in json.loads((tmp_path / f"plan-{i}.json").read_text())}
        for i in range(len(cases))
    ]


@pytest.fixture
def http_server():
    """Serve directories over HTTP on 127.0.0.1; yields start(directory) -> base URL."""
    servers = []

    def start(directory):
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- the plan: URLs, file names, checksum sources, cache layout (no network) ----------------


def test_plan_renders_the_official_urls(tmp_path):
    pin = {"flannel": {"upstream": {"checksums": {"0.10.0": "sha256:" + "a" * 64}}}}
    default, with_v, newer = plans(
        tmp_path,
        [
            {"artifacts_cache_dir": "/c", "artifacts_table_extra": pin},
            {
                "artifacts_cache_dir": "/c",
                "artifacts_table_extra": pin,
                "artifacts_kube_version": "v1.10.13",
                "artifacts_etcd_version": "v3.3.27",
                "artifacts_flannel_version": "0.10.0",
            },
            {
                "artifacts_cache_dir": "/c",
                "artifacts_fetch": ["kubernetes"],
                "artifacts_kube_version": "1.11.10",
            },
        ],
    )
    # Without a mirror: the binaries only (image tarballs are not published upstream).
    assert sorted(default) == ["etcd", "flannel", "kubernetes"]
    for plan in (default, with_v):
        k8s, etcd, flannel = plan["kubernetes"], plan["etcd"], plan["flannel"]
        assert k8s["src"] == K8S_UPSTREAM
        assert k8s["file"] == "kubernetes-server-linux-amd64.tar.gz"
        assert k8s["checksum"] == K8S_SHA512  # pinned from the 1.10 release notes
        assert k8s["checksum_url"] == ""
        assert k8s["version"] == "1.10.13"
        assert k8s["cache_dir"] == "/c/kubernetes/1.10.13"
        assert k8s["fetch_path"] == "/c/kubernetes/1.10.13/kubernetes-server-linux-amd64.tar.gz"
        assert k8s["remote"] is True
        assert k8s["members"] == [f"kubernetes/server/bin/{f}" for f in K8S_FILES]
        assert k8s["paths"]["kubelet"] == "/c/kubernetes/1.10.13/kubernetes/server/bin/kubelet"

        assert etcd["src"] == ETCD_UPSTREAM
        assert etcd["checksum"] == ""
        assert etcd["checksum_url"] == ETCD_SUMS
        assert etcd["checksum_key"] == "etcd-v3.3.27-linux-amd64.tar.gz"
        assert etcd["members"] == [
            "etcd-v3.3.27-linux-amd64/etcd",
            "etcd-v3.3.27-linux-amd64/etcdctl",
        ]
        assert etcd["cache_dir"] == "/c/etcd/3.3.27"

        assert flannel["src"] == FLANNEL_UPSTREAM
        assert flannel["version"] == "0.10.0"
        assert flannel["members"] == ["flanneld", "mk-docker-opts.sh"]
        assert flannel["paths"] == {
            "flanneld": "/c/flannel/0.10.0/flanneld",
            "mk-docker-opts.sh": "/c/flannel/0.10.0/mk-docker-opts.sh",
        }
    # A release without a pinned sum: the .sha256 dl.k8s.io publishes beside the tarball.
    k8s = newer["kubernetes"]
    assert k8s["src"] == "https://dl.k8s.io/v1.11.10/kubernetes-server-linux-amd64.tar.gz"
    assert k8s["checksum"] == ""
    assert k8s["checksum_url"] == k8s["src"] + ".sha256"


def test_plan_with_mirrors(tmp_path):
    home = os.environ["HOME"]
    local, remote = plans(
        tmp_path,
        [
            {"kubebin_artifacts_mirror": "/srv/mirror/", "artifacts_cache_dir": "~/kb"},
            {
                "kubebin_artifacts_mirror": "https://files.example.net/kubebin/",
                "artifacts_cache_dir": "/c",
                "artifacts_kube_version": "v1.10.13",
            },
        ],
    )
    # A mirror provides everything, the images too.
    assert sorted(local) == sorted(["kubernetes", "etcd", "flannel", *IMAGES])
    k8s = local["kubernetes"]
    assert k8s["src"] == "/srv/mirror/kubernetes-server-v1.10.13-linux-amd64.tar.xz"
    assert k8s["remote"] is False
    assert k8s["fetch_path"] == k8s["src"]  # verified in place, never copied or changed
    assert k8s["checksum"] == ""
    assert k8s["checksum_url"] == "/srv/mirror/SHA256SUMS"
    assert k8s["checksum_key"] == "kubernetes-server-v1.10.13-linux-amd64.tar.xz"
    assert k8s["cache_dir"] == f"{home}/kb/kubernetes/1.10.13"
    assert k8s["members"] == [f"kubernetes/server/bin/{f}" for f in K8S_FILES]
    assert local["etcd"]["src"] == "/srv/mirror/etcd-v3.3.27-linux-amd64.tar.xz"
    assert local["flannel"]["src"] == "/srv/mirror/flannel-v0.10.0-linux-amd64.tar.xz"
    pause = local["pause-amd64"]
    assert pause["kind"] == "image"
    assert pause["image"] == "k8s.gcr.io/pause-amd64:3.1"
    assert pause["checksum_key"] == "images/pause-amd64-3.1.tar.xz"
    assert pause["paths"] == {
        "pause-amd64-3.1.tar.xz": f"{home}/kb/pause-amd64/3.1/pause-amd64-3.1.tar.xz"
    }
    rbd = local["rbd-provisioner"]
    assert rbd["src"] == "/srv/mirror/images/rbd-provisioner-v2.1.1-k8s1.11.tar.xz"
    assert rbd["image"] == "quay.io/external_storage/rbd-provisioner:v2.1.1-k8s1.11"
    assert rbd["version"] == "2.1.1-k8s1.11"
    for name in ("k8s-dns-kube-dns-amd64", "k8s-dns-dnsmasq-nanny-amd64", "k8s-dns-sidecar-amd64"):
        assert local[name]["src"] == f"/srv/mirror/images/{name}-1.14.10.tar.xz"
        assert local[name]["image"] == f"k8s.gcr.io/{name}:1.14.10"

    k8s = remote["kubernetes"]
    assert k8s["src"] == (
        "https://files.example.net/kubebin/kubernetes-server-v1.10.13-linux-amd64.tar.xz"
    )
    assert k8s["remote"] is True
    assert k8s["checksum_url"] == "https://files.example.net/kubebin/SHA256SUMS"
    assert (
        k8s["fetch_path"] == "/c/kubernetes/1.10.13/kubernetes-server-v1.10.13-linux-amd64.tar.xz"
    )


def test_real_mirror_holds_every_table_file(tmp_path):
    """The workspace's offline mirror (KUBEBIN_ARTIFACTS_MIRROR) matches the table."""
    mirror = os.environ.get("KUBEBIN_ARTIFACTS_MIRROR")
    if not mirror or not Path(mirror, "SHA256SUMS").is_file():
        pytest.skip("KUBEBIN_ARTIFACTS_MIRROR is not set to a mirror directory")
    (plan,) = plans(tmp_path, [{"kubebin_artifacts_mirror": mirror, "artifacts_cache_dir": "/c"}])
    sums = dict(
        reversed(line.split(None, 1))
        for line in Path(mirror, "SHA256SUMS").read_text().splitlines()
    )
    for item in plan.values():
        assert item["checksum_key"] in sums, item["name"]
        assert Path(item["src"]).is_file(), item["src"]


# --- stops with a clear message, before anything is fetched or installed -------------------


@pytest.mark.parametrize(
    ("variables", "needles"),
    [
        pytest.param(
            {"artifacts_fetch": ["flannel"]},
            ["No checksum source for flannel 0.10.0", FLANNEL_UPSTREAM, "artifacts_table_extra"],
            id="upstream-flannel-unpinned",
        ),
        pytest.param(
            {"artifacts_fetch": ["pause-amd64", "etcd"]},
            ["No source for pause-amd64", "kubebin_artifacts_mirror"],
            id="image-without-mirror",
        ),
        pytest.param(
            {"artifacts_fetch": ["etcd", "kube-router"]},
            ["Unknown artifact(s) kube-router"],
            id="unknown-artifact",
        ),
        pytest.param(
            {"kubebin_artifacts_mirror": "relative/mirror"},
            ["'relative/mirror'", "absolute directory"],
            id="relative-mirror",
        ),
        pytest.param(
            {
                "artifacts_fetch": ["flannel"],
                "artifacts_table_extra": {
                    "flannel": {"upstream": {"checksums": {"0.10.0": "md5:0123abcd"}}}
                },
            },
            ["Malformed pinned checksum(s): flannel md5:0123abcd"],
            id="malformed-pin",
        ),
        pytest.param(
            {"kubebin_artifacts_mirror": "/nonexistent/kubebin-mirror"},
            ["/nonexistent/kubebin-mirror, which has no", "SHA256SUMS"],
            id="mirror-without-sums",
        ),
    ],
)
def test_bad_settings_stop_on_the_controller(tmp_path, variables, needles):
    variables = {"artifacts_cache_dir": str(tmp_path / "cache"), **variables}
    rc, out = run_playbook(tmp_path, one_play([role_task("main")]), variables)
    assert rc != 0, out
    for needle in needles:
        assert needle in out, f"{needle!r} not in output:\n{out}"
    assert not (tmp_path / "cache").exists()


def test_http_mirror_without_sums_stops(tmp_path, http_server):
    base = http_server(tmp_path)
    variables = {"kubebin_artifacts_mirror": base, "artifacts_cache_dir": str(tmp_path / "c")}
    rc, out = run_playbook(tmp_path, one_play([role_task("main")]), variables)
    assert rc != 0, out
    assert f"Could not read the checksum list(s) {base}/SHA256SUMS" in out, out
    assert "404" in out
    assert not (tmp_path / "c").exists()


def test_install_rejects_unknown_files(tmp_path):
    mirror = fake_mirror(tmp_path)
    rc, out = install(
        tmp_path, install_vars(tmp_path, mirror, [{"artifact": "etcd", "files": ["etcd", "etcd2"]}])
    )
    assert rc != 0, out
    assert "etcd: etcd2" in out, out
    assert not (tmp_path / "cache").exists()


# --- the wrong-checksum path -----------------------------------------------------------------


def test_wrong_checksum_stops_before_anything_is_installed(tmp_path):
    mirror = fake_mirror(tmp_path)
    archive = mirror / "etcd-v3.3.27-linux-amd64.tar.xz"
    actual = sha256(archive)
    wrong = "0123456789abcdef" * 4
    write_sums(mirror, {"etcd-v3.3.27-linux-amd64.tar.xz": wrong})
    variables = install_vars(
        tmp_path,
        mirror,
        [{"artifact": "etcd", "files": ["etcd", "etcdctl"]}, {"artifact": "flannel"}],
    )
    rc, out = install(tmp_path, variables)
    assert rc != 0, out
    assert "Checksum mismatch, nothing was unpacked or installed on any host" in out, out
    assert "etcd-v3.3.27-linux-amd64.tar.xz" in out
    assert f"expected sha256:{wrong}" in out
    assert f"actual sha256:{actual}" in out
    assert str(mirror / "SHA256SUMS") in out
    # Nothing on the "host", nothing unpacked or marked in the cache, the mirror untouched.
    assert not (tmp_path / "host" / "opt-kubebin").exists()
    assert list((tmp_path / "host" / "usr-local-bin").iterdir()) == []
    assert not (tmp_path / "cache" / "etcd" / "3.3.27" / "etcd-v3.3.27-linux-amd64").exists()
    assert not list((tmp_path / "cache").rglob(".kubebin-artifact.json"))
    assert sha256(archive) == actual


def test_sums_without_a_line_for_the_file_stop(tmp_path):
    mirror = fake_mirror(tmp_path)
    sums = mirror / "SHA256SUMS"
    lines = sums.read_text().splitlines(keepends=True)
    sums.write_text("".join(line for line in lines if "flannel" not in line))
    rc, out = install(tmp_path, install_vars(tmp_path, mirror, [{"artifact": "flannel"}]))
    assert rc != 0, out
    assert "No checksum for flannel-v0.10.0-linux-amd64.tar.xz" in out, out
    assert not (tmp_path / "host" / "opt-kubebin").exists()


# --- the good path: fetch once, install, idempotence, upgrade and rollback -----------------


@needs_root
def test_mirror_directory_install_is_idempotent_and_versioned(tmp_path):
    mirror = fake_mirror(tmp_path, etcd_versions=("3.3.27", "3.3.28"))
    variables = install_vars(
        tmp_path,
        mirror,
        [
            {"artifact": "etcd", "files": ["etcd", "etcdctl"]},
            {"artifact": "flannel", "files": ["mk-docker-opts.sh"]},
        ],
    )
    opt, links = tmp_path / "host" / "opt-kubebin", tmp_path / "host" / "usr-local-bin"
    cache = tmp_path / "cache"

    rc, out = install(tmp_path, variables)
    assert rc == 0, out
    etcd = opt / "etcd-3.3.27" / "bin" / "etcd"
    assert etcd.is_file()
    assert etcd.stat().st_mode & 0o777 == 0o755
    assert (opt / "etcd-3.3.27").stat().st_mode & 0o777 == 0o755
    assert (links / "etcd").resolve() == etcd
    assert (links / "etcdctl").resolve() == opt / "etcd-3.3.27" / "bin" / "etcdctl"
    assert not (links / "flanneld").exists()  # only the files asked for
    assert (links / "mk-docker-opts.sh").resolve() == (
        opt / "flannel-0.10.0" / "bin" / "mk-docker-opts.sh"
    )
    cached = cache / "etcd" / "3.3.27" / "etcd-v3.3.27-linux-amd64" / "etcd"
    assert sha256(etcd) == sha256(cached)
    assert etcd.read_bytes() == etcd_members("3.3.27")["etcd-v3.3.27-linux-amd64/etcd"]
    marker = json.loads((cache / "etcd" / "3.3.27" / ".kubebin-artifact.json").read_text())
    assert marker["checksum"] == "sha256:" + sha256(mirror / "etcd-v3.3.27-linux-amd64.tar.xz")
    assert marker["source"] == str(mirror / "etcd-v3.3.27-linux-amd64.tar.xz")
    assert marker["checksum_source"] == str(mirror / "SHA256SUMS")
    facts = json.loads((tmp_path / "facts.json").read_text())
    assert sorted(facts["changed"]) == ["etcd", "flannel"]
    assert facts["installed"]["etcd"] == {
        "version": "3.3.27",
        "bin_dir": str(opt / "etcd-3.3.27" / "bin"),
        "files": {f: str(opt / "etcd-3.3.27" / "bin" / f) for f in ("etcd", "etcdctl")},
        "links": {f: str(links / f) for f in ("etcd", "etcdctl")},
    }

    rc, out = install(tmp_path, variables)
    assert rc == 0, out
    assert changed(out) == 0, out
    assert json.loads((tmp_path / "facts.json").read_text())["changed"] == []

    # --check --diff on the converged host: nothing to do.
    rc, out = install(tmp_path, variables, "--check", "--diff")
    assert rc == 0, out
    assert changed(out) == 0, out

    # Upgrade: a new versioned directory, the link switches; the old version stays.
    only_etcd = {**variables, "artifacts_install": [{"artifact": "etcd", "files": ["etcd"]}]}
    rc, out = install(tmp_path, {**only_etcd, "artifacts_etcd_version": "v3.3.28"})
    assert rc == 0, out
    assert (links / "etcd").resolve() == opt / "etcd-3.3.28" / "bin" / "etcd"
    assert etcd.is_file()
    assert json.loads((tmp_path / "facts.json").read_text())["changed"] == ["etcd"]

    # Rollback: the link switches back, from the cache (nothing fetched, nothing copied).
    rc, out = install(tmp_path, only_etcd)
    assert rc == 0, out
    assert (links / "etcd").resolve() == etcd
    assert changed(out) == 1, out  # the links task only

    # A damaged cache entry is unpacked again; the host, already right, does not change.
    cached.unlink()
    rc, out = install(tmp_path, only_etcd)
    assert rc == 0, out
    assert cached.read_bytes() == etcd_members("3.3.27")["etcd-v3.3.27-linux-amd64/etcd"]
    assert changed(out) > 0
    assert json.loads((tmp_path / "facts.json").read_text())["changed"] == []


@needs_root
def test_http_mirror_downloads_once_and_removes_bad_downloads(tmp_path, http_server):
    mirror = fake_mirror(tmp_path)
    base = http_server(mirror)
    variables = install_vars(
        tmp_path,
        base + "/",
        [{"artifact": "etcd", "files": ["etcdctl"]}, {"artifact": "pause-amd64"}],
    )
    rc, out = install(tmp_path, variables)
    assert rc == 0, out
    cache_dir = tmp_path / "cache" / "etcd" / "3.3.27"
    assert (cache_dir / "etcd-v3.3.27-linux-amd64" / "etcdctl").is_file()
    assert not (cache_dir / "etcd-v3.3.27-linux-amd64.tar.xz").exists()  # unpacked, removed
    assert (tmp_path / "cache" / "pause-amd64" / "3.1" / "pause-amd64-3.1.tar.xz").is_file()
    assert (tmp_path / "host" / "usr-local-bin" / "etcdctl").resolve().is_file()
    image = tmp_path / "host" / "images" / "pause-amd64-3.1.tar.xz"
    assert image.read_bytes() == b"not really an image"
    assert image.stat().st_mode & 0o777 == 0o644
    assert json.loads((tmp_path / "facts.json").read_text())["installed"]["pause-amd64"] == {
        "version": "3.1",
        "image": "k8s.gcr.io/pause-amd64:3.1",
        "path": str(image),
    }
    rc, out = install(tmp_path, variables)
    assert rc == 0, out
    assert changed(out) == 0, out

    # The mirror now lies about flannel: the download is verified, removed, and the run stops.
    wrong = "f" * 64
    write_sums(mirror, {"flannel-v0.10.0-linux-amd64.tar.xz": wrong})
    rc, out = install(tmp_path, {**variables, "artifacts_install": [{"artifact": "flannel"}]})
    assert rc != 0, out
    assert f"expected sha256:{wrong}" in out, out
    assert f"{base}/flannel-v0.10.0-linux-amd64.tar.xz" in out
    assert "The download was removed from the cache." in out
    assert not list((tmp_path / "cache" / "flannel").rglob("*.tar.xz"))
    assert not (tmp_path / "host" / "opt-kubebin" / "flannel-0.10.0").exists()


@needs_root
def test_upstream_code_path_with_each_kind_of_checksum_source(tmp_path, http_server):
    """The upstream path, with the table's URLs pointed at 127.0.0.1: a pinned sha512
    (kubernetes), a SHA256SUMS list (etcd) and a single-sum .sha256 file (flannel)."""
    up = tmp_path / "upstream"
    k8s = make_tarball(
        up / "kubernetes-server-linux-amd64.tar.gz",
        {f"kubernetes/server/bin/{f}": script(f"{f} v1.10.13") for f in K8S_FILES}
        | {"kubernetes/server/bin/kube-apiserver.tar": b"an image the role must not unpack"},
        mode="w:gz",
    )
    etcd = make_tarball(up / "etcd-v3.3.27-linux-amd64.tar.gz", etcd_members("3.3.27"), "w:gz")
    flannel = make_tarball(up / "flannel-v0.10.0-linux-amd64.tar.gz", flannel_members(), "w:gz")
    (up / "SHA256SUMS").write_text(
        f"{'e' * 64}  etcd-v3.3.27-linux-arm64.tar.gz\n"
        f"{sha256(etcd)}  etcd-v3.3.27-linux-amd64.tar.gz\n"
    )
    (up / "flannel.sha256").write_text(sha256(flannel) + "\n")
    base = http_server(up)
    k8s_sha512 = hashlib.sha512(k8s.read_bytes()).hexdigest()
    extra = {
        "kubernetes": {
            "upstream": {
                "url": f"{base}/kubernetes-server-linux-amd64.tar.gz",
                "checksums": {"1.10.13": f"sha512:{k8s_sha512}"},
            }
        },
        "etcd": {
            "upstream": {
                "url": f"{base}/etcd-v3.3.27-linux-amd64.tar.gz",
                "checksum_url": f"{base}/SHA256SUMS",
            }
        },
        "flannel": {
            "upstream": {
                "url": f"{base}/flannel-v0.10.0-linux-amd64.tar.gz",
                "checksum_url": f"{base}/flannel.sha256",
            }
        },
    }
    variables = install_vars(
        tmp_path,
        "",
        [
            {"artifact": "kubernetes", "files": ["kubelet"]},
            {"artifact": "etcd", "files": ["etcdctl"]},
            {"artifact": "flannel", "files": ["flanneld"]},
        ],
        artifacts_table_extra=extra,
    )
    rc, out = install(tmp_path, variables)
    assert rc == 0, out
    cache = tmp_path / "cache"
    marker = json.loads((cache / "kubernetes" / "1.10.13" / ".kubebin-artifact.json").read_text())
    assert marker["checksum"] == f"sha512:{k8s_sha512}"
    assert marker["checksum_source"] == "pinned in the artifact table"
    bin_dir = cache / "kubernetes" / "1.10.13" / "kubernetes" / "server" / "bin"
    assert sorted(p.name for p in bin_dir.iterdir()) == sorted(K8S_FILES)  # only the binaries
    assert (
        json.loads((cache / "etcd" / "3.3.27" / ".kubebin-artifact.json").read_text())["checksum"]
        == f"sha256:{sha256(etcd)}"
    )
    host = tmp_path / "host"
    assert sorted(p.name for p in (host / "usr-local-bin").iterdir()) == [
        "etcdctl",
        "flanneld",
        "kubelet",
    ]
    assert (cache / "flannel" / "0.10.0" / "mk-docker-opts.sh").is_file()  # cached, not installed
    assert not list(cache.rglob("*.tar.gz"))  # downloads are removed once unpacked

    # The pinned sha512 no longer matches a new kubernetes build: stop, remove, name both sums.
    extra["kubernetes"]["upstream"]["checksums"]["1.10.14"] = f"sha512:{k8s_sha512}"
    make_tarball(k8s, {"kubernetes/server/bin/kubelet": script("tampered")}, mode="w:gz")
    actual = hashlib.sha512(k8s.read_bytes()).hexdigest()
    rc, out = install(
        tmp_path,
        {
            **variables,
            "artifacts_kube_version": "1.10.14",
            "artifacts_table_extra": extra,
            "artifacts_install": [{"artifact": "kubernetes", "files": ["kubelet"]}],
        },
    )
    assert rc != 0, out
    assert f"expected sha512:{k8s_sha512}" in out, out
    assert f"actual sha512:{actual}" in out
    assert "the pinned table entry" in out
    assert not (cache / "kubernetes" / "1.10.14" / "kubernetes").exists()
    assert not (host / "opt-kubebin" / "kubernetes-1.10.14").exists()
