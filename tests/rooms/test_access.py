"""Private rooms over HTTP: invisible to outsiders, open to members and granted groups."""

from __future__ import annotations

import pytest

from accounts.models import ProviderGroup
from accounts.services import groups_from_claims, user_groups_sync
from rooms import access, services
from rooms.models import Mention, Room, RoomGroupGrant, RoomKind, RoomMember
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    """A private room granted to the provider group "finance", with Carol as a member by name."""
    room = factories.room_create(slug="finance", name="Finance", kind=RoomKind.PRIVATE)
    RoomGroupGrant.objects.create(room=room, group="finance")
    RoomMember.objects.create(room=room, user=factories.user_create(username="carol", display_name="Carol"))
    return room


@pytest.fixture
def outsider():
    return factories.user_create(username="olive", display_name="Olive")


ROOM_URLS = [
    "/rooms/{slug}/token/",
    "/rooms/{slug}/messages/",
    "/rooms/{slug}/events/?since=0",
    "/rooms/{slug}/people/",
]


@pytest.mark.parametrize("url", ROOM_URLS)
def test_a_private_room_answers_an_outsider_exactly_as_an_unknown_room(finance, outsider, url):
    """Token, history, events and people: the same 404 for Finance as for a room that does not exist."""
    client = factories.browser_signed_in(outsider)

    private = client.get(url.format(slug="finance"), HTTP_ACCEPT="application/json")
    unknown = client.get(url.format(slug="no-such-room"), HTTP_ACCEPT="application/json")

    assert private.status_code == unknown.status_code == 404
    assert private.json() == unknown.json()


def test_a_private_room_page_is_a_404_for_an_outsider_and_missing_from_their_dashboard(finance, outsider):
    """Olive neither finds Finance on her dashboard nor can open it."""
    client = factories.browser_signed_in(outsider)

    assert client.get("/rooms/finance/").status_code == 404
    dashboard = client.get("/rooms/")
    assert [room["slug"] for room in dashboard.context["rooms"]] == ["general", "music", "sports"]
    assert "Finance" not in dashboard.content.decode()
    assert "finance" not in client.get("/rooms/online.json").json()["rooms"]


def test_members_and_people_of_a_granted_group_may_enter_a_private_room(finance, outsider):
    """Carol (a member) and Gina (in the finance group) open the room; Olive in another group does not."""
    carol = finance.members.get().user
    gina = factories.user_create(username="gina", display_name="Gina")
    user_groups_sync(user=gina, groups={"finance", "staff"})
    user_groups_sync(user=outsider, groups={"sales"})

    for person in (carol, gina):
        client = factories.browser_signed_in(person)
        assert client.get("/rooms/finance/").status_code == 200
        assert client.get("/rooms/finance/token/").status_code == 200
        assert "finance" in [room["slug"] for room in client.get("/rooms/").context["rooms"]]
    assert factories.browser_signed_in(outsider).get("/rooms/finance/").status_code == 404


def test_a_group_grant_does_not_open_a_direct_room(outsider):
    """A direct room is its two people's, whatever groups anyone is in."""
    alice, bob = factories.user_create(username="alice"), factories.user_create(username="bob")
    direct = factories.browser_signed_in(alice).post("/rooms/direct.new", {"user": bob.pk})
    room = Room.objects.get(kind=RoomKind.DIRECT)
    assert direct.url == f"/rooms/{room.slug}/"
    RoomGroupGrant.objects.create(room=room, group="everyone")
    user_groups_sync(user=outsider, groups={"everyone"})

    assert factories.browser_signed_in(outsider).get(f"/rooms/{room.slug}/").status_code == 404


def test_completion_in_a_private_room_offers_only_the_people_who_may_read_it(finance, outsider):
    """@ completion in Finance lists Carol, not Olive, though both names start the same."""
    gina = factories.user_create(username="gina", display_name="Gina")
    user_groups_sync(user=gina, groups={"finance"})

    found = factories.browser_signed_in(gina).get("/rooms/finance/people/", {"q": ""}).json()["people"]

    assert [person["handle"] for person in found] == ["carol", "gina"]


def test_a_mention_of_someone_who_cannot_read_the_room_is_not_stored(finance, outsider):
    """@olive in Finance is plain text: she is not told of a room she cannot open."""
    carol = finance.members.get().user

    message, _ = services.message_create(room=finance, author=carol, text="@olive and @carol, look")

    assert message.mention_ids == []
    assert not Mention.objects.filter(user=outsider).exists()


def test_the_admin_says_who_may_enter_a_private_room_and_why(finance, admin_client):
    """The room's change page lists Carol as a member and Gina through her group."""
    gina = factories.user_create(username="gina", display_name="Gina")
    user_groups_sync(user=gina, groups={"finance"})

    page = admin_client.get(f"/admin/rooms/room/{finance.pk}/change/").content.decode()

    assert "Carol (@carol): member" in page
    assert "Gina (@gina): group finance" in page


def test_insiders_name_every_reason_once(finance):
    """Someone who is a member and in a granted group is listed once, with both reasons."""
    carol = finance.members.get().user
    user_groups_sync(user=carol, groups={"finance"})

    insiders = access.room_insiders(room=finance)

    assert [(insider.user.username, insider.why) for insider in insiders] == [
        ("carol", "member, group finance")
    ]


def test_groups_sync_keeps_exactly_the_groups_the_provider_lists():
    """Groups left are dropped and new ones added; the same list again changes nothing."""
    person = factories.user_create()
    assert user_groups_sync(user=person, groups={"a", "b"}) is True
    assert user_groups_sync(user=person, groups={"b", "c"}) is True
    assert user_groups_sync(user=person, groups={"c", "b"}) is False
    assert set(ProviderGroup.objects.filter(user=person).values_list("name", flat=True)) == {"b", "c"}


@pytest.mark.parametrize(
    ("claims", "groups"),
    [
        ({"groups": ["finance", "/staff"]}, {"finance", "/staff"}),
        ({"groups": "finance"}, {"finance"}),
        # Providers leave the claim out for someone in no group: they lose every granted room.
        ({}, set()),
        ({"groups": ["ok", 7, None, "", "x" * 256]}, {"ok"}),
        ({"groups": {"finance": True}}, set()),
    ],
)
def test_groups_are_read_from_the_configured_claim(claims, groups):
    """Only strings of a sane length count as group names."""
    assert groups_from_claims(claims, "groups") == groups


def test_groups_are_left_alone_when_no_claim_is_configured():
    """OIDC_GROUPS_CLAIM empty: the provider's groups are not read at all."""
    assert groups_from_claims({"groups": ["finance"]}, "") is None
