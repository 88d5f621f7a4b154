"""swap_off module on a scratch fstab (never this machine's swap: see the skip)."""

from pathlib import Path

import pytest

from ansible_collections.kubebin.cluster.plugins.modules import swap_off

from . import moduleutil

ACTIVE = [line for line in Path("/proc/swaps").read_text().splitlines()[1:] if line.strip()]
pytestmark = pytest.mark.skipif(
    bool(ACTIVE), reason="this machine has active swap; the module would turn it off"
)

FSTAB = """# /etc/fstab
UUID=1234 / ext4 errors=remount-ro 0 1
/swapfile none swap sw 0 0
# /old-swap none swap sw 0 0
/dev/sdb1 none  swap  defaults 0 0
"""


def run(args, tmp_path, check=False, diff=False):
    return moduleutil.run_module(swap_off.__file__, args, tmp_path, check=check, diff=diff)


def test_comments_out_the_swap_lines_once(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text(FSTAB)
    fstab.chmod(0o644)
    first = run({"fstab": str(fstab)}, tmp_path)
    assert first["changed"] is True
    assert first["devices"] == []
    assert first["fstab_lines"] == [
        "/swapfile none swap sw 0 0",
        "/dev/sdb1 none  swap  defaults 0 0",
    ]
    lines = fstab.read_text().splitlines()
    assert lines[1] == "UUID=1234 / ext4 errors=remount-ro 0 1"
    assert lines[2] == "# /swapfile none swap sw 0 0  # swap off: kubebin.cluster.node_prep"
    assert lines[3] == "# /old-swap none swap sw 0 0"  # already a comment: untouched
    assert lines[4].startswith("# /dev/sdb1 none  swap")
    assert (fstab.stat().st_mode & 0o777) == 0o644
    second = run({"fstab": str(fstab)}, tmp_path)
    assert second["changed"] is False


def test_check_mode_shows_the_change_and_writes_nothing(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text(FSTAB)
    result = run({"fstab": str(fstab)}, tmp_path, check=True, diff=True)
    assert result["changed"] is True
    assert fstab.read_text() == FSTAB
    assert "# /swapfile none swap sw 0 0  # swap off" in result["diff"]["after"]


def test_no_fstab_is_not_an_error(tmp_path):
    result = run({"fstab": str(tmp_path / "none")}, tmp_path)
    assert result["changed"] is False
    assert not result.get("failed")
