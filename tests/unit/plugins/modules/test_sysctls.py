"""sysctls module, run for real on this machine's /proc/sys (values chosen so nothing changes)."""

from pathlib import Path

from ansible_collections.kubebin.cluster.plugins.module_utils import sysctl as sysctl_utils
from ansible_collections.kubebin.cluster.plugins.modules import sysctls

from . import moduleutil

OSTYPE = Path("/proc/sys/kernel/ostype").read_text().strip()  # "Linux": exists everywhere


def run(args, tmp_path, check=False, diff=False):
    return moduleutil.run_module(sysctls.__file__, args, tmp_path, check=check, diff=diff)


def test_writes_the_file_and_is_idempotent(tmp_path):
    path = tmp_path / "sysctl.d" / "90-test.conf"
    args = {
        "path": str(path),
        "values": {"kernel.ostype": OSTYPE},
        "optional": {"kubebin.no_such_sysctl": 1},
    }
    first = run(args, tmp_path)
    assert first["changed"] is True and first["file_changed"] is True
    assert first["live_changed"] == []  # the live value already matches
    assert first["skipped"] == ["kubebin.no_such_sysctl"]
    assert first["applied"] == {"kernel.ostype": OSTYPE}
    assert path.read_text().splitlines()[1:] == [f"kernel.ostype = {OSTYPE}"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    second = run(args, tmp_path)
    assert second["changed"] is False


def test_check_mode_writes_nothing_and_shows_a_diff(tmp_path):
    path = tmp_path / "90-test.conf"
    result = run(
        {"path": str(path), "values": {"kernel.ostype": OSTYPE}}, tmp_path, check=True, diff=True
    )
    assert result["changed"] is True
    assert not path.exists()
    assert f"kernel.ostype = {OSTYPE}" in result["diff"]["after"]


def test_a_required_sysctl_the_kernel_lacks_is_an_error_naming_it(tmp_path):
    result = run(
        {"path": str(tmp_path / "x.conf"), "values": {"kubebin.no_such_sysctl": 1}}, tmp_path
    )
    assert result["failed"]
    assert "kubebin.no_such_sysctl" in result["msg"]
    assert "optional" in result["msg"]
    assert not (tmp_path / "x.conf").exists()


def test_values_compare_with_whitespace_normalised():
    assert sysctl_utils.norm("1024\t65000 ") == sysctl_utils.norm("1024 65000")
    assert sysctl_utils.norm(True) == "1"
