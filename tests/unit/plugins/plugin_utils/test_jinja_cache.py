"""plugin_utils.jinja_cache: compiled code and filter lookups reused while one task renders
a role for many hosts, never shared between different environment settings."""

import jinja2
from ansible.plugins.loader import filter_loader, test_loader

from ansible_collections.kubebin.cluster.plugins.plugin_utils import jinja_cache

SOURCE = "{% if x %}\n{{ x }}\n{% endif %}\nend"


def test_a_source_is_compiled_once_per_setting_and_renders_as_without_cache():
    plain = [jinja2.Environment(), jinja2.Environment()]
    trimmed = jinja2.Environment(trim_blocks=True)
    expected = [env.from_string(SOURCE).render(x=n) for n, env in enumerate(plain, 1)]
    expected_trimmed = trimmed.from_string(SOURCE).render(x=7)
    with jinja_cache.compile_cache() as codes:
        got = [env.from_string(SOURCE).render(x=n) for n, env in enumerate(plain, 1)]
        assert len(codes) == 1  # the second environment reused the first's code
        assert trimmed.from_string(SOURCE).render(x=7) == expected_trimmed
        assert len(codes) == 2  # trim_blocks changes the code: compiled apart
    assert got == expected
    assert expected_trimmed != jinja2.Environment().from_string(SOURCE).render(x=7)


def test_expressions_are_keyed_by_their_source():
    env = jinja2.Environment()
    with jinja_cache.compile_cache() as codes:
        assert env.compile_expression("a + 1")(a=1) == 2
        assert env.compile_expression("a + 1")(a=41) == 42
        assert env.compile_expression("a * 2")(a=4) == 8
        assert len(codes) == 2


def test_the_patches_are_undone():
    before = (jinja2.Environment.compile, jinja2.Environment.compile_expression)
    with jinja_cache.jinja_caches():
        assert jinja2.Environment.compile is not before[0]
        assert "get_with_context" in filter_loader.__dict__
    assert (jinja2.Environment.compile, jinja2.Environment.compile_expression) == before
    assert "get_with_context" not in filter_loader.__dict__
    assert "get_with_context" not in test_loader.__dict__


def test_a_filter_is_looked_up_once():
    with jinja_cache.plugin_lookup_cache([filter_loader]) as found:
        first = filter_loader.get_with_context("ansible.builtin.combine")
        again = filter_loader.get_with_context("ansible.builtin.combine")
        assert first is again
        assert first.object is not None
        assert len(found) == 1
        filter_loader.get_with_context("ansible.builtin.combine", collection_list=None)
        assert len(found) == 1  # a lookup with more arguments is not cached
