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
STATE = "kubebin_install_state"  # the fact: the install state the module last reported


def _merged(base, extra):
    """BASE with EXTRA merged in, nested dicts merged too (combine(recursive=true))."""
    out = dict(base or {})
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _in_place(state, args, files):
    """Whether STATE (this run's) already shows every dir, file and link of the request."""
    if not isinstance(state, dict) or args.get("verify"):
        return False
    dirs, have, links = state.get("dirs", {}), state.get("files", {}), state.get("links", {})
    for path in args.get("dirs") or []:
        if dirs.get(path) != "0755:0:0":
            return False
    for item in files:
        mode = "%04o" % int(str(item.get("mode") or "0755"), 8)
        if have.get(item["dest"]) != mode + ":0:0":
            return False
        if item.get("link") and links.get(item["link"]) != item["dest"]:
            return False
    return True


class ActionModule(ActionBase):
    # The temporary directory is made only when a file must be copied (a converged host costs
    # one module run and nothing else).
    TRANSFERS_FILES = False

    @staticmethod
    def _checked(files, verify):
        """FILES with each src the controller's absolute path (and its checksum to VERIFY)."""
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
            if verify:
                item["checksum"] = sha1_of(local)
        return files

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        self._record = self._task.args.get("record")
        self._task_vars = task_vars or {}
        args = {k: v for k, v in self._task.args.items() if k != "record"}
        files = self._checked(args.get("files"), args.get("verify"))
        args["files"] = files

        state = ((task_vars or {}).get("ansible_facts") or {}).get(STATE)
        if (not files and not args.get("dirs")) or _in_place(state, args, files):
            result.update(
                changed=False,
                changed_files=[],
                changed_artifacts=[],
                changed_dirs=[],
                missing=[],
                known_in_place=True,
            )
            self._keep_state(result)
            return result

        first = self._execute_module(MODULE, module_args=args, task_vars=task_vars)
        if first.get("failed") or self._task.check_mode or not first.get("missing"):
            result.update(first)
            self._keep_state(result)
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
        self._keep_state(result)
        return result

    def _keep_state(self, result):
        """The module's reported state as the run's fact (not in check mode: nothing moved),
        and with O(record), what is installed and what changed as <prefix>_installed and
        <prefix>_changed."""
        if result.get("failed"):
            return
        facts = {}
        state = result.pop("state", None)
        if state is not None and not self._task.check_mode:
            facts[STATE] = state
        record = self._record
        if isinstance(record, dict) and record.get("prefix"):
            prefix = str(record["prefix"])
            facts[prefix + "_installed"] = _merged(
                self._task_vars.get(prefix + "_installed"), record.get("installed")
            )
            facts[prefix + "_changed"] = list(result.get("changed_artifacts") or [])
        if facts:
            result["ansible_facts"] = facts
