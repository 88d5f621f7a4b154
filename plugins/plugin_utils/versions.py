# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version comparison for package, kernel and release strings (no Ansible import).

One comparison serves RPM releases (``3.10.0-693.el7.x86_64``, ``1.4.21-28.el7``), Debian
versions with epochs (``1:1.8.9-2``) and semantic versions with or without ``v``
(``v1.10.13``, ``3.3.27``):

* an optional ``N:`` epoch is compared first, numerically;
* the rest is split at the first ``-`` into version and release; versions are compared
  with the RPM ``rpmvercmp`` rules (runs of digits compare as numbers, runs of letters as
  strings, a numeric run is newer than an alphabetic one, ``~`` sorts before anything);
* releases are compared only when both sides have one, so ``3.10.0-693.el7`` >= ``3.10.0-693``
  and ``1.10.13`` == ``v1.10.13``.
"""

from __future__ import annotations

import functools
import re

_SEGMENT = re.compile(r"~|[0-9]+|[a-zA-Z]+")


class VersionError(ValueError):
    """A string that carries no version at all."""


def _vercmp(left: str, right: str) -> int:  # noqa: PLR0911 - the rpmvercmp cases
    """rpmvercmp: -1, 0 or 1."""
    if left == right:
        return 0
    a = _SEGMENT.findall(left)
    b = _SEGMENT.findall(right)
    for x, y in zip(a, b):
        if x == y:
            continue
        if x == "~" or y == "~":
            return -1 if x == "~" else 1
        x_num, y_num = x.isdigit(), y.isdigit()
        if x_num and y_num:
            xi, yi = int(x), int(y)
            if xi != yi:
                return -1 if xi < yi else 1
            continue
        if x_num != y_num:
            return 1 if x_num else -1
        return -1 if x < y else 1
    if len(a) == len(b):
        return 0
    # The longer one is newer, unless what it has left starts with a tilde (a pre-release).
    rest = a[len(b) :] if len(a) > len(b) else b[len(a) :]
    longer_is_left = len(a) > len(b)
    newer = rest[0] != "~"
    return (1 if newer else -1) if longer_is_left else (-1 if newer else 1)


@functools.lru_cache(maxsize=4096)
def parse(value) -> tuple[int, str, str | None]:
    """(epoch, version, release) of a version string; raises VersionError when there is none."""
    text = str(value).strip()
    if text[:1] in ("v", "V") and text[1:2].isdigit():
        text = text[1:]
    epoch = 0
    head, sep, tail = text.partition(":")
    if sep and head.isdigit():
        epoch, text = int(head), tail
    version, sep, release = text.partition("-")
    if not re.search(r"[0-9]", version):
        raise VersionError(f"{value!r} is not a version")
    return epoch, version, (release if sep else None)


def compare(left, right) -> int:
    """-1, 0 or 1 as ``left`` is older than, equal to or newer than ``right``."""
    le, lv, lr = parse(left)
    re_, rv, rr = parse(right)
    if le != re_:
        return -1 if le < re_ else 1
    result = _vercmp(lv, rv)
    if result == 0 and lr is not None and rr is not None:
        result = _vercmp(lr, rr)
    return result


def major_minor(value) -> str:
    """'1.10' from 'v1.10.13'; '7.4' from '7.4.1708'."""
    parts = parse(value)[1].split(".")
    return ".".join(parts[:2])
