"""kernel_modules: presence detection on a fake sysfs/procfs, and the module run for real."""

from pathlib import Path

import pytest

from ansible_collections.kubebin.cluster.plugins.module_utils import kmod as km
from ansible_collections.kubebin.cluster.plugins.modules import kernel_modules

from . import moduleutil

MODULE_FILE = Path(kernel_modules.__file__)


@pytest.fixture
def root(tmp_path):
    (tmp_path / "sys/module/nf_conntrack").mkdir(parents=True)
    (tmp_path / "proc/sys/net/bridge").mkdir(parents=True)
    (tmp_path / "proc/sys/net/bridge/bridge-nf-call-iptables").write_text("1\n")
    (tmp_path / "lib/modules/6.1.0-test").mkdir(parents=True)
    (tmp_path / "lib/modules/6.1.0-test/modules.builtin").write_text(
        "kernel/net/netfilter/ipvs/ip_vs.ko\nkernel/fs/overlayfs/overlay.ko\nkernel/drivers/x-y.ko\n"
    )
    return str(tmp_path)


def test_builtin_modules_reads_modules_builtin(root):
    assert km.builtin_modules("6.1.0-test", root) == {"ip_vs", "overlay", "x_y"}


def test_builtin_modules_without_the_file_is_empty(root):
    assert km.builtin_modules("5.0.0-absent", root) == set()


@pytest.mark.parametrize(
    ("name", "present"),
    [
        ("nf_conntrack", True),  # loaded: /sys/module entry
        ("ip_vs", True),  # built in: modules.builtin
        ("br_netfilter", True),  # built in without sysfs entry: feature path
        ("x-y", True),  # dashes and underscores are the same module
        ("ip_vs_rr", False),
        ("rbd", False),
    ],
)
def test_is_present(root, name, present):
    builtin = km.builtin_modules("6.1.0-test", root)
    assert km.is_present(name, builtin, root) is present


def test_feature_path_alone_is_not_enough_for_other_modules(root):
    # /proc/net/ip_vs is ip_vs's feature path; it must not make ip_vs_rr present.
    (Path(root) / "proc/net").mkdir(parents=True)
    (Path(root) / "proc/net/ip_vs").write_text("")
    assert km.is_present("ip_vs", set(), root)
    assert not km.is_present("ip_vs_rr", set(), root)


def run_module(args, tmp_path):
    return moduleutil.run_module(MODULE_FILE, args, tmp_path)


def test_module_never_fails_on_an_absent_module(tmp_path):
    names = ["kubebin_no_such_module", "nf_conntrack"]
    result = run_module({"names": names, "_ansible_check_mode": True}, tmp_path)
    assert not result.get("failed"), result
    assert "kubebin_no_such_module" in result["missing"]
    # Every name lands in exactly one of the three lists.
    buckets = result["present"] + result["loaded"] + result["missing"]
    assert sorted(buckets) == sorted(names)


def test_module_report_only_mode_loads_nothing(tmp_path):
    result = run_module({"names": ["kubebin_no_such_module"], "load": False}, tmp_path)
    assert result["changed"] is False
    assert result["loaded"] == []
    assert result["missing"] == ["kubebin_no_such_module"]


def test_module_rejects_bad_arguments(tmp_path):
    result = run_module({"names": ["ip_vs"], "bogus": 1}, tmp_path)
    assert result["failed"]
    assert "bogus" in result["msg"]
