"""packages module: the package-database query, for real on this machine (nothing installed:
only packages it has, or check mode; installing runs on the lab hosts, in the molecule
scenarios). Never apt-get here: it could refresh the lists from the network."""

import os
import shutil
import time

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


def test_apt_lists_are_stale_when_empty_or_old(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    stamp = tmp_path / "update-success-stamp"
    # A fresh image: the directory was just emptied, so it is recent - but it holds nothing.
    assert packages.lists_stale(3600, str(lists), str(stamp)) is True
    listed = lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
    listed.write_text("")
    assert packages.lists_stale(3600, str(lists), str(stamp)) is False
    old = time.time() - 7200
    os.utime(lists, (old, old))
    assert packages.lists_stale(3600, str(lists), str(stamp)) is True
    stamp.write_text("")  # apt's own stamp of the last update, when it has one
    assert packages.lists_stale(3600, str(lists), str(stamp)) is False
