#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: write_files
short_description: Write many small files under one directory in one step
version_added: "0.1.0"
description:
  - Writes each of O(files) under O(root), creating parent directories, and rewrites a file
    only when its content or mode differs. One call for any number of files.
  - Used by render mode (C(playbooks/render.yml)) on the controller, and by the roles to write
    a component's configuration files on a host in one round trip (a loop of
    M(ansible.builtin.template) costs two module runs per file). The content is rendered on the
    controller (the C(template) lookup).
  - Supports check mode and diff mode (the before and after of each file written).
options:
  root:
    description: The directory the files go under (created if missing).
    type: path
    required: true
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The file's path relative to O(root); a leading C(/) is allowed and ignored.
        type: str
        required: true
      content:
        description: The file's content.
        type: str
        required: true
      mode:
        description: Octal permissions.
        type: str
        default: "0644"
      validate:
        description:
          - A command that must accept the new content before it replaces the file, C(%s) standing
            for the path of the new content (as M(ansible.builtin.template)'s C(validate)). Runs
            only when the file changes; not in check mode.
        type: str
  dirs:
    description:
      - Directories to create (with missing parents) or whose mode to correct before the files
        are written. Parents a file needs are created anyway, with the default mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory's path relative to O(root) (a leading C(/) is ignored).
        type: str
        required: true
      mode:
        description: Octal permissions.
        type: str
        default: "0755"
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Write two rendered files
  kubebin.cluster.write_files:
    root: /tmp/render
    files:
      - path: hosts/node1/etc/kubernetes/kubelet.conf
        content: "{{ lookup('ansible.builtin.template', 'kubeconfig.j2') }}"
      - path: manifests/20-kube-dns.yaml
        content: "{{ lookup('ansible.builtin.template', 'kube-dns.yaml.j2') }}"
  delegate_to: localhost
"""

RETURN = r"""
written:
  description: The paths (relative to O(root)) that were created or changed (or would be).
  returned: always
  type: list
  elements: str
  sample: [hosts/node1/etc/kubernetes/kubelet.conf]
changed_dirs:
  description: The O(dirs) (relative to O(root)) created or whose mode was corrected (or would be).
  returned: always
  type: list
  elements: str
"""

import os
import shlex
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils.files import differs, read_text, write


def target(module, root, rel):
    """The absolute path of REL under ROOT; refuses paths that leave ROOT."""
    path = os.path.normpath(os.path.join(root, rel.lstrip("/")))
    if path != root and not path.startswith(root.rstrip("/") + "/"):
        module.fail_json(msg="files: path %r leaves root %s" % (rel, root))
    return path


def octal(module, item):
    try:
        return int(item["mode"], 8)
    except ValueError:
        module.fail_json(msg="mode %r of %s is not octal" % (item["mode"], item["path"]))


def validate(module, command, tmp, path):
    """Run COMMAND with %s replaced by TMP; on refusal remove TMP and fail naming PATH."""
    if "%s" not in command:
        module.fail_json(msg="files: validate of %s must contain %%s (the content's path)" % path)
    argv = [word.replace("%s", tmp) for word in shlex.split(command)]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        os.unlink(tmp)
        module.fail_json(
            msg="%s was not written: %s refused it (rc %d): %s"
            % (path, argv[0], rc, (err or out).strip())
        )


def main():
    module = AnsibleModule(
        argument_spec=dict(
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
        ),
        supports_check_mode=True,
    )
    root = os.path.normpath(module.params["root"])
    changed_dirs = []
    for item in module.params["dirs"]:
        mode = octal(module, item)
        path = target(module, root, item["path"])
        if os.path.isdir(path) and stat.S_IMODE(os.stat(path).st_mode) == mode:
            continue
        if os.path.lexists(path) and not os.path.isdir(path):
            module.fail_json(msg="dirs: %s exists and is not a directory" % path)
        changed_dirs.append(os.path.relpath(path, root))
        if not module.check_mode:
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)
    written = []
    diffs = []
    for item in module.params["files"]:
        mode = octal(module, item)
        path = target(module, root, item["path"])
        data = item["content"].encode("utf-8")
        if not differs(path, data, mode):
            continue
        written.append(os.path.relpath(path, root))
        if module._diff:
            diffs.append(
                dict(
                    before_header=path,
                    after_header=path,
                    before=read_text(path),
                    after=item["content"],
                )
            )
        if module.check_mode:
            continue
        check = None
        if item.get("validate"):

            def check(tmp, command=item["validate"], dest=path):
                validate(module, command, tmp, dest)

        write(path, data, mode, check)
    result = dict(changed=bool(written or changed_dirs), written=written, changed_dirs=changed_dirs)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
