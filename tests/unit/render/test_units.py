"""systemd-analyze verify accepts every rendered unit (and drop-in), when it is installed here.

The commands the units run are not installed on this machine: each is replaced by an empty
executable stub of the same name, and the units a drop-in extends (docker.service,
containerd.service: they come with the OS package) by a minimal stub unit. Everything else
is verified as rendered; any message from systemd-analyze (an unknown key, a bad value, a
missing dependency) fails the test.
"""

import os
import re
import subprocess

import pytest

from .conftest import SYSTEMD_DIR

EXEC = re.compile(r"^(Exec[A-Za-z]+=)([-@:+!|]*)(/[^\s\\]+)", re.MULTILINE)


def stub(bin_dir, name):
    """An empty executable BIN_DIR/NAME."""
    target = bin_dir / name
    if not target.exists():
        target.write_text("#!/bin/sh\n")
        target.chmod(0o755)
    return target


def stub_commands(text, bin_dir):
    """TEXT with each Exec*= command replaced by a stub of the same name."""

    def replace(match):
        key, prefix, command = match.groups()
        return f"{key}{prefix}{stub(bin_dir, os.path.basename(command))}"

    return EXEC.sub(replace, text)


def verify(systemd_analyze, units_dir, names):
    """(return code, messages) of systemd-analyze verify on NAMES, units_dir searched first."""
    proc = subprocess.run(
        [systemd_analyze, "verify", "--man=no", *names],
        # Our units first; the trailing colon keeps systemd's own (targets and the like).
        env=dict(os.environ, SYSTEMD_UNIT_PATH=f"{units_dir}:"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def test_verify_reports_a_bad_unit(systemd_analyze, tmp_path):
    """Control: an unknown key and a missing dependency are reported."""
    unit = tmp_path / "bad.service"
    unit.write_text(
        "[Unit]\nRequires=kubebin-nonexistent.service\n[Service]\nExecStart=/bin/true\nBogus=1\n"
    )
    rc, out = verify(systemd_analyze, tmp_path, [str(unit)])
    assert "Bogus" in out, out
    assert rc != 0 and "kubebin-nonexistent.service" in out, out


def verify_render(render, systemd_analyze, tmp_path):
    """systemd-analyze verify on every host's units of RENDER: (failures, {host: unit names},
    names of the stubbed commands)."""
    assert render.rc == 0, render.out
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    failures, verified = [], {}
    for host in render.hosts():
        source = render.host(host) / SYSTEMD_DIR
        units = tmp_path / "units" / host
        units.mkdir(parents=True)
        for path in sorted(source.rglob("*")):
            if path.is_file():
                target = units / path.relative_to(source)
                target.parent.mkdir(exist_ok=True)
                target.write_text(stub_commands(path.read_text(), bin_dir))
        for dropins in sorted(source.glob("*.service.d")):
            base = units / dropins.name[: -len(".d")]
            if not base.exists():
                base.write_text(f"[Service]\nExecStart={stub(bin_dir, base.stem)}\n")
        names = sorted(str(p) for p in units.glob("*.service"))
        if not names:  # a host with configuration files only (the office's dnsmasq)
            continue
        rc, out = verify(systemd_analyze, units, names)
        verified[host] = sorted(os.path.basename(n) for n in names)
        if rc != 0 or out:
            failures.append(f"{host} (exit {rc}):\n{out}")
    return failures, verified, sorted(p.name for p in bin_dir.iterdir())


@pytest.mark.parametrize("minor", ["1.10", "1.35"])
def test_rendered_units_verify(renders, minor, systemd_analyze, tmp_path):
    failures, _verified, _messages = verify_render(renders[minor], systemd_analyze, tmp_path)
    assert not failures, "\n\n".join(failures)


# The RedHat renders (render_os_family=RedHat): CentOS 7's own docker (flavor auto: no
# docker.socket, dockerd-current, /etc/sysconfig/docker) and docker-ce. Debian's is the 1.10
# render above. The dockerd each drop-in runs is among the stubbed commands, so its unit was
# verified.
@pytest.mark.parametrize(
    ("case", "dockerd"),
    [(("RedHat", "auto"), "dockerd-current"), (("RedHat", "docker-ce"), "dockerd")],
    ids=["RedHat-centos-docker", "RedHat-docker-ce"],
)
def test_rendered_units_verify_per_family_and_docker(
    flavor_renders, case, dockerd, systemd_analyze, tmp_path
):
    render = flavor_renders[case]
    failures, verified, stubbed = verify_render(render, systemd_analyze, tmp_path)
    assert not failures, "\n\n".join(failures)
    assert "docker.service" in verified["node1"], verified
    assert dockerd in stubbed, stubbed
