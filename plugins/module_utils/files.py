# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing files only where they differ: shared by the write_files module (on a host), its
action plugin (files on the controller, written in-process) and the template_files action
plugin (render mode, on the controller), so all of them write alike."""

from __future__ import annotations

import os
import stat


def read_text(path):
    """The file's text ('' when it does not exist), for a diff."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def differs(path, data, mode):
    """Whether PATH lacks exactly DATA (bytes) with permissions MODE (an int)."""
    try:
        with open(path, "rb") as handle:
            if handle.read() != data:
                return True
        return stat.S_IMODE(os.stat(path).st_mode) != mode
    except FileNotFoundError:
        return True


def write(path, data, mode, check=None):
    """Write DATA to PATH with MODE through a temporary file next to it, making its parents.

    CHECK(tmp), when given, runs on the new content before it replaces PATH (a validator that
    raises or removes TMP to refuse it).
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".kubebin-tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    if check is not None:
        check(tmp)
    os.replace(tmp, path)


# kubebin.cluster.write_files' options (the module and its action plugin check them alike).
WRITE_FILES_SPEC = dict(
    root=dict(type="path", required=True),
    files=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            path=dict(type="str", required=True),
            content=dict(type="str", required=True),
            mode=dict(type="str", default="0644"),
            validate=dict(type="str"),
            validate_if_exists=dict(type="path"),
            service=dict(type="str"),
        ),
    ),
    dirs=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            path=dict(type="str", required=True),
            mode=dict(type="str", default="0755"),
        ),
    ),
    units=dict(
        type="dict",
        options=dict(
            names=dict(type="list", elements="str", required=True),
            restart=dict(type="list", elements="str", default=[]),
            enabled=dict(type="bool", default=True),
            requires=dict(type="list", elements="path", default=[]),
            watch=dict(type="dict", default={}),
        ),
    ),
)


class FilesError(Exception):
    """A file or directory request that cannot be carried out (the message names it)."""


def target(root, rel):
    """The absolute path of REL under ROOT; refuses paths that leave ROOT."""
    path = os.path.normpath(os.path.join(root, rel.lstrip("/")))
    if path != root and not path.startswith(root.rstrip("/") + "/"):
        raise FilesError("files: path %r leaves root %s" % (rel, root))
    return path


def octal(item):
    try:
        return int(str(item.get("mode") or "0644"), 8)
    except ValueError:
        raise FilesError("mode %r of %s is not octal" % (item.get("mode"), item["path"])) from None


def write_tree(root, files, dirs=(), *, check_mode=False, diff=False, validate=None):
    """Write FILES ({path, content, mode, validate, validate_if_exists}) and make DIRS
    ({path, mode}) under ROOT, each only where it differs: write_files' work.

    VALIDATE(command, tmp, dest) runs a file's validator on its new content (raising to
    refuse it); a file with a validator and no VALIDATE is refused. Returns
    {changed, written, changed_dirs[, diff]} (paths relative to ROOT) and the services
    (``service`` of each file written) under ``services``.
    """
    root = os.path.normpath(root)
    changed_dirs = []
    for item in dirs or []:
        mode = octal(dict(item, mode=item.get("mode") or "0755"))
        path = target(root, item["path"])
        if os.path.isdir(path) and stat.S_IMODE(os.stat(path).st_mode) == mode:
            continue
        if os.path.lexists(path) and not os.path.isdir(path):
            raise FilesError("dirs: %s exists and is not a directory" % path)
        changed_dirs.append(os.path.relpath(path, root))
        if not check_mode:
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)
    written, diffs, services = [], [], []
    for item in files:
        mode = octal(item)
        path = target(root, item["path"])
        data = item["content"].encode("utf-8")
        if not differs(path, data, mode):
            continue
        written.append(os.path.relpath(path, root))
        if item.get("service"):
            services.append(item["service"])
        if diff:
            diffs.append(
                dict(
                    before_header=path,
                    after_header=path,
                    before=read_text(path),
                    after=item["content"],
                )
            )
        if check_mode:
            continue
        check = None
        command = item.get("validate")
        if command and (
            not item.get("validate_if_exists") or os.path.exists(item["validate_if_exists"])
        ):
            if validate is None:
                raise FilesError("%s has a validator, which cannot run here" % path)

            def check(tmp, command=command, dest=path):
                validate(command, tmp, dest)

        write(path, data, mode, check)
    result = dict(
        changed=bool(written or changed_dirs),
        written=written,
        changed_dirs=changed_dirs,
        services=services,
    )
    if diff:
        result["diff"] = diffs
    return result
