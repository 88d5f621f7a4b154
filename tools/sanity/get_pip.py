"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test bootstraps pip into each sanity venv by downloading get-pip.py from a host
that this project's machines cannot reach. This stand-in does the same job with what
CPython ships: `ensurepip` installs the bundled pip, which then installs the exact pip
version ansible-test asked for from the package index. `make sanity` copies it into
ansible-test's cache (~/.ansible/test/cache/get_pip_<version>.py) when none is there.
"""

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    # In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in its own process,
    # and the pip install below must see the machine's pip configuration (index, CA bundle).
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
