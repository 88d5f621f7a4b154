"""Run a module file of the collection the way Ansible does: a subprocess fed an args file."""

import json
import os
import subprocess
import sys


def run_module(module_file, args, work, check=False, diff=False):
    """The module's JSON result for ARGS (check/diff mode as asked); WORK holds the args file."""
    payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    argfile = work / "args.json"
    argfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, str(module_file), str(argfile)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return json.loads(proc.stdout)
