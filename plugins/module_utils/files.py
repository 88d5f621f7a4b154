# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a file only when it differs: shared by the write_files module (on a host) and the
template_files action plugin (render mode, on the controller), so both write alike."""

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
