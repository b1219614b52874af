"""rooms.services for conversation: editing, deleting, reactions, mentions, and how replays show them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rooms import selectors, services
from rooms.exceptions import EditWindowOver, InvalidEmoji, MessageNotFound, NotAuthor, TooManyReactions
from rooms.message_text import mentioned_handles
from rooms.models import Mention, Message, MessageRevision, Reaction
from rooms.realtime.protocol import outbound
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The frames the services hand to the room (on commit), in order, as (room slug, frame)."""
    frames: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        services.notify, "room_send_on_commit", lambda *, room, frame: frames.append((room, frame))
    )
    return frames


@pytest.fixture
def bob():
    """Someone else in the room."""
    return factories.user_create(username="bob", display_name="Bob")


@pytest.fixture
def carol():
    """A third person, to be mentioned."""
    return factories.user_create(username="carol", display_name="Carol")


@pytest.fixture
def message(room, author):
    """The author's message in the room, stored through the service."""
    stored, _ = services.message_create(room=room, author=author, text="first draft")
    return stored


def edit(message: Message, text: str, editor=None) -> Message:
    edited, _changed = services.message_edit(
        room=message.room, message_id=message.pk, editor=editor or message.author, text=text
    )
    return edited


def react(message: Message, user, emoji: str) -> Message:
    return services.reaction_toggle(room=message.room, message_id=message.pk, user=user, emoji=emoji)


def age(message: Message, seconds: float) -> None:
    """Push the message's creation back by `seconds`."""
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


def mentioned(message: Message) -> set[int]:
    return set(Mention.objects.filter(message=message).values_list("user_id", flat=True))


# Editing -----------------------------------------------------------------------------


def test_author_edit_changes_the_text_and_tells_the_room(room, message, sent):
    """The author's edit is stored and sent as message_edited with the room's next seq."""
    before = message.seq

    edited = edit(message, "  second draft ")

    message.refresh_from_db()
    room.refresh_from_db()
    assert message.text == "second draft"
    assert message.edited_at is not None
    assert message.changed_seq == before + 1 == room.seq
    assert message.seq == before
    assert sent == [
        (
            room.slug,
            {
                "type": "message_edited",
                "id": message.pk,
                "seq": before + 1,
                "text": "second draft",
                "edited_at": outbound.iso_utc(edited.edited_at),
                "mentions": [],
            },
        )
    ]


def test_each_edit_takes_the_next_seq(room, message, sent):
    """Two edits are two room events, one seq after the other."""
    edit(message, "two")
    edit(message, "three")

    room.refresh_from_db()
    assert [frame["seq"] for _room, frame in sent] == [message.seq + 1, message.seq + 2]
    assert room.seq == message.seq + 2


def test_edit_keeps_the_old_text_as_a_revision_with_when_it_was_written(message):
    """Each replaced text is a MessageRevision, written_at its creation, then the edit before."""
    created_at = Message.objects.get(pk=message.pk).created_at

    first = edit(message, "second draft")
    first_edited_at = first.edited_at
    edit(message, "final")

    revisions = list(MessageRevision.objects.filter(message=message).values_list("text", "written_at"))
    assert revisions == [("first draft", created_at), ("second draft", first_edited_at)]


def test_editing_to_the_same_text_changes_nothing(room, message, sent):
    """The same text again (once stripped) is no event and no revision."""
    edit(message, "  first draft  ")

    message.refresh_from_db()
    room.refresh_from_db()
    assert sent == []
    assert message.edited_at is None
    assert room.seq == message.changed_seq == message.seq
    assert not MessageRevision.objects.exists()


def test_someone_else_cannot_edit_a_message(message, bob, sent):
    """Only the author edits: anyone else gets NotAuthor and the text stays."""
    with pytest.raises(NotAuthor) as refused:
        edit(message, "bob was here", editor=bob)

    assert refused.value.code == "not_author"
    message.refresh_from_db()
    assert message.text == "first draft"
    assert sent == []


def test_staff_cannot_edit_someone_elses_message(message, sent):
    """A moderator may delete a message but never rewrite it."""
    staff = factories.user_create(is_staff=True)

    with pytest.raises(NotAuthor):
        edit(message, "rewritten", editor=staff)

    assert Message.objects.get(pk=message.pk).text == "first draft"


def test_edit_after_the_window_is_refused(settings, message, sent):
    """A message older than CHAT_EDIT_WINDOW seconds can no longer be edited."""
    settings.CHAT_EDIT_WINDOW = 60
    age(message, 61)

    with pytest.raises(EditWindowOver) as refused:
        edit(message, "too late")

    assert refused.value.code == "edit_window_over"
    assert Message.objects.get(pk=message.pk).text == "first draft"
    assert sent == []


def test_edit_just_inside_the_window_is_allowed(settings, message):
    """A message a little younger than CHAT_EDIT_WINDOW is still editable."""
    settings.CHAT_EDIT_WINDOW = 60
    age(message, 50)

    assert edit(message, "just in time").text == "just in time"


def test_edit_window_zero_turns_editing_off(settings, message):
    """CHAT_EDIT_WINDOW = 0: even a brand-new message cannot be edited."""
    settings.CHAT_EDIT_WINDOW = 0

    with pytest.raises(EditWindowOver):
        edit(message, "never")


def test_a_deleted_message_cannot_be_edited(message, sent):
    """Once deleted, a message is not found for editing."""
    services.message_delete(message=message, by=message.author)
    sent.clear()

    with pytest.raises(MessageNotFound):
        edit(message, "back from the dead")

    assert Message.objects.get(pk=message.pk).text == "first draft"
    assert sent == []


def test_a_message_of_another_room_is_not_found(message):
    """A message id is only found in its own room."""
    other = factories.room_create()

    with pytest.raises(MessageNotFound):
        services.message_edit(room=other, message_id=message.pk, editor=message.author, text="elsewhere")

    assert Message.objects.get(pk=message.pk).text == "first draft"


def test_an_unknown_message_is_not_found(room, author):
    """Editing an id no message has raises MessageNotFound."""
    with pytest.raises(MessageNotFound) as refused:
        services.message_edit(room=room, message_id=999_999, editor=author, text="hello")

    assert refused.value.code == "not_found"


def test_an_edit_adds_and_drops_mentions(room, author, bob, carol, sent):
    """Mentions follow the edited text: new ones get Mention rows, removed ones lose theirs."""
    message, _ = services.message_create(room=room, author=author, text="hi @bob")
    assert mentioned(message) == {bob.pk}

    edited = edit(message, "hi @carol")

    assert mentioned(message) == {carol.pk}
    assert edited.mention_ids == [carol.pk]
    assert Message.objects.get(pk=message.pk).mention_ids == [carol.pk]
    assert sent[-1][1]["mentions"] == [carol.pk]


def test_an_edit_keeps_mentions_it_still_makes(room, author, bob, carol):
    """A mention both texts make keeps its Mention row (one row per person)."""
    message, _ = services.message_create(room=room, author=author, text="hi @bob")
    kept = Mention.objects.get(message=message, user=bob).pk

    edit(message, "hi @bob and @carol")

    assert Mention.objects.get(message=message, user=bob).pk == kept
    assert mentioned(message) == {bob.pk, carol.pk}
    assert Message.objects.get(pk=message.pk).mention_ids == [bob.pk, carol.pk]


# Deleting ----------------------------------------------------------------------------


def test_the_author_may_delete_their_message(room, message, sent):
    """The author's delete hides the message and tells the room with the next seq."""
    services.message_delete(message=message, by=message.author)

    stored = Message.objects.get(pk=message.pk)
    assert stored.deleted_at is not None
    assert stored.changed_seq == message.seq + 1
    assert sent == [(room.slug, {"type": "message_deleted", "id": message.pk, "seq": message.seq + 1})]


def test_staff_may_delete_anyones_message(message, sent):
    """A moderator deletes someone else's message."""
    services.message_delete(message=message, by=factories.user_create(is_staff=True))

    assert Message.objects.get(pk=message.pk).deleted_at is not None
    assert [frame["type"] for _room, frame in sent] == ["message_deleted"]


def test_someone_else_cannot_delete_a_message(room, message, bob, sent):
    """A member who is neither author nor staff gets NotAuthor; nothing changes."""
    with pytest.raises(NotAuthor):
        services.message_delete(message=message, by=bob)

    stored = Message.objects.get(pk=message.pk)
    room.refresh_from_db()
    assert stored.deleted_at is None
    assert stored.changed_seq == message.seq == room.seq
    assert sent == []


def test_a_second_delete_is_no_event(room, message, sent):
    """Deleting a deleted message again changes nothing and tells no one."""
    services.message_delete(message=message, by=message.author)
    first = Message.objects.get(pk=message.pk)

    services.message_delete(message=message, by=factories.user_create(is_staff=True))

    room.refresh_from_db()
    again = Message.objects.get(pk=message.pk)
    assert (again.deleted_at, again.changed_seq) == (first.deleted_at, first.changed_seq)
    assert room.seq == first.changed_seq
    assert len(sent) == 1


def test_delete_in_room_finds_the_message_by_id_in_its_room_only(message):
    """message_delete_in_room: another room's id, or one deleted already, is MessageNotFound."""
    with pytest.raises(MessageNotFound):
        services.message_delete_in_room(
            room=factories.room_create(), message_id=message.pk, by=message.author
        )
    assert Message.objects.get(pk=message.pk).deleted_at is None

    services.message_delete_in_room(room=message.room, message_id=message.pk, by=message.author)
    assert Message.objects.get(pk=message.pk).deleted_at is not None
    with pytest.raises(MessageNotFound):
        services.message_delete_in_room(room=message.room, message_id=message.pk, by=message.author)


# Reactions ---------------------------------------------------------------------------


def test_a_reaction_toggles_on_and_off(room, message, bob, sent):
    """The first toggle adds the person's emoji, the second takes it back; each is a room event."""
    on = react(message, bob, "👍")
    assert on.reactions == [{"emoji": "👍", "count": 1, "user_ids": [bob.pk]}]
    assert Reaction.objects.filter(message=message, user=bob, emoji="👍").exists()

    off = react(message, bob, "👍")

    assert off.reactions == []
    assert not Reaction.objects.exists()
    assert Message.objects.get(pk=message.pk).reactions == []
    assert sent == [
        (
            room.slug,
            {"type": "reactions", "id": message.pk, "seq": message.seq + 1, "reactions": on.reactions},
        ),
        (room.slug, {"type": "reactions", "id": message.pk, "seq": message.seq + 2, "reactions": []}),
    ]


def test_reactions_count_people_in_the_order_they_reacted(message, author, bob, carol):
    """Each emoji once, in the order first used, with everyone who used it in order."""
    react(message, carol, "👍")
    react(message, bob, "🎉")
    react(message, author, "👍")
    react(message, bob, "👍")

    assert Message.objects.get(pk=message.pk).reactions == [
        {"emoji": "👍", "count": 3, "user_ids": [carol.pk, author.pk, bob.pk]},
        {"emoji": "🎉", "count": 1, "user_ids": [bob.pk]},
    ]


def test_taking_back_one_reaction_leaves_the_others(message, bob, carol):
    """Removing one person's emoji keeps everyone else's."""
    react(message, bob, "👍")
    react(message, carol, "👍")
    react(message, bob, "👍")

    assert Message.objects.get(pk=message.pk).reactions == [
        {"emoji": "👍", "count": 1, "user_ids": [carol.pk]}
    ]


def test_a_new_emoji_past_the_limit_is_refused(settings, message, bob, sent):
    """With CHAT_MAX_REACTIONS = 2, a third distinct emoji raises TooManyReactions."""
    settings.CHAT_MAX_REACTIONS = 2
    react(message, bob, "👍")
    react(message, bob, "🎉")
    sent.clear()

    with pytest.raises(TooManyReactions) as refused:
        react(message, bob, "🔥")

    assert refused.value.code == "too_many_reactions"
    assert not Reaction.objects.filter(emoji="🔥").exists()
    assert [r["emoji"] for r in Message.objects.get(pk=message.pk).reactions] == ["👍", "🎉"]
    assert sent == []


def test_joining_an_emoji_already_there_is_allowed_past_the_limit(settings, message, bob, carol):
    """At the limit, someone else may still add an emoji the message already carries."""
    settings.CHAT_MAX_REACTIONS = 2
    react(message, bob, "👍")
    react(message, bob, "🎉")

    joined = react(message, carol, "🎉")

    assert joined.reactions[1] == {"emoji": "🎉", "count": 2, "user_ids": [bob.pk, carol.pk]}


def test_taking_one_back_makes_room_for_another_emoji(settings, message, bob):
    """Below the limit again, a new emoji is accepted."""
    settings.CHAT_MAX_REACTIONS = 2
    react(message, bob, "👍")
    react(message, bob, "🎉")
    react(message, bob, "👍")

    assert [r["emoji"] for r in react(message, bob, "🔥").reactions] == ["🎉", "🔥"]


@pytest.mark.parametrize("value", ["a", "👍👍", "", "   ", "1", "ok", "👍 x", "x" * 40])
def test_a_reaction_must_be_exactly_one_emoji(message, bob, value, sent):
    """Letters, digits, two emoji or nothing raise InvalidEmoji and store nothing."""
    with pytest.raises(InvalidEmoji) as refused:
        react(message, bob, value)

    assert refused.value.code == "invalid_emoji"
    assert not Reaction.objects.exists()
    assert sent == []


@pytest.mark.parametrize("value", ["👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🇫🇷", "❤️"])
def test_skin_tones_flags_and_joined_sequences_are_one_emoji(message, bob, value):
    """A skin-toned, ZWJ-joined or flag sequence counts as one emoji and is stored whole."""
    reacted = react(message, bob, value)

    assert reacted.reactions == [{"emoji": value, "count": 1, "user_ids": [bob.pk]}]
    assert Reaction.objects.get().emoji == value


def test_reacting_to_a_deleted_message_is_not_found(message, bob):
    """A deleted message takes no reactions."""
    services.message_delete(message=message, by=message.author)

    with pytest.raises(MessageNotFound):
        react(message, bob, "👍")

    assert not Reaction.objects.exists()


# Mentions ----------------------------------------------------------------------------


def test_messages_stored_together_each_get_their_own_id_and_mentions(room, author, bob, carol):
    """One batch, one INSERT: each message comes back with the id it was stored under and its own mentions."""
    drafts = [
        services.MessageDraft(room=room, author=author, text="hi @bob"),
        services.MessageDraft(room=room, author=author, text="nobody"),
        services.MessageDraft(room=room, author=author, text="@carol and @bob"),
    ]

    outcomes = services.message_create_many(drafts)

    messages = [message for message, _ in outcomes]
    assert [Message.objects.get(pk=message.pk).text for message in messages] == [
        "hi @bob",
        "nobody",
        "@carol and @bob",
    ]
    assert [mentioned(message) for message in messages] == [{bob.pk}, set(), {bob.pk, carol.pk}]
    assert [message.mention_ids for message in messages] == [[bob.pk], [], [carol.pk, bob.pk]]


def test_mentions_are_case_insensitive(room, author, bob):
    """@BOB mentions bob."""
    message, _ = services.message_create(room=room, author=author, text="hey @BOB")

    assert mentioned(message) == {bob.pk}
    assert message.mention_ids == [bob.pk]


def test_an_inactive_user_is_not_mentioned(room, author):
    """A deactivated account gets no Mention."""
    factories.user_create(username="gone", is_active=False)

    message, _ = services.message_create(room=room, author=author, text="where is @gone")

    assert mentioned(message) == set()
    assert message.mention_ids == []


def test_the_author_is_never_mentioned(room, author, bob):
    """Writing your own handle mentions nobody but the others."""
    message, _ = services.message_create(room=room, author=author, text=f"@{author.username} and @bob")

    assert mentioned(message) == {bob.pk}


def test_an_email_address_mentions_no_one(room, author, bob):
    """bob@example.com is not @bob."""
    message, _ = services.message_create(room=room, author=author, text="mail bob@example.com")

    assert mentioned(message) == set()
    assert mentioned_handles("mail bob@example.com") == []


def test_a_mention_at_the_end_of_a_sentence_counts(room, author, bob, carol):
    """@bob. and @carol, name bob and carol: the punctuation ends the handle."""
    message, _ = services.message_create(room=room, author=author, text="thanks @carol, and @bob.")

    assert mentioned(message) == {bob.pk, carol.pk}
    assert set(message.mention_ids) == {bob.pk, carol.pk}


def test_mention_ids_list_the_first_mentioned_first(room, author, bob, carol):
    """mention_ids follow the text: carol (mentioned first) before bob, though bob's account is older."""
    message, _ = services.message_create(room=room, author=author, text="@carol then @bob")

    assert message.mention_ids == [carol.pk, bob.pk]


def test_a_person_mentioned_twice_is_mentioned_once(room, author, bob):
    """Two @bob in one message make one Mention row."""
    message, _ = services.message_create(room=room, author=author, text="@bob @Bob!")

    assert Mention.objects.filter(message=message).count() == 1
    assert message.mention_ids == [bob.pk]


def test_unknown_handles_mention_no_one(room, author):
    """@nobody matches no account."""
    message, _ = services.message_create(room=room, author=author, text="hello @nobody")

    assert message.mention_ids == []
    assert not Mention.objects.exists()


# Replays and history -----------------------------------------------------------------


def test_a_replay_shows_an_edited_message_once_in_its_new_state(room, author, bob):
    """room_events_since replays an edited message once, as a message frame at its changed_seq."""
    room.refresh_from_db()
    since = room.seq
    message, _ = services.message_create(room=room, author=author, text="hi @bob")
    react(message, bob, "👍")
    edited = edit(message, "hello all")

    room.refresh_from_db()
    recovery = selectors.room_events_since(room=room, since=since, epoch=room.epoch)

    assert recovery.recovered is True
    assert len(recovery.events.frames) == 1
    frame = recovery.events.frames[0]
    assert frame["type"] == "message"
    assert frame["id"] == message.pk
    assert frame["text"] == "hello all"
    assert frame["edited_at"] == outbound.iso_utc(edited.edited_at)
    assert frame["seq"] == edited.changed_seq == room.seq == message.seq + 2
    assert frame["mentions"] == []
    assert frame["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [bob.pk]}]
    assert recovery.seq == room.seq


def test_a_replay_from_after_a_message_was_sent_brings_its_edit(room, message):
    """A client that saw the message but not the edit gets the message again, as it reads now."""
    edit(message, "second draft")

    room.refresh_from_db()
    recovery = selectors.room_events_since(room=room, since=message.seq, epoch=room.epoch)

    assert [(f["type"], f["id"], f["text"], f["seq"]) for f in recovery.events.frames] == [
        ("message", message.pk, "second draft", message.seq + 1)
    ]


def test_an_unedited_message_has_no_edited_at_and_no_reactions_in_its_frame(room, message):
    """A plain message's frame carries mentions but neither edited_at nor reactions."""
    frame = selectors.message_list_latest(room=room)[0]

    assert frame["mentions"] == []
    assert "edited_at" not in frame
    assert "reactions" not in frame


def test_a_deleted_message_text_is_never_replayed_or_listed(room, author):
    """After a delete, replays carry only message_deleted and history leaves the message out."""
    room.refresh_from_db()
    since = room.seq
    message, _ = services.message_create(room=room, author=author, text="secret words")
    services.message_delete(message=message, by=author)
    room.refresh_from_db()

    recovery = selectors.room_events_since(room=room, since=since, epoch=room.epoch)

    assert list(recovery.events.frames) == [{"type": "message_deleted", "id": message.pk, "seq": room.seq}]
    assert selectors.message_list_latest(room=room) == []
    assert "secret words" not in recovery.events.encoded
    assert selectors.history_latest(room=room).frames == ()


def test_the_welcome_history_shows_an_edit_made_after_it_was_built(room, message):
    """history_latest (cached per room) gives the edited text once the message is edited."""
    assert selectors.history_latest(room=room).frames[0]["text"] == "first draft"

    edit(message, "second draft")

    assert selectors.history_latest(room=room).frames[0]["text"] == "second draft"


def test_the_welcome_history_shows_a_reaction_made_after_it_was_built(room, message, bob):
    """history_latest gives a message's reactions once someone reacts."""
    assert "reactions" not in selectors.history_latest(room=room).frames[0]

    react(message, bob, "👍")

    assert selectors.history_latest(room=room).frames[0]["reactions"][0]["emoji"] == "👍"


def test_a_reaction_typed_without_its_variation_selector_joins_the_pickers(message, author, bob):
    """U+2764 typed alone and the picker's ❤️ (U+2764 U+FE0F) are one reaction, not two."""
    react(message, author, "\u2764\ufe0f")
    reacted = react(message, bob, "\u2764")

    assert reacted.reactions == [{"emoji": "\u2764\ufe0f", "count": 2, "user_ids": [author.pk, bob.pk]}]


def test_deleting_a_message_drops_its_mentions(room, author, bob):
    """No one is counted as mentioned in a message no one can read any more."""
    message, _ = services.message_create(room=room, author=author, text="hi @bob")
    assert Mention.objects.filter(message=message).exists()

    services.message_delete(message=message, by=author)

    assert not Mention.objects.filter(message=message).exists()
