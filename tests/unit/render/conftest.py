"""Renders of inventories/prod (playbooks/render.yml), once per session, and what checks them.

Both renders (the default 1.10.13 table and the current 1.35 one) run once, side by side, into
pytest's tmp dirs; so do the 1.10 renders per OS family and docker package (flavor_renders).
No host is contacted: ssh is replaced by a tripwire script that records any call and fails, so
a contact would show as UNREACHABLE and leave the tripwire's log behind.
"""

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ..playbook_runner import ANSIBLE_PLAYBOOK, ROOT, run_playbook

PLAYBOOK = ROOT / "playbooks" / "render.yml"
INVENTORY = ROOT / "inventories" / "prod"
RELEASES = ROOT / "plugins" / "plugin_utils" / "kube_releases.yml"
RENDER_TIMEOUT = 600

# The 1.10 release whose real binaries check the rendered flags.
K8S_VERSION = "1.10.13"
K8S_TARBALL = f"kubernetes-server-v{K8S_VERSION}-linux-amd64.tar.xz"
K8S_BIN_IN_TARBALL = "kubernetes/server/bin"
K8S_CACHE_BIN = (
    Path.home()
    / ".cache"
    / "kubebin"
    / "artifacts"
    / "kubernetes"
    / K8S_VERSION
    / K8S_BIN_IN_TARBALL
)
COMPONENTS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)

# kubernetes-validate with the current release's schemas (make kv-current), outside the venv.
KV_CURRENT = ROOT / ".state" / "kv-current"

SYSTEMD_DIR = "etc/systemd/system"


@dataclass
class Render:
    """One run of playbooks/render.yml: its table's minor, output directory and run."""

    minor: str
    root: Path
    rc: int
    out: str
    tripwire_log: Path

    @property
    def table(self):
        return version_table(self.minor)

    def host(self, name):
        return self.root / "hosts" / name

    def hosts(self):
        return sorted(p.name for p in (self.root / "hosts").iterdir())

    def manifests(self):
        return sorted((self.root / "manifests").glob("*.yaml"))

    def units(self, host=None):
        """{(host, unit name): path} of every rendered unit file (not drop-ins)."""
        hosts = [host] if host else self.hosts()
        return {
            (h, p.name): p
            for h in hosts
            for p in sorted((self.host(h) / SYSTEMD_DIR).glob("*.service"))
        }


def version_table(minor):
    """What every role shares about release MINOR (the cluster model's kube.release)."""
    return yaml.safe_load(RELEASES.read_text())[minor]


def exec_start(unit_path):
    """The ExecStart= command line of a unit (backslash continuations joined), as argv."""
    logical, current = [], ""
    for line in unit_path.read_text().splitlines():
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    commands = [line[len("ExecStart=") :] for line in logical if line.startswith("ExecStart=")]
    commands = [c for c in commands if c.strip()]
    assert len(commands) == 1, f"{unit_path}: expected one ExecStart=, got {commands}"
    return shlex.split(commands[0])


def component_flags(unit_path):
    """(component, ["--flag=value", ...]) when the unit runs a Kubernetes component, else None."""
    argv = exec_start(unit_path)
    name = os.path.basename(argv[0])
    if name not in COMPONENTS:
        return None
    return name, argv[1:]


def tripwire(tmp_path_factory):
    """An ssh stand-in that logs its arguments and fails (no packet is ever sent)."""
    base = tmp_path_factory.mktemp("tripwire")
    log = base / "ssh-calls.log"
    script = base / "ssh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {shlex.quote(str(log))}\nexit 255\n')
    script.chmod(0o755)
    return script, log


def no_contact_args(script):
    return ("-e", f"ansible_ssh_executable={script}")


@pytest.fixture(scope="session")
def ssh_tripwire(tmp_path_factory):
    return tripwire(tmp_path_factory)


@pytest.fixture(scope="session")
def renders(tmp_path_factory, ssh_tripwire):
    """{"1.10": Render, "1.35": Render}: both renders of inventories/prod, run in parallel."""
    script, log = ssh_tripwire
    requests = {"1.10": (), "1.35": ("-e", "cluster_kube_version=1.35.0")}
    roots = {minor: tmp_path_factory.mktemp(f"render-{minor}") for minor in requests}

    def run(minor):
        return run_playbook(
            PLAYBOOK,
            INVENTORY,
            "-e",
            f"render_dir={roots[minor]}",
            *requests[minor],
            *no_contact_args(script),
            timeout=RENDER_TIMEOUT,
        )

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        results = dict(zip(requests, pool.map(run, requests)))
    return {
        minor: Render(minor, roots[minor], rc, out, log) for minor, (rc, out) in results.items()
    }


# The 1.10 (docker) render per OS family and docker package: (render_os_family,
# runtime_docker_flavor). RedHat's auto is CentOS 7's own docker.
FAMILY_FLAVORS = (("Debian", "auto"), ("RedHat", "auto"), ("RedHat", "docker-ce"))


@pytest.fixture(scope="session")
def flavor_renders(tmp_path_factory, ssh_tripwire):
    """{(family, flavor): Render} of inventories/prod for each of FAMILY_FLAVORS, run in
    parallel, with runtime_docker_selinux=true (as on an SELinux host; facts are not gathered)."""
    script, log = ssh_tripwire
    roots = {
        case: tmp_path_factory.mktemp(f"render-{case[0]}-{case[1]}") for case in FAMILY_FLAVORS
    }

    def run(case):
        family, flavor = case
        return run_playbook(
            PLAYBOOK,
            INVENTORY,
            "-e", f"render_dir={roots[case]}",
            "-e", f"render_os_family={family}",
            "-e", f"runtime_docker_flavor={flavor}",
            "-e", "runtime_docker_selinux=true",
            *no_contact_args(script),
            timeout=RENDER_TIMEOUT,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=len(FAMILY_FLAVORS)) as pool:
        results = dict(zip(FAMILY_FLAVORS, pool.map(run, FAMILY_FLAVORS)))
    return {case: Render("1.10", roots[case], rc, out, log) for case, (rc, out) in results.items()}


@pytest.fixture(scope="session")
def render_110(renders):
    render = renders["1.10"]
    assert render.rc == 0, render.out
    return render


@pytest.fixture(scope="session")
def render_135(renders):
    render = renders["1.35"]
    assert render.rc == 0, render.out
    return render


@pytest.fixture(scope="session")
def prod_groups():
    """{group: [hosts]} of inventories/prod, as Ansible reads it (children resolved)."""
    inventory_cmd = Path(ANSIBLE_PLAYBOOK).with_name("ansible-inventory")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    proc = subprocess.run(
        [str(inventory_cmd), "-i", str(INVENTORY), "--list", "--export"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(proc.stdout)

    def members(group):
        entry = data.get(group, {})
        hosts = set(entry.get("hosts", []))
        for child in entry.get("children", []):
            hosts |= members(child)
        return hosts

    return {group: sorted(members(group)) for group in data if group != "_meta"}


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _has_binaries(directory):
    return all(os.access(directory / name, os.X_OK) for name in COMPONENTS)


@pytest.fixture(scope="session")
def k8s_bin(tmp_path_factory):
    """Directory with the real v1.10.13 server binaries: the controller's artifact cache, or
    else unpacked here from the offline mirror (KUBEBIN_ARTIFACTS_MIRROR), checksum verified."""
    if _has_binaries(K8S_CACHE_BIN):
        return K8S_CACHE_BIN
    mirror = os.environ.get("KUBEBIN_ARTIFACTS_MIRROR")
    if not mirror or not Path(mirror, "SHA256SUMS").is_file():
        pytest.skip(
            f"no Kubernetes {K8S_VERSION} binaries: {K8S_CACHE_BIN} is empty and "
            "KUBEBIN_ARTIFACTS_MIRROR is not set to a mirror directory (run via make unit)"
        )
    sums = {}
    for line in Path(mirror, "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(None, 1)
            sums[name.strip().lstrip("*")] = digest
    tarball = Path(mirror, K8S_TARBALL)
    assert K8S_TARBALL in sums, f"{K8S_TARBALL} not listed in {mirror}/SHA256SUMS"
    assert _sha256(tarball) == sums[K8S_TARBALL], f"{tarball}: sha256 mismatch with SHA256SUMS"
    dest = tmp_path_factory.mktemp("k8s-bin")
    wanted = {f"{K8S_BIN_IN_TARBALL}/{name}" for name in COMPONENTS}
    # Extract while streaming through the archive: xz cannot seek back cheaply.
    with tarfile.open(tarball, "r:xz") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if name in wanted:
                member.name = name
                tar.extract(member, dest, filter="data")
                wanted.discard(name)
                if not wanted:
                    break
    assert not wanted, f"{tarball}: missing {sorted(wanted)}"
    bin_dir = dest / K8S_BIN_IN_TARBALL
    assert _has_binaries(bin_dir), f"{bin_dir}: binaries not executable after unpacking"
    return bin_dir


@pytest.fixture(scope="session")
def kv_current():
    """PYTHONPATH entry with kubernetes-validate 1.37 (schemas for 1.25 .. 1.37)."""
    if not (KV_CURRENT / "kubernetes_validate").is_dir():
        pytest.skip(f"{KV_CURRENT} is not installed: run `make kv-current` (make unit does)")
    return KV_CURRENT


@pytest.fixture(scope="session")
def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if not path:
        pytest.skip("systemd-analyze is not installed here (molecule checks units on real hosts)")
    return path
