# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for kubebin.cluster.install_files: see the module's documentation.

One module run finds what the host lacks (and fixes modes and links of what it has); only
when something is missing are those files copied from the controller into the task's
temporary directory and the module run a second time to move them into place.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.hashing import checksum as sha1_of

MODULE = "kubebin.cluster.install_files"


class ActionModule(ActionBase):
    # The temporary directory is made only when a file must be copied (a converged host costs
    # one module run and nothing else).
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        files = args.get("files")
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise AnsibleActionFail(
                "files must be a list of dicts (src, dest, mode, link, artifact)"
            )
        files = [dict(f) for f in files]
        for item in files:
            if not item.get("src") or not item.get("dest"):
                raise AnsibleActionFail("files: every entry needs src and dest (%r)" % (item,))
            local = os.path.expanduser(str(item["src"]))
            if not os.path.isfile(local):
                raise AnsibleActionFail(
                    "files: %s (for %s) is not a file on the controller" % (local, item["dest"])
                )
            item["src"] = local
            if args.get("verify"):
                item["checksum"] = sha1_of(local)
        args["files"] = files

        first = self._execute_module(MODULE, module_args=args, task_vars=task_vars)
        if first.get("failed") or self._task.check_mode or not first.get("missing"):
            result.update(first)
            return result

        missing = set(first["missing"])
        staged = []
        ours = self._connection._shell.tmpdir is None
        tmpdir = self._make_tmp_path() if ours else self._connection._shell.tmpdir
        try:
            for number, item in enumerate(files):
                if item["dest"] not in missing:
                    continue
                remote = self._connection._shell.join_path(
                    tmpdir, "f%d-%s" % (number, os.path.basename(item["dest"]))
                )
                self._transfer_file(item["src"], remote)
                staged.append(remote)
                item["src"] = remote
                item["staged"] = True
            self._fixup_perms2(staged, execute=False)
            second = self._execute_module(MODULE, module_args=args, task_vars=task_vars)
        finally:
            if ours:
                self._remove_tmp_path(tmpdir)
        if second.get("failed"):
            result.update(second)
            return result
        result.update(second)
        for key in ("changed_files", "changed_artifacts", "changed_dirs"):
            merged = list(first.get(key, []))
            merged += [v for v in second.get(key, []) if v not in merged]
            result[key] = merged
        result["missing"] = []
        result["copied"] = sorted(missing)
        result["changed"] = True
        return result
