"""write_files module: files and directories under a root, for real in tmp_path."""

from ansible_collections.kubebin.cluster.plugins.modules import write_files

from . import moduleutil


def run(args, tmp_path, check=False, diff=False):
    return moduleutil.run_module(write_files.__file__, args, tmp_path, check=check, diff=diff)


def test_files_and_directories_once(tmp_path):
    root = tmp_path / "root"
    args = {
        "root": str(root),
        "dirs": [{"path": "/etc/secret", "mode": "0700"}],
        "files": [
            {"path": "/etc/secret/key.conf", "content": "k=1\n", "mode": "0600"},
            {"path": "etc/plain.conf", "content": "p=2\n"},
        ],
    }
    first = run(args, tmp_path)
    assert first["changed"] is True
    assert first["changed_dirs"] == ["etc/secret"]
    assert sorted(first["written"]) == ["etc/plain.conf", "etc/secret/key.conf"]
    assert (root / "etc" / "secret").stat().st_mode & 0o777 == 0o700
    assert (root / "etc" / "secret" / "key.conf").stat().st_mode & 0o777 == 0o600
    assert (root / "etc" / "plain.conf").read_text() == "p=2\n"
    second = run(args, tmp_path)
    assert second["changed"] is False, second

    # A directory's mode drifts: corrected, and not reported as a written file.
    (root / "etc" / "secret").chmod(0o755)
    third = run(args, tmp_path)
    assert third["changed"] is True
    assert third["changed_dirs"] == ["etc/secret"] and third["written"] == []
    assert (root / "etc" / "secret").stat().st_mode & 0o777 == 0o700


def test_check_mode_writes_nothing_and_shows_the_diff(tmp_path):
    root = tmp_path / "root"
    args = {
        "root": str(root),
        "dirs": [{"path": "d"}],
        "files": [{"path": "d/f", "content": "new\n"}],
    }
    result = run(args, tmp_path, check=True, diff=True)
    assert result["changed"] is True
    assert result["written"] == ["d/f"] and result["changed_dirs"] == ["d"]
    assert not root.exists()
    assert result["diff"][0]["after"] == "new\n"


def test_paths_that_leave_the_root_are_refused(tmp_path):
    root = tmp_path / "root"
    result = run({"root": str(root), "files": [{"path": "../escape", "content": "x"}]}, tmp_path)
    assert result["failed"] and "leaves root" in result["msg"]
    bad_dir = run({"root": str(root), "dirs": [{"path": "../up"}], "files": []}, tmp_path)
    assert bad_dir["failed"] and "leaves root" in bad_dir["msg"]
    assert not (tmp_path / "escape").exists() and not (tmp_path / "up").exists()


def test_validate_must_accept_the_new_content(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "app.conf").write_text("good\n")

    def args(content):
        file = {"path": "app.conf", "content": content, "validate": "grep -qx good %s"}
        return {"root": str(root), "files": [file]}

    assert run(args("good\n"), tmp_path)["changed"] is False  # unchanged: not even validated
    bad = args("bad\n")
    refused = run(bad, tmp_path)
    assert refused["failed"]
    assert "app.conf was not written: grep refused it" in refused["msg"]
    assert (root / "app.conf").read_text() == "good\n"
    assert [p.name for p in root.iterdir()] == ["app.conf"]  # no temporary file left


def test_validation_waits_for_its_tool(tmp_path):
    """validate_if_exists: validated only once the validator is there (dnsmasq before its
    package is installed)."""
    root = tmp_path / "root"
    tool = tmp_path / "tool"
    args = {
        "root": str(root),
        "files": [
            {
                "path": "etc/app.conf",
                "content": "v=1\n",
                "validate": "false %s",
                "validate_if_exists": str(tool),
            }
        ],
    }
    first = run(args, tmp_path)
    assert first["changed"] is True and (root / "etc" / "app.conf").read_text() == "v=1\n"
    tool.write_text("")
    args["files"][0]["content"] = "v=2\n"
    refused = run(args, tmp_path)
    assert refused.get("failed") is True, refused
    assert "false refused it" in refused["msg"]
    assert (root / "etc" / "app.conf").read_text() == "v=1\n"
