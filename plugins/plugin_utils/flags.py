# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A component's command-line flags from layers: the role's own, the version table's, the
inventory's extra flags. A later layer overrides an earlier one; a flag set to None (``~`` in
YAML) in a later layer is removed, which is how an inventory drops a flag the role sets."""

from __future__ import annotations

from collections.abc import Mapping


class FlagsError(ValueError):
    """A layer that is not a mapping of flag names."""


def merge_flags(*layers):
    """The flags of LAYERS merged left to right, flags set to None dropped."""
    merged = {}
    for number, layer in enumerate(layers):
        if layer is None:
            continue
        if not isinstance(layer, Mapping):
            raise FlagsError(
                "layer %d of the flags is a %s, not a mapping of flag: value (%r); set the"
                " *_extra_flags variable to a dict such as {v: 2}"
                % (number, type(layer).__name__, layer)
            )
        for name, value in layer.items():
            if not isinstance(name, str) or not name or name.startswith("-"):
                raise FlagsError(
                    "flag name %r in layer %d: give the name without leading dashes, e.g. 'v'"
                    % (name, number)
                )
            merged[name] = value
    return {name: value for name, value in merged.items() if value is not None}
