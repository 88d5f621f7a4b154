#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: install_files
short_description: Install versioned files from the controller and point links at them, in one step
version_added: "0.1.0"
description:
  - Puts each of O(files) on the host (root-owned, with its mode), creating O(dirs) first, and
    points each file's O(files[].link) at it. A file already at its O(files[].dest) is left
    alone (its path carries the version, so its presence means it is that version) unless
    O(verify) is set, then its checksum is compared with the controller's copy.
  - An action plugin does the work in one module run when the host is already right, and in
    two when something is missing (the missing files are copied from the controller between
    them). A loop of M(ansible.builtin.copy) and M(ansible.builtin.file) costs two module runs
    per file, every run.
  - Used by the artifacts role (C(tasks_from=install)) for binaries and image tarballs.
  - With O(report), the module also returns the install state of those directories and the
    links of O(report_links) (RV(state)); the action plugin keeps it as the fact
    C(kubebin_install_state) for the rest of the run, and a later task whose every directory,
    file (root-owned, its mode) and link that state already shows right costs no module run
    (a host gets binaries from several roles in one run; on a converged host the first install
    task confirms them all). Not with O(verify).
  - Supports check mode (missing files and wrong links are reported, nothing is copied).
options:
  files:
    description: The files to install.
    type: list
    elements: dict
    required: true
    suboptions:
      src:
        description:
          - The file on the controller (the action plugin copies it when the host lacks it; the
            module itself receives the path of that copy on the host).
        type: path
        required: true
      dest:
        description: Where the file goes on the host (a versioned path).
        type: path
        required: true
      mode:
        description: Octal permissions of O(files[].dest).
        type: str
        default: "0755"
      link:
        description: A symbolic link to point at O(files[].dest) (upgrade and rollback switch it).
        type: path
      artifact:
        description: The artifact the file belongs to (reported in RV(changed_artifacts)).
        type: str
      checksum:
        description: SHA-1 of the controller's file (set by the action plugin when O(verify) is on).
        type: str
      staged:
        description:
          - Set by the action plugin - O(files[].src) is the copy it made on the host, to be moved
            into place.
        type: bool
        default: false
  dirs:
    description: Directories to create first (root-owned, 0755, with any missing parents).
    type: list
    elements: path
    default: []
  verify:
    description:
      - Compare the checksum of a file already on the host with the controller's and replace it
        when they differ (reads every file on both sides; off by default).
    type: bool
    default: false
  link_force:
    description: Replace a regular file that stands where a link should be.
    type: bool
    default: false
  report:
    description: Directories whose state (directories and files, mode and owner) to return.
    type: list
    elements: path
    default: []
  report_links:
    description: A directory whose links (path and target) to return with the state.
    type: path
  record:
    description:
      - Handled by the action plugin - sets the facts C(<prefix>_installed) (the previous value
        with O(record.installed) merged in) and C(<prefix>_changed) (the artifacts whose files
        changed), as the artifacts role's C(artifacts_installed) and C(artifacts_changed) - the
        step that records them needs no task of its own.
    type: dict
    suboptions:
      prefix:
        description: The facts' name prefix.
        type: str
        required: true
      installed:
        description: What this request installs (merged into C(<prefix>_installed)).
        type: dict
        default: {}
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Install etcd's binaries from the controller's cache
  kubebin.cluster.install_files:
    dirs: [/opt/kubebin/etcd-3.3.27/bin]
    files:
      - src: ~/.cache/kubebin/artifacts/etcd/3.3.27/etcd-v3.3.27-linux-amd64/etcd
        dest: /opt/kubebin/etcd-3.3.27/bin/etcd
        link: /usr/local/bin/etcd
        artifact: etcd
"""

RETURN = r"""
changed_files:
  description: The O(files[].dest) or O(files[].link) paths created or changed (or that would be).
  returned: always
  type: list
  elements: str
  sample: [/opt/kubebin/etcd-3.3.27/bin/etcd, /usr/local/bin/etcd]
changed_artifacts:
  description: The O(files[].artifact) names with a file or link changed (or that would be).
  returned: always
  type: list
  elements: str
  sample: [etcd]
changed_dirs:
  description: The O(dirs) (and parents) created or whose owner or mode was corrected.
  returned: always
  type: list
  elements: str
state:
  description:
    - With O(report) - C(dirs) and C(files) (path -> C(mode:uid:gid)), C(links) (path -> target).
  returned: with O(report) or O(report_links)
  type: dict
missing:
  description:
    - The O(files[].dest) paths the host lacks (or whose checksum differs) and that this run
      had no copy of; the action plugin copies them and runs the module again.
  returned: always
  type: list
  elements: str
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule


def make_dirs(module, path, created):
    """Create PATH and its missing parents, root-owned 0755; list what was created."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent and parent != path:
        make_dirs(module, parent, created)
    if os.path.lexists(path):
        module.fail_json(msg="dirs: %s exists and is not a directory" % path)
    created.append(path)
    if not module.check_mode:
        os.mkdir(path, 0o755)
        os.chown(path, 0, 0)
        os.chmod(path, 0o755)


def needs_copy(module, item, verify):
    dest = item["dest"]
    if not os.path.isfile(dest) or os.path.islink(dest):
        if os.path.lexists(dest) and not os.path.isfile(dest):
            module.fail_json(msg="files: %s exists and is not a regular file" % dest)
        return True
    return bool(verify and item.get("checksum") and module.sha1(dest) != item["checksum"])


def fix_attributes(module, path, mode):
    info = os.stat(path)
    if stat.S_IMODE(info.st_mode) == mode and info.st_uid == 0 and info.st_gid == 0:
        return False
    if not module.check_mode:
        os.chown(path, 0, 0)
        os.chmod(path, mode)
    return True


def fix_link(module, link, dest, force):
    if os.path.islink(link):
        if os.readlink(link) == dest:
            return False
    elif os.path.lexists(link) and (os.path.isdir(link) or not force):
        module.fail_json(
            msg="files: %s exists and is not a link; remove it or set link_force"
            " (artifacts_link_force) to replace it with a link to %s" % (link, dest)
        )
    if not module.check_mode:
        make_dirs(module, os.path.dirname(link), [])
        tmp = "%s.kubebin-tmp" % link
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(dest, tmp)
        os.replace(tmp, link)
    return True


def install_one(module, item, params):
    """Put one file (and its link) in place: the paths changed, and whether it is missing."""
    dest = item["dest"]
    try:
        mode = int(item["mode"], 8)
    except ValueError:
        module.fail_json(msg="files: mode %r of %s is not octal" % (item["mode"], dest))
    changed = []
    if needs_copy(module, item, params["verify"]):
        changed.append(dest)
        if not item["staged"]:
            # Reported for the action plugin to copy; the link waits for the file (except in
            # check mode, where the link's change is reported as well).
            linked = item.get("link") and module.check_mode
            if linked and fix_link(module, item["link"], dest, params["link_force"]):
                changed.append(item["link"])
            return changed, True
        if not module.check_mode:
            module.atomic_move(item["src"], dest)
    if os.path.exists(dest) and fix_attributes(module, dest, mode) and dest not in changed:
        changed.append(dest)
    if item.get("link") and fix_link(module, item["link"], dest, params["link_force"]):
        changed.append(item["link"])
    return changed, False


def attrs(info):
    return "%04o:%d:%d" % (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


def snapshot(roots, link_dir):
    """What is under ROOTS (directories and regular files, with mode:uid:gid) and which links
    LINK_DIR holds (path -> target): the install state a later task of the run can trust."""
    state = {"dirs": {}, "files": {}, "links": {}}
    for root in roots:
        for top, _dirs, files in os.walk(root):
            state["dirs"][top] = attrs(os.stat(top))
            for name in files:
                path = os.path.join(top, name)
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode):
                    state["files"][path] = attrs(info)
    if link_dir and os.path.isdir(link_dir):
        for name in os.listdir(link_dir):
            path = os.path.join(link_dir, name)
            if os.path.islink(path):
                state["links"][path] = os.readlink(path)
    return state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    src=dict(type="path", required=True),
                    dest=dict(type="path", required=True),
                    mode=dict(type="str", default="0755"),
                    link=dict(type="path"),
                    artifact=dict(type="str"),
                    checksum=dict(type="str"),
                    staged=dict(type="bool", default=False),
                ),
            ),
            dirs=dict(type="list", elements="path", default=[]),
            verify=dict(type="bool", default=False),
            link_force=dict(type="bool", default=False),
            report=dict(type="list", elements="path", default=[]),
            report_links=dict(type="path"),
            # the action plugin's (facts set on the controller); never reaches the host
            record=dict(
                type="dict",
                options=dict(
                    prefix=dict(type="str", required=True),
                    installed=dict(type="dict", default={}),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    params = module.params
    created = []
    for path in params["dirs"]:
        make_dirs(module, path, created)
        if path not in created and os.path.isdir(path) and fix_attributes(module, path, 0o755):
            created.append(path)

    changed_files, changed_artifacts, missing = [], [], []
    for item in params["files"]:
        paths, absent = install_one(module, item, params)
        if absent:
            missing.append(item["dest"])
        changed_files.extend(p for p in paths if p not in changed_files)
        if paths and item.get("artifact") and item["artifact"] not in changed_artifacts:
            changed_artifacts.append(item["artifact"])

    result = dict(
        changed=bool(changed_files or created),
        changed_files=changed_files,
        changed_artifacts=changed_artifacts,
        missing=missing,
        changed_dirs=created,
    )
    if params["report"] or params["report_links"]:
        result["state"] = snapshot(params["report"], params["report_links"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
