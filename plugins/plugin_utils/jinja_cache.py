# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Caches for templating the same role for many hosts in one task (render mode).

Rendering one role's files for a hundred hosts evaluates the same variable expressions and
templates a hundred times, with different variables. Two costs of ansible-core 2.19 repeat
for each host although their result cannot differ between hosts:

- Jinja compiles every template string and expression again (each Templar has a fresh
  environment, and ``Environment.from_string``/``compile_expression`` keep no cache);
- every filter or test named in a template is looked up again through the plugin loader,
  which for a collection's filters scans the collection's filter files each time
  (ansible-core's own note: "cache the collection results properly here").

``jinja_caches()`` keeps both for the duration of a ``with`` block. Compiled code is keyed by
the source and every environment setting the generated code depends on, so two environments
that differ (delimiters, trim_blocks, finalize, ...) never share code. Only what is a pure
function of its key is cached; variables are never part of the compiled code. The patches
are put back when the block ends (an action plugin runs in a worker process of its own).

The gain is measured by ``make bench`` (tools/bench/bench_render.py).
"""

from __future__ import annotations

import contextlib
import threading

import jinja2
from ansible.plugins.loader import filter_loader, test_loader
from jinja2 import nodes

try:  # ansible-core 2.19's compile-time option (backslash escaping)
    from ansible._internal._templating._jinja_bits import _TemplateCompileContext
except ImportError:  # pragma: no cover - outside 2.19 there is no such context
    _TemplateCompileContext = None

# Environment settings the generated code depends on (jinja2's Environment attributes).
_SETTINGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "autoescape",
    "is_async",
    "finalize",
)


def _compile_context():
    """ansible-core's compile-time option (backslash escaping), part of what is compiled."""
    if _TemplateCompileContext is None:
        return None
    ctx = _TemplateCompileContext.current(optional=True)
    return None if ctx is None else ctx.escape_backslashes


def environment_key(env):
    """What, besides the source, decides the code ENV compiles."""
    return (
        type(env),
        tuple(getattr(env, name, None) for name in _SETTINGS),
        tuple(sorted(env.extensions)),
        _compile_context(),
    )


@contextlib.contextmanager
def compile_cache():
    """Reuse Jinja's compiled code for a source compiled before with the same settings.

    Yields the cache (key -> code object), for tests and measurements."""
    env_cls = jinja2.Environment
    compile_, compile_expression = env_cls.compile, env_cls.compile_expression
    codes = {}
    local = threading.local()

    def cached_compile_expression(self, source, undefined_to_none=True):
        outer = getattr(local, "expression", None)
        local.expression = source
        try:
            return compile_expression(self, source, undefined_to_none)
        finally:
            local.expression = outer

    # jinja2.Environment.compile's own signature
    def cached_compile(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: PLR0917
        if isinstance(source, str):
            key = ("template", str(source))
        elif isinstance(source, nodes.Template) and getattr(local, "expression", None) is not None:
            # compile_expression's tree: keyed by the expression's source
            key = ("expression", str(local.expression))
            local.expression = None
        else:
            return compile_(self, source, name, filename, raw, defer_init)
        key += (name, filename, raw, defer_init, environment_key(self))
        code = codes.get(key)
        if code is None:
            code = codes[key] = compile_(self, source, name, filename, raw, defer_init)
        return code

    env_cls.compile, env_cls.compile_expression = cached_compile, cached_compile_expression
    try:
        yield codes
    finally:
        env_cls.compile, env_cls.compile_expression = compile_, compile_expression


@contextlib.contextmanager
def plugin_lookup_cache(loaders):
    """Remember what each loader of LOADERS (ansible's filter and test loaders) found for a
    name asked with no other argument. Yields the cache."""
    found = {}
    patched = []  # (loader, its own get_with_context attribute or None)
    for loader in loaders:
        original = loader.get_with_context

        def cached(name, *args, _loader=loader, _original=original, **kwargs):
            if args or kwargs:
                return _original(name, *args, **kwargs)
            key = (id(_loader), name)
            if key not in found:
                found[key] = _original(name)
            return found[key]

        patched.append((loader, loader.__dict__.get("get_with_context")))
        loader.get_with_context = cached
    try:
        yield found
    finally:
        for loader, own in patched:
            if own is None:
                del loader.get_with_context  # the class's method again
            else:
                loader.get_with_context = own


@contextlib.contextmanager
def jinja_caches():
    """Both caches, with ansible-core's filter and test loaders."""
    with compile_cache(), plugin_lookup_cache([filter_loader, test_loader]):
        yield
