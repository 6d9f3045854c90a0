"""Console roles: a token's scopes give one role, the highest; each role may do what those
below it may; ``--role`` grants a role's scope and those below it; menus follow the role."""

from __future__ import annotations

import pytest

from payledger.domain.errors import DomainError
from payledger.stores.api_clients import Role, Scope, role_of, scopes_of_role
from payledger.web.console.nav import NAVIGATION, Link, menu


@pytest.mark.parametrize(
    ("scopes", "role"),
    [
        ({Scope.READ}, Role.VIEWER),
        ({Scope.OPERATE}, Role.OPERATOR),
        ({Scope.READ, Scope.OPERATE}, Role.OPERATOR),
        ({Scope.MAP}, Role.MAPPER),
        ({Scope.READ, Scope.MAP, Scope.OPERATE}, Role.MAPPER),
        ({Scope.ADMIN}, Role.ADMIN),
        ({Scope.ADMIN, Scope.READ, Scope.PAYMENTS_WRITE}, Role.ADMIN),
        ({Scope.PAYMENTS_WRITE, Scope.READ}, Role.VIEWER),
    ],
)
def test_the_highest_console_scope_gives_the_role(scopes, role):
    assert role_of(scopes) is role


@pytest.mark.parametrize("scopes", [set(), {Scope.PAYMENTS_WRITE}, {Scope.ORDERS_WRITE}])
def test_a_token_without_a_console_scope_has_no_role(scopes):
    assert role_of(scopes) is None


def test_each_role_includes_those_below_it_and_no_higher():
    order = [Role.VIEWER, Role.OPERATOR, Role.MAPPER, Role.ADMIN]
    for rank, role in enumerate(order):
        assert [role.includes(other) for other in order] == [i <= rank for i in range(4)]


@pytest.mark.parametrize(
    ("name", "scopes"),
    [
        ("viewer", (Scope.READ,)),
        ("operator", (Scope.READ, Scope.OPERATE)),
        ("mapper", (Scope.READ, Scope.OPERATE, Scope.MAP)),
        ("Admin", (Scope.READ, Scope.OPERATE, Scope.MAP, Scope.ADMIN)),
    ],
)
def test_a_role_name_grants_its_scope_and_those_below(name, scopes):
    assert scopes_of_role(name) == scopes
    assert role_of(scopes) is Role(name.lower())


def test_an_unknown_role_is_refused_naming_it_and_the_known_ones():
    with pytest.raises(DomainError, match=r"'root'.*viewer, operator, mapper, admin"):
        scopes_of_role("root")


def test_the_menu_shows_only_links_the_role_may_follow():
    links = (Link("/", "Dashboard"), Link("/studio", "Studio", Role.MAPPER))
    assert [link.label for link in menu(Role.OPERATOR, links)] == ["Dashboard"]
    assert [link.label for link in menu(Role.MAPPER, links)] == ["Dashboard", "Studio"]
    assert [link.label for link in menu(Role.ADMIN, links)] == ["Dashboard", "Studio"]


def test_the_menu_offers_the_mapping_studio_to_mappers_only():
    assert [link for link in NAVIGATION if link not in menu(Role.VIEWER)] == [
        Link("/studio", "Mapping studio", Role.MAPPER)
    ]
    assert menu(Role.MAPPER) == list(NAVIGATION)
    assert "/flows" in [link.path for link in menu(Role.VIEWER)]
