# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for kubebin.cluster.write_files: see the module's documentation.

Files on a host are written by the module, in one run. Files on the controller itself (a task
on ``localhost`` over the local connection, without become and without ``units``: the
preflight report, the office's route files, the admin kubeconfig) are written here, in the
worker process, with the module's own code (module_utils/files.py): a module run on the
controller costs a Python start and a payload for a few files, about 0.3 s a task.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.kubebin.cluster.plugins.module_utils.files import (
    WRITE_FILES_SPEC,
    FilesError,
    write_tree,
)

MODULE = "kubebin.cluster.write_files"


def _validate(command, tmp, path):
    """Run COMMAND with %s replaced by TMP, as the module does; refuse on failure."""
    if "%s" not in command:
        os.unlink(tmp)
        raise FilesError("files: validate of %s must contain %%s (the content's path)" % path)
    argv = [word.replace("%s", tmp) for word in shlex.split(command)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        os.unlink(tmp)
        raise FilesError("%s was not written: %s cannot run: %s" % (path, argv[0], exc)) from exc
    if proc.returncode != 0:
        os.unlink(tmp)
        raise FilesError(
            "%s was not written: %s refused it (rc %d): %s"
            % (path, argv[0], proc.returncode, (proc.stderr or proc.stdout).strip())
        )


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def _here(self):
        """Whether the files are on this machine, as this user (no module run needed)."""
        return (
            getattr(self._connection, "transport", None) == "local"
            and not self._play_context.become
            and not self._task.args.get("units")
        )

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self._here():
            result.update(
                self._execute_module(MODULE, module_args=dict(self._task.args), task_vars=task_vars)
            )
            return result
        checked = ArgumentSpecValidator(WRITE_FILES_SPEC).validate(dict(self._task.args))
        if checked.error_messages:
            raise AnsibleActionFail("; ".join(checked.error_messages))
        params = checked.validated_parameters
        try:
            done = write_tree(
                os.path.expanduser(params["root"]),
                params["files"],
                params["dirs"],
                check_mode=self._task.check_mode,
                diff=self._task.diff,
                validate=_validate,
            )
        except FilesError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        done.pop("services")
        result.update(done)
        return result
