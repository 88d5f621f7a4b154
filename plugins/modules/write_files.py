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
  - With O(units), then keeps the component's systemd units running in the same module run
    (as M(kubebin.cluster.units)) - C(daemon-reload) when a unit file or drop-in was written,
    enable, start what does not run, restart what runs and had a file written
    (O(files[].service)) or is in O(units.restart). One module run where writing and then
    starting cost two.
  - Files on the controller (a task on C(localhost) over the local connection, without become
    and without O(units)) are written by the action plugin in its own process, with the same
    code - no module run (about 0.3 s a task saved).
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
      validate_if_exists:
        description: Validate only when this path exists (the validator, until it is installed).
        type: path
      service:
        description: The unit of O(units.names) that restarts when this file is written.
        type: str
  units:
    description: The units to keep running after the files are written (see the description).
    type: dict
    suboptions:
      names:
        description: The units (C(.service) may be left out).
        type: list
        elements: str
        required: true
      restart:
        description: More units to restart when they run (their certificates or binaries changed).
        type: list
        elements: str
        default: []
      enabled:
        description: Enable the units.
        type: bool
        default: true
      requires:
        description: Files that must exist before a unit is started or restarted.
        type: list
        elements: path
        default: []
      watch:
        description:
          - Unit name to files it reads; a running unit restarts when one was modified after it
            last started (see M(kubebin.cluster.units)).
        type: dict
        default: {}
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
units:
  description: With O(units), what M(kubebin.cluster.units) returns (started, restarted, ...).
  returned: with O(units)
  type: dict
"""

import os
import shlex

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubebin.cluster.plugins.module_utils.files import (
    WRITE_FILES_SPEC,
    FilesError,
    write_tree,
)
from ansible_collections.kubebin.cluster.plugins.module_utils.units import ensure

# Where a written file makes systemd need a daemon-reload.
SYSTEMD_DIRS = ("/etc/systemd/", "/run/systemd/", "/lib/systemd/", "/usr/lib/systemd/")


def validator(module):
    """write_tree's VALIDATE: run the command with %s replaced by the new content's path."""

    def validate(command, tmp, path):
        if "%s" not in command:
            os.unlink(tmp)
            module.fail_json(
                msg="files: validate of %s must contain %%s (the content's path)" % path
            )
        argv = [word.replace("%s", tmp) for word in shlex.split(command)]
        rc, out, err = module.run_command(argv)
        if rc != 0:
            os.unlink(tmp)
            module.fail_json(
                msg="%s was not written: %s refused it (rc %d): %s"
                % (path, argv[0], rc, (err or out).strip())
            )

    return validate


def main():
    module = AnsibleModule(
        argument_spec=WRITE_FILES_SPEC,
        supports_check_mode=True,
    )
    root = os.path.normpath(module.params["root"])
    try:
        result = write_tree(
            root,
            module.params["files"],
            module.params["dirs"],
            check_mode=module.check_mode,
            diff=module._diff,
            validate=validator(module),
        )
    except FilesError as exc:
        module.fail_json(msg=str(exc))
    restart = result.pop("services")
    units = module.params["units"]
    if units:
        paths = [os.path.join(root, rel) for rel in result["written"]]
        result["units"] = ensure(
            module,
            units["names"],
            restart=list(units["restart"]) + restart,
            daemon_reload=any(p.startswith(SYSTEMD_DIRS) for p in paths),
            enabled=units["enabled"],
            requires=units["requires"],
            watch=units["watch"],
        )
        result["changed"] = result["changed"] or result["units"]["changed"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
