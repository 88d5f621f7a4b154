"""The rendered command lines: every 1.10 flag is one the real v1.10.13 binary knows, and the
1.35 ones carry none of the flags that were removed since 1.10."""

import subprocess

import pytest

from .conftest import COMPONENTS, K8S_VERSION, component_flags

# Flags the 1.10 units need but later releases dropped: none may reach the 1.35 units.
REMOVED_SINCE_1_10 = {
    "kube-apiserver": {
        # The unauthenticated port: forced to 0 in 1.20, the flag removed in 1.24.
        "insecure-port",
        # Redundant since 1.13 dropped etcd2: etcd3 is the only (and default) backend.
        "storage-backend",
        # Removed in 1.14 (malformed updates are always rejected since).
        "repair-malformed-updates",
        # Renamed encryption-provider-config in 1.13 (the 1.35 table sets that).
        "experimental-encryption-provider-config",
    },
    "kube-controller-manager": {
        # Insecure serving (--address/--port) gone by 1.24: HTTPS on --bind-address only.
        "address",
    },
    "kube-scheduler": {
        # Same as the controller manager: insecure serving removed, --bind-address remains.
        "address",
    },
    "kubelet": {
        # Removed in 1.15: privileged containers are governed by admission (Pod Security).
        "allow-privileged",
        # Deprecated in 1.27 (the sandbox image is the CRI runtime's setting), due out in 1.35.
        "pod-infra-container-image",
    },
    "kube-proxy": set(),
}


def flag_check(binary, flags):
    """(return code, output) of BINARY FLAGS... --version: it parses every flag, then stops."""
    proc = subprocess.run(
        [str(binary), *flags, "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def without_usage(out):
    """The output minus the flag list a rejected command line prints (indented lines)."""
    return "\n".join(line for line in out.splitlines() if line and not line[0].isspace())


def rendered_command_lines(render, component):
    """{(host, unit): flags} of every rendered unit that runs COMPONENT."""
    found = {}
    for key, path in render.units().items():
        parsed = component_flags(path)
        if parsed and parsed[0] == component:
            found[key] = parsed[1]
    return found


def flag_name(flag):
    return flag.split("=", 1)[0].removeprefix("--")


@pytest.mark.parametrize("minor", ["1.10", "1.35"])
def test_command_lines_are_one_flag_a_line_each_set_once(renders, minor):
    render = renders[minor]
    assert render.rc == 0, render.out
    for component in COMPONENTS:
        lines = rendered_command_lines(render, component)
        assert lines, f"no unit runs {component}"
        for (host, unit), flags in lines.items():
            bad = [f for f in flags if not (f.startswith("--") and "=" in f)]
            assert not bad, f"{host}:{unit}: not --flag=value: {bad}"
            names = [flag_name(f) for f in flags]
            twice = sorted({n for n in names if names.count(n) > 1})
            assert not twice, f"{host}:{unit}: set more than once: {twice}"


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_real_1_10_binary_accepts_every_rendered_flag(render_110, k8s_bin, component):
    lines = rendered_command_lines(render_110, component)
    assert lines, f"no unit runs {component}"
    failures = []
    for (host, unit), flags in sorted(lines.items()):
        rc, out = flag_check(k8s_bin / component, flags)
        if rc != 0 or f"Kubernetes v{K8S_VERSION}" not in out:
            failures.append(f"{host}:{unit} (exit {rc}):\n{without_usage(out)}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_flag_check_fails_on_an_unknown_flag(render_110, k8s_bin, component):
    """Control: the same command line plus one bogus flag is rejected by the binary."""
    flags = next(iter(rendered_command_lines(render_110, component).values()))
    rc, out = flag_check(k8s_bin / component, [*flags, "--no-such-flag=1"])
    assert rc != 0, out
    assert "unknown flag: --no-such-flag" in out, without_usage(out)
    assert f"Kubernetes v{K8S_VERSION}" not in out


def test_1_35_units_carry_no_flag_removed_since_1_10(render_135):
    found = []
    for component, removed in REMOVED_SINCE_1_10.items():
        for (host, unit), flags in rendered_command_lines(render_135, component).items():
            found += [f"{host}:{unit}: {f}" for f in flags if flag_name(f) in removed]
    assert not found, "\n".join(found)


def test_the_removed_flags_are_in_the_1_10_units(render_110):
    """Control: the list above is not stale, 1.10 does use every one of those flags."""
    for component, removed in REMOVED_SINCE_1_10.items():
        used = {
            flag_name(f)
            for flags in rendered_command_lines(render_110, component).values()
            for f in flags
        }
        assert removed <= used, f"{component}: {sorted(removed - used)} not in the 1.10 units"


def proxy_config_check(binary, flags, out_file):
    """kube-proxy 1.10 validates its whole configuration before --write-config-to writes it:
    the check `--version` cannot make (flags that parse but do not validate)."""
    proc = subprocess.run(
        [str(binary), *flags, f"--write-config-to={out_file}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_kube_proxy_1_10_validates_the_rendered_configuration(render_110, k8s_bin, tmp_path):
    failures = []
    for (host, unit), flags in sorted(rendered_command_lines(render_110, "kube-proxy").items()):
        out_file = tmp_path / f"{host}.yaml"
        rc, out = proxy_config_check(k8s_bin / "kube-proxy", flags, out_file)
        if rc != 0 or "mode: ipvs" not in (out_file.read_text() if out_file.exists() else ""):
            failures.append(f"{host}:{unit} (exit {rc}):\n{without_usage(out)}")
    assert not failures, "\n\n".join(failures)


def test_kube_proxy_validation_catches_what_parses_but_is_invalid(render_110, k8s_bin, tmp_path):
    """Control: 1.10 parses --metrics-bind-address=127.0.0.1, then rejects it (wants IP:port)."""
    flags = next(iter(rendered_command_lines(render_110, "kube-proxy").values()))
    bad = [*flags, "--metrics-bind-address=127.0.0.1"]
    assert flag_check(k8s_bin / "kube-proxy", bad)[0] == 0
    rc, out = proxy_config_check(k8s_bin / "kube-proxy", bad, tmp_path / "bad.yaml")
    assert rc != 0 and "must be IP:port" in out, without_usage(out)
