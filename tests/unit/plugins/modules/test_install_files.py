"""install_files module, run for real in tmp_path (as root: it sets root ownership).

The action plugin's side (copying missing files from the controller between two module runs)
runs in tests/unit/roles/test_artifacts.py, through the artifacts role against localhost."""

import os

import pytest

from ansible_collections.kubebin.cluster.plugins.modules import install_files

from . import moduleutil

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="install_files sets root ownership")


def run(args, tmp_path, check=False):
    return moduleutil.run_module(install_files.__file__, args, tmp_path, check=check)


def layout(tmp_path):
    staged = tmp_path / "staged-etcd"
    staged.write_bytes(b"etcd 3.3.27")
    bin_dir = tmp_path / "opt" / "etcd-3.3.27" / "bin"
    dest = bin_dir / "etcd"
    link = tmp_path / "links" / "etcd"
    link.parent.mkdir()
    item = {"src": str(staged), "dest": str(dest), "link": str(link), "artifact": "etcd"}
    return staged, bin_dir, dest, link, item


def test_missing_file_is_reported_then_installed_from_the_staged_copy(tmp_path):
    staged, bin_dir, dest, link, item = layout(tmp_path)
    first = run({"dirs": [str(bin_dir)], "files": [item]}, tmp_path)
    assert first["missing"] == [str(dest)]
    assert first["changed_artifacts"] == ["etcd"]
    assert (bin_dir.stat().st_mode & 0o777) == 0o755
    assert (tmp_path / "opt").is_dir()  # missing parents are made too
    assert not link.exists() and not os.path.islink(link)  # the link waits for the file

    second = run({"dirs": [str(bin_dir)], "files": [dict(item, staged=True)]}, tmp_path)
    assert second["missing"] == []
    assert sorted(second["changed_files"]) == sorted([str(dest), str(link)])
    assert dest.read_bytes() == b"etcd 3.3.27"
    assert (dest.stat().st_mode & 0o777) == 0o755
    assert dest.stat().st_uid == 0
    assert os.readlink(link) == str(dest)
    assert not staged.exists()  # moved into place

    third = run({"dirs": [str(bin_dir)], "files": [item]}, tmp_path)
    assert third["changed"] is False, third
    assert third["missing"] == []


def test_a_wrong_mode_and_a_moved_link_are_corrected(tmp_path):
    bin_dir, dest, link, item = layout(tmp_path)[1:]
    bin_dir.mkdir(parents=True)
    dest.write_bytes(b"etcd 3.3.27")
    dest.chmod(0o700)
    other = tmp_path / "opt" / "etcd-3.3.28-etcd"
    other.write_bytes(b"newer")
    link.symlink_to(other)
    result = run({"files": [item]}, tmp_path)
    assert result["changed"] is True
    assert (dest.stat().st_mode & 0o777) == 0o755
    assert os.readlink(link) == str(dest)  # rollback: the link switches back


def test_check_mode_changes_nothing(tmp_path):
    bin_dir, dest, link, item = layout(tmp_path)[1:]
    result = run({"dirs": [str(bin_dir)], "files": [item]}, tmp_path, check=True)
    assert result["changed"] is True
    assert result["missing"] == [str(dest)]
    assert str(link) in result["changed_files"]
    assert not bin_dir.exists() and not link.exists()


def test_a_regular_file_where_the_link_goes_needs_link_force(tmp_path):
    bin_dir, dest, link, item = layout(tmp_path)[1:]
    bin_dir.mkdir(parents=True)
    dest.write_bytes(b"etcd 3.3.27")
    link.write_bytes(b"a binary someone copied by hand")
    refused = run({"files": [item]}, tmp_path)
    assert refused["failed"]
    assert str(link) in refused["msg"] and "link_force" in refused["msg"]
    assert link.read_bytes() == b"a binary someone copied by hand"
    forced = run({"files": [item], "link_force": True}, tmp_path)
    assert forced["changed"] is True
    assert os.readlink(link) == str(dest)


def test_verify_replaces_a_file_whose_checksum_differs(tmp_path):
    staged, bin_dir, dest, link, item = layout(tmp_path)
    assert not link.exists()
    bin_dir.mkdir(parents=True)
    dest.write_bytes(b"tampered")
    dest.chmod(0o755)
    want = __import__("hashlib").sha1(b"etcd 3.3.27").hexdigest()
    args = {"files": [dict(item, checksum=want)], "verify": True}
    assert run(dict(args, verify=False), tmp_path)["missing"] == []  # presence is enough
    assert run(args, tmp_path)["missing"] == [str(dest)]
    done = run({"files": [dict(item, checksum=want, staged=True)], "verify": True}, tmp_path)
    assert done["changed"] is True
    assert dest.read_bytes() == b"etcd 3.3.27"
    assert not staged.exists()
