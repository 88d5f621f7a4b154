"""The docker drop-in means what each docker package needs (render mode, inventories/prod).

CentOS 7's own docker (the seed's) ships no docker.socket, so `-H fd://` would leave dockerd
with no socket; its unit's flags for its own runc, proxy and init must stay. docker-ce and
Debian's docker.io are socket-activated. No flag may repeat a daemon.json key: dockerd refuses
a setting given both ways.
"""

import json
import re

import pytest

from .conftest import FAMILY_FLAVORS

DROP_IN = "etc/systemd/system/docker.service.d/10-kubebin.conf"
DAEMON = "etc/docker/daemon.json"
CASES = {
    # (family, flavor): (dockerd, socket-activated, environment files before flannel's)
    ("Debian", "auto"): ("/usr/sbin/dockerd", True, []),
    ("RedHat", "auto"): ("/usr/bin/dockerd-current", False, ["-/etc/sysconfig/docker"]),
    ("RedHat", "docker-ce"): ("/usr/bin/dockerd", True, []),
}


@pytest.fixture(scope="module")
def flavors(flavor_renders):
    """{(family, flavor): node1's rendered files} (conftest's flavor_renders)."""
    assert set(flavor_renders) == set(CASES) == set(FAMILY_FLAVORS)
    out = {}
    for case, render in flavor_renders.items():
        assert render.rc == 0, render.out
        out[case] = render.host("node1")
    log = next(iter(flavor_renders.values())).tripwire_log
    assert not log.exists(), log.read_text()
    return out


def exec_start(drop_in):
    lines = [line for line in drop_in.splitlines() if line.startswith("ExecStart=")]
    assert lines[0] == "ExecStart=", "the package's ExecStart is cleared first"
    return lines[1][len("ExecStart=") :].split()


@pytest.mark.parametrize(("family", "flavor"), sorted(CASES))
def test_dockerd_and_its_socket(flavors, family, flavor):
    binary, socket, env_files = CASES[family, flavor]
    drop_in = (flavors[family, flavor] / DROP_IN).read_text()
    argv = exec_start(drop_in)
    assert argv[0] == binary
    assert ("fd://" in argv) is socket, argv
    assert argv[-1] == "$DOCKER_NETWORK_OPTIONS"
    files = re.findall(r"^EnvironmentFile=(.*)$", drop_in, re.MULTILINE)
    assert files == [*env_files, "/run/flannel/docker"]


def test_centos_docker_keeps_its_own_runtime_proxy_and_init(flavors):
    argv = exec_start((flavors["RedHat", "auto"] / DROP_IN).read_text())
    joined = " ".join(argv)
    assert "--add-runtime docker-runc=/usr/libexec/docker/docker-runc-current" in joined
    assert "--default-runtime=docker-runc" in argv
    assert "--userland-proxy-path=/usr/libexec/docker/docker-proxy-current" in argv
    assert "--init-path=/usr/libexec/docker/docker-init-current" in argv
    # Its $OPTIONS would add --log-driver=journald and --selinux-enabled, which daemon.json sets.
    assert "$OPTIONS" not in argv and "$DOCKER_STORAGE_OPTIONS" not in argv


@pytest.mark.parametrize(("family", "flavor"), sorted(CASES))
def test_no_setting_is_given_as_a_flag_and_in_daemon_json(flavors, family, flavor):
    node = flavors[family, flavor]
    daemon = json.loads((node / DAEMON).read_text())
    flags = {
        a[2:].split("=", 1)[0]
        for a in exec_start((node / DROP_IN).read_text())
        if a.startswith("--")
    }
    assert not flags & set(daemon), flags & set(daemon)
    assert daemon["selinux-enabled"] is True  # runtime_docker_selinux
    assert daemon["exec-opts"] == ["native.cgroupdriver=cgroupfs"]  # kubelet's, 1.10
