"""packages module: the package-database query, for real on this machine (nothing installed:
only packages it has, or check mode)."""

import shutil
from pathlib import Path

import pytest

from ansible_collections.kubebin.cluster.plugins.modules import packages

from . import moduleutil

pytestmark = pytest.mark.skipif(
    not shutil.which("dpkg-query") and not shutil.which("rpm"),
    reason="this machine has neither dpkg-query nor rpm",
)
PRESENT = ["bash", "coreutils"]  # on every Debian and RedHat machine


def run(args, tmp_path, check=False):
    return moduleutil.run_module(packages.__file__, args, tmp_path, check=check)


def test_installed_packages_need_nothing(tmp_path):
    result = run({"names": PRESENT}, tmp_path)
    assert result["changed"] is False, result
    assert result["missing"] == []
    assert result["manager"] in ("apt-get", "dnf", "yum")


def test_check_mode_reports_what_is_missing_and_installs_nothing(tmp_path):
    names = [*PRESENT, "kubebin-no-such-package", "bash=0.0-pinned"]
    result = run({"names": names}, tmp_path, check=True)
    assert result["changed"] is True
    # A pinned name is not in the database under that name: the package manager decides.
    assert result["missing"] == ["kubebin-no-such-package", "bash=0.0-pinned"]


@pytest.mark.skipif(
    not shutil.which("apt-get") or not Path("/var/lib/apt/lists").is_dir(),
    reason="needs apt-get with its lists (no refresh: this test must not touch the network)",
)
def test_a_package_that_cannot_be_installed_fails_naming_it(tmp_path):
    result = run({"names": ["kubebin-no-such-package"], "cache_valid_time": 10**9}, tmp_path)
    assert result["failed"]
    assert "kubebin-no-such-package" in result["msg"]
