"""Message search benchmark: how long `GET /search/`'s one read takes, and what its index costs a message.

    .venv/bin/python bench/search.py --database-url postgres://postgres@127.0.0.1:5432/letstalk_search_bench \
        [--messages N] [--repeat 200] [--inserts 20000] [--out results.json] [--regenerate] [--explain]

`make bench-search` runs it (SEARCH_ARGS="..." to change the arguments); with
--database-url sqlite:////tmp/letstalk-search-bench.sqlite3 it measures SQLite's FTS5 index.

Prepares the database (creates a PostgreSQL database that is missing, runs
`manage.py migrate`, adds 50 people and 20 rooms, 4 of them private) and fills it
with --messages chat messages (default 1,000,000 on PostgreSQL, 100,000 on
SQLite): words drawn from a Zipf-like vocabulary, a few set phrases, a year of
`created_at` in id order, per-room seq and changed_seq as the services number
them. A database already holding that many messages is used as it is (reruns
are quick); --regenerate replaces them. Then:

1. times rooms.search.selector.message_search itself (pages 1 and 5) for each
   kind of search, the words chosen by how often they really occur, as someone
   who may read every public room and 2 of the 4 private ones;
2. times rooms.services.message_create one message per transaction: with the
   search index, without it (dropped, then built again, even on error), and with
   it again, in a private scratch room the searches never see, removed afterwards.

Prints markdown tables; --out also writes them as JSON. Point it at a database
of its own: it creates accounts and rooms, and --regenerate empties rooms_message.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

if TYPE_CHECKING:
    from accounts.models import User
    from rooms.models import Room
    from rooms.search.query import Search

SEED = 20261201
DEFAULT_MESSAGES = {"postgresql": 1_000_000, "sqlite": 100_000}
BATCH = 20_000
SPAN = timedelta(days=365)
PAGES = (1, 5)
WARMUP = 5
# Zipf-Mandelbrot ranks: weight 1 / (rank + Q) ** S over VOCABULARY words. With messages of
# 3 + Exp(mean LENGTH_EXTRA) words (at most 30), the commonest word is in about a quarter of the
# messages and the last words of the tail in about 25 of a million: chat's long tail of names and typos.
VOCABULARY = 40_000
ZIPF_Q, ZIPF_S = 2.7, 1.0
LENGTH_MIN, LENGTH_MAX, LENGTH_EXTRA = 3, 30, 8.0
PHRASE_SHARE = 0.05  # messages holding one of PHRASES
DELETED_SHARE = 0.005  # messages a moderator deleted: never found
RARE_RANGE = (10, 100)  # a rare word is in this many messages
WORD = re.compile(r"\w+")  # as rooms.search.query splits words

# Commonest first (roughly chat's order); the rest of the vocabulary is made-up words.
_COMMON_WORDS = """
the i you to a it and is that in of for me we on this have so be just but not my do can with what
are no yes was know ok if at like get all there think it's i'm don't will they one good now about up
how out go from your an or here then see back time yeah did would thanks people too some lol still
need want today also been really going make should right when more he she any work got new well could
sure has his her them why day let because way much by thing thought look try tomorrow meeting morning
night week later maybe nice great never last first again other something anyone someone everyone call
help question issue build test deploy server code fix bug release update check please sorry agree idea
plan start done happy weekend lunch coffee game team music movie book link post read write send sent
email chat room channel phone home office remote coming leaving soon early late friday monday tuesday
wednesday thursday saturday sunday yesterday tonight hour minute problem working broken fixed works
merged review branch staging production database cache login password account page site design
feature ticket deadline sprint demo slides notes doc docs draft version change changes feedback
birthday congrats welcome hello hi hey bye thank awesome cool weird funny crazy true false exactly
probably definitely actually literally basically honestly totally almost enough though while since
before after until every each both few many most same different big small long short old young hot
cold rain weather sun snow train bus car bike walk run food pizza dinner breakfast tea beer party trip
travel flight hotel city world news story video photo picture song album concert show season episode
score match win lost play playing player coach goal points league cup final can't didn't i'll let's
won't you're that's
"""
COMMON_WORDS = _COMMON_WORDS.split()
PHRASES = [
    "let me know",
    "see you tomorrow",
    "good morning",
    "thanks a lot",
    "on my way",
    "sounds good to me",
    "what do you think",
    "no worries",
    "happy birthday",
    "pull request",
    "in a meeting",
    "give me a minute",
    "out of office",
    "merge conflict",
]
ENDINGS = ["", "", "", ".", ".", "!", "?", "?", "...", " :)", " 👍"]
_FIRST_NAMES = """
alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy quentin rupert sybil
trent ursula victor walter xena yusuf zoe amir bianca chen dmitri elena farid gita hiro ines jonas kemal
lena marco nadia omar priya rafael sofia tomas uma vera wen ximena yara zane
"""
FIRST_NAMES = _FIRST_NAMES.split()
# slug, name; the three the migration seeds come first. Rooms further down get fewer messages.
PUBLIC_ROOMS = [
    ("general", "General"),
    ("sports", "Sports"),
    ("music", "Music"),
    ("random", "Random"),
    ("dev", "Development"),
    ("help", "Help"),
    ("design", "Design"),
    ("ops", "Operations"),
    ("support", "Support"),
    ("books", "Books"),
    ("movies", "Movies"),
    ("games", "Games"),
    ("food", "Food"),
    ("travel", "Travel"),
    ("pets", "Pets"),
    ("jobs", "Jobs"),
]
# slug, name, members (indexes into FIRST_NAMES); the searcher (index 0) is in the first two.
PRIVATE_ROOMS = [
    ("staff", "Staff", range(0, 12)),
    ("leads", "Leads", (0, 3, 7, 12, 20, 31)),
    ("security", "Security", (1, 5, 9, 14, 22)),
    ("hiring", "Hiring", (2, 6, 11, 40)),
]
SCRATCH_ROOM = "bench-search-scratch"


# --- preparing the database -------------------------------------------------------------------------


def vendor_of(database_url: str) -> str:
    """ "postgresql" or "sqlite", from the URL's scheme (before Django is set up)."""
    scheme = database_url.split(":", 1)[0]
    if scheme in ("postgres", "postgresql", "pgsql", "psql"):
        return "postgresql"
    if scheme in ("sqlite", "sqlite3"):
        return "sqlite"
    raise SystemExit(f"--database-url: PostgreSQL or SQLite only, not {scheme!r}")


def django_env(database_url: str) -> dict[str, str]:
    """The environment of a debug-mode run on `database_url` only: no .env file, no Redis."""
    env = {**os.environ, "DJANGO_ENV_FILE": os.devnull, "DJANGO_DEBUG": "1", "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    return env


def postgres_database_ensure(database_url: str) -> None:
    """Create the PostgreSQL database of `database_url` if it is missing (migrate cannot)."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(database_url)
    connect = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **connect) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if found is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}", flush=True)


def migrate(database_url: str) -> None:
    """`manage.py migrate`, in a process of its own, as `make run` would."""
    command = [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"]
    subprocess.run(command, cwd=ROOT, env=django_env(database_url), check=True)  # noqa: S603


@dataclass
class Cast:
    """The people and rooms messages are written by and in."""

    users: list[User]
    public: list[Room]
    private: list[tuple[Room, list[User]]]
    searcher: User


def cast_ensure() -> Cast:
    """50 people and 20 rooms (4 private, with members), created if missing: reruns find the same ones."""
    from accounts.models import User
    from rooms.models import Room, RoomKind, RoomMember

    users = []
    for name in FIRST_NAMES:
        user = User.objects.filter(username=name).first()
        if user is None:
            user = User(username=name, display_name=name.title())
            user.set_unusable_password()  # no one signs in: a password hash each would take seconds
            user.save()
        users.append(user)
    public = [
        Room.objects.get_or_create(slug=slug, defaults={"name": name, "kind": RoomKind.PUBLIC})[0]
        for slug, name in PUBLIC_ROOMS
    ]
    private = []
    for slug, name, member_indexes in PRIVATE_ROOMS:
        room = Room.objects.get_or_create(slug=slug, defaults={"name": name, "kind": RoomKind.PRIVATE})[0]
        members = [users[index] for index in member_indexes]
        for member in members:
            RoomMember.objects.get_or_create(room=room, user=member)
        private.append((room, members))
    return Cast(users=users, public=public, private=private, searcher=users[0])


def vocabulary(rng: random.Random, size: int = VOCABULARY) -> list[str]:
    """COMMON_WORDS, then made-up words (pronounceable, 2 to 4 syllables) up to `size`, commonest first."""
    words = list(dict.fromkeys(COMMON_WORDS))
    seen = set(words)
    onsets = [*"bcdfghjklmnprstvwz", "br", "cr", "dr", "fl", "gr", "pl", "st", "tr", "sh", "ch", "th"]
    vowels = [*"aeiou", "ai", "ea", "oo", "ou"]
    codas = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck"]
    while len(words) < size:
        syllables = rng.choice((2, 2, 3, 3, 4))
        word = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syllables))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_cumulative(count: int, *, q: float = ZIPF_Q, s: float = ZIPF_S) -> list[float]:
    """Cumulative weights of ranks 1..count, for random.choices."""
    return list(itertools.accumulate(1 / (rank + q) ** s for rank in range(1, count + 1)))


class ChatText:
    """Chat messages' text: Zipf-distributed words, at times a set phrase, a capital, a comma, a smiley."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = vocabulary(rng)
        self.cumulative = zipf_cumulative(len(self.words))
        self.phrases = [phrase.split() for phrase in PHRASES]
        self.phrase_cumulative = zipf_cumulative(len(self.phrases), q=1.0)

    def __call__(self) -> str:
        """One message's text."""
        rng = self.rng
        length = min(LENGTH_MAX, LENGTH_MIN + int(rng.expovariate(1 / LENGTH_EXTRA)))
        tokens = rng.choices(self.words, cum_weights=self.cumulative, k=length)
        if rng.random() < PHRASE_SHARE:
            phrase = rng.choices(self.phrases, cum_weights=self.phrase_cumulative)[0]
            at = rng.randrange(max(1, len(tokens) - len(phrase) + 1))
            tokens[at : at + len(phrase)] = phrase
        if length > 6 and rng.random() < 0.3:
            tokens[rng.randrange(1, length - 1)] += ","
        if rng.random() < 0.5:
            tokens[0] = tokens[0].capitalize()
        return " ".join(tokens) + rng.choice(ENDINGS)


@dataclass(frozen=True)
class Row:
    """One message to store."""

    room_id: int
    author_id: int
    text: str
    created_at: datetime
    deleted_at: datetime | None
    seq: int
    changed_seq: int

    def values(self, moment: Callable[[datetime | None], Any]) -> tuple[Any, ...]:
        """The row in COLUMNS' order, its times as `moment` writes them for the database."""
        return (
            self.room_id,
            self.author_id,
            self.text,
            moment(self.created_at),
            "",  # client_id
            moment(self.deleted_at),
            None,  # edited_at
            "[]",  # mention_ids
            "[]",  # reactions
            self.seq,
            self.changed_seq,
        )


def rows_generated(cast: Cast, count: int, *, start: datetime, end: datetime, seed: int) -> Iterator[Row]:
    """`count` messages sent between `start` and `end`, oldest (lowest id) first, numbered per room.

    Busier rooms and chattier people by Zipf weights; in a private room only its
    members write. A deleted message's deletion is the room's next event (changed_seq).
    """
    from rooms.models import Room

    rng = random.Random(seed)  # noqa: S311 (made-up messages, no secret)
    text = ChatText(rng)
    rooms = [(room, cast.users) for room in cast.public] + cast.private
    room_cumulative = zipf_cumulative(len(rooms), q=1.0, s=0.9)
    author_cumulative = {
        room.pk: zipf_cumulative(len(members), q=1.0) for room, members in rooms
    }  # the first members talk the most
    seqs = dict(Room.objects.filter(pk__in=[room.pk for room, _ in rooms]).values_list("pk", "seq"))
    gap = (end - start).total_seconds() / count
    at = start.timestamp()
    for _ in range(count):
        at += rng.expovariate(1 / gap)
        created = datetime.fromtimestamp(min(at, end.timestamp()), tz=UTC)
        room, members = rng.choices(rooms, cum_weights=room_cumulative)[0]
        author = rng.choices(members, cum_weights=author_cumulative[room.pk])[0]
        seqs[room.pk] += 1
        seq = changed = seqs[room.pk]
        deleted = None
        if rng.random() < DELETED_SHARE:
            seqs[room.pk] += 1
            changed, deleted = seqs[room.pk], created + timedelta(minutes=rng.randint(1, 120))
        yield Row(room.pk, author.pk, text(), created, deleted, seq, changed)


COLUMNS = (
    "room_id, author_id, text, created_at, client_id, deleted_at, edited_at, mention_ids, reactions, "
    "seq, changed_seq"
)


def _store_postgres(batch: list[Row]) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY rooms_message ({COLUMNS}) FROM STDIN") as copy,
    ):
        for row in batch:
            copy.write_row(row.values(lambda at: at))


def _store_sqlite(batch: list[Row]) -> None:
    from django.db import connection

    # bulk_create would stamp created_at now (auto_now_add): plain INSERTs keep the generated times.
    adapt = connection.ops.adapt_datetimefield_value
    places = ", ".join(["%s"] * len(COLUMNS.split(",")))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO rooms_message ({COLUMNS}) VALUES ({places})",  # noqa: S608 (constants only)
            [row.values(adapt) for row in batch],
        )


def messages_generate(cast: Cast, count: int, *, seed: int) -> float:
    """Store `count` more messages in batches of BATCH, one transaction each; returns the seconds taken.

    They follow the latest stored message (or start a year ago) and end now, so ids
    and times rise together as in a real room. The search index (GIN, or FTS5 through
    its triggers) is kept up to date as they go in, as it would be in production.
    """
    from django.db import connection, transaction
    from django.db.models import Max

    from rooms.models import Message, Room

    store = _store_postgres if connection.vendor == "postgresql" else _store_sqlite
    end = datetime.now(UTC)
    latest = Message.objects.aggregate(latest=Max("created_at"))["latest"]
    start = latest if latest and end - SPAN < latest < end - timedelta(hours=1) else end - SPAN
    began = time.monotonic()
    rows = rows_generated(cast, count, start=start, end=end, seed=seed)
    done = 0
    while batch := list(itertools.islice(rows, BATCH)):
        with transaction.atomic():
            store(batch)
            latest_seq: dict[int, int] = {}
            for row in batch:
                latest_seq[row.room_id] = max(latest_seq.get(row.room_id, 0), row.changed_seq)
            for room_id, seq in latest_seq.items():
                # The room's seq is its latest event's: what room_seq_next continues from.
                Room.objects.filter(pk=room_id, seq__lt=seq).update(seq=seq)
        done += len(batch)
        if done % (BATCH * 5) == 0 or done == count:
            elapsed = time.monotonic() - began
            print(f"  {done:,} / {count:,} messages, {elapsed:.0f} s ({done / elapsed:,.0f}/s)", flush=True)
    return time.monotonic() - began


def messages_remove_all() -> None:
    """Empty rooms_message (and what hangs off it) for --regenerate."""
    from django.db import connection

    from rooms.search.index import search_index_create, search_index_drop

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE rooms_message CASCADE")
        return
    # SQLite: without the FTS5 triggers (a delete each), then the (empty) index again.
    with connection.schema_editor() as editor:
        search_index_drop(editor)
    with connection.cursor() as cursor:
        for table in ("rooms_mention", "rooms_reaction", "rooms_messagerevision", "rooms_message"):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (constants only)
    with connection.schema_editor() as editor:
        search_index_create(editor)


def database_settle() -> None:
    """Statistics for the planner, as a table that has been around a while has them.

    PostgreSQL: VACUUM (ANALYZE), as autovacuum would have by now: the visibility
    map and hint bits set, the GIN index's pending list merged, and the statistics
    of the indexed tsvector (ANALYZE gathers them through the expression index).
    SQLite: ANALYZE and PRAGMA optimize, then the WAL folded into the file.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM (ANALYZE) rooms_message")
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA optimize")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def index_rebuild() -> float:
    """Build the search index (rooms.search.index) again and settle the statistics; returns its seconds."""
    from django.db import connection

    from rooms.search.index import search_index_create, search_index_drop

    began = time.monotonic()
    with connection.schema_editor() as editor:
        search_index_drop(editor)  # whatever is left of one
        search_index_create(editor)
    seconds = time.monotonic() - began
    database_settle()
    return seconds


# --- choosing searches -------------------------------------------------------------------------------


@dataclass
class Corpus:
    """How often words, phrases, rooms and people really occur among the messages searches may find."""

    messages: int
    words: Counter[str]
    phrases: Counter[str]
    rooms: Counter[str]
    authors: Counter[str]
    first: datetime
    last: datetime
    seconds: float = 0.0


def corpus_count() -> Corpus:
    """Count, per word and per phrase, the messages not deleted that hold it (one pass over every text)."""
    from django.db.models import Count, Max, Min

    from rooms.models import Message

    began = time.monotonic()
    alive = Message.objects.filter(deleted_at__isnull=True)
    words: Counter[str] = Counter()
    phrases: Counter[str] = Counter()
    messages = 0
    for text in alive.values_list("text", flat=True).iterator(chunk_size=BATCH):
        tokens = WORD.findall(text.casefold())
        words.update(set(tokens))
        joined = f" {' '.join(tokens)} "
        phrases.update(phrase for phrase in PHRASES if f" {phrase} " in joined)
        messages += 1
    rooms = Counter(dict(alive.values_list("room__slug").annotate(n=Count("id"))))
    authors = Counter(dict(alive.values_list("author__username").annotate(n=Count("id"))))
    span = alive.aggregate(first=Min("created_at"), last=Max("created_at"))
    return Corpus(
        messages, words, phrases, rooms, authors, span["first"], span["last"], time.monotonic() - began
    )


@dataclass(frozen=True)
class Kind:
    """A kind of search and the query text standing for it."""

    name: str
    text: str


def _share(count: int, total: int) -> str:
    return f"{count / total:.1%}" if count / total >= 0.001 else f"{count:,}"


def kinds_chosen(corpus: Corpus, cast: Cast) -> list[Kind]:
    """One query per kind of search, its words picked by their real frequency in `corpus`."""
    total = corpus.messages
    ranked = [word for word, _ in corpus.words.most_common() if len(word) >= 3 and word.isalpha()]
    common, second, third = ranked[:3]
    mid = min(ranked, key=lambda word: (abs(math.log(corpus.words[word] / (0.01 * total))), word))
    low, high = RARE_RANGE
    rare_words = [word for word in ranked if low <= corpus.words[word] <= high]
    if not rare_words:
        raise SystemExit(f"no word is in {low} to {high} messages: generate more messages")
    rare = min(rare_words, key=lambda word: (abs(math.log(corpus.words[word] / math.sqrt(low * high))), word))
    phrase = max(PHRASES, key=lambda phrase: (corpus.phrases[phrase], phrase))
    public = {room.slug for room in cast.public}
    room = min(
        (slug for slug in corpus.rooms if slug in public),
        key=lambda slug: (abs(math.log(corpus.rooms[slug] / (0.05 * total))), slug),
    )
    handle = min(
        corpus.authors, key=lambda name: (abs(math.log(corpus.authors[name] / (0.02 * total))), name)
    )
    span = corpus.last - corpus.first
    after = (corpus.first + span / 2).date()
    old = (corpus.first + span / 4).date()
    words = corpus.words

    def said(word: str) -> str:
        return f"{_share(words[word], total)} of messages"

    return [
        Kind(f"very common word ({said(common)})", common),
        Kind(f"mid-frequency word ({said(mid)})", mid),
        Kind(f"rare word (in {words[rare]:,} messages)", rare),
        Kind(f"two common words ({_share(words[second], total)}, {said(third)})", f"{second} {third}"),
        Kind(f"phrase (in {_share(corpus.phrases[phrase], total)} of messages)", f'"{phrase}"'),
        Kind(f"in: a room ({_share(corpus.rooms[room], total)}) + common word", f"in:{room} {common}"),
        Kind(f"from: a person ({_share(corpus.authors[handle], total)}) + mid word", f"from:{handle} {mid}"),
        Kind(
            "after: + before: (a month) + common word",
            f"{common} after:{after} before:{after + timedelta(days=31)}",
        ),
        Kind("before: (the oldest quarter) + mid word", f"{mid} before:{old}"),
        Kind(f"in: a room only, no words ({_share(corpus.rooms[room], total)})", f"in:{room}"),
    ]


# --- timing searches ---------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `sorted_values`."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


@dataclass
class QueryResult:
    """One kind of search, one page: its matches and times."""

    kind: str
    text: str
    page: int
    matches: int
    count_ms: float
    runs: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    plan: str = ""


def _matching(user_id: int, search: Search) -> Any:
    """The queryset message_search pages through, built as rooms.search.selector builds it (to count it)."""
    from django.conf import settings

    from rooms.access import rooms_open_to
    from rooms.models import Message
    from rooms.search.selector import _backend, _narrowed

    readable = rooms_open_to(user_id=user_id).values("pk")
    messages = _narrowed(Message.objects.filter(room__in=readable, deleted_at__isnull=True), search)
    if search.terms:
        messages = _backend().messages_matching(messages, search.terms, settings.CHAT_SEARCH_CONFIG)
    return messages


def _plan(user_id: int, search: Search, page: int) -> str:
    """The plan of the page query message_search sends (its first query), run for real."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rooms.search.selector import message_search

    with CaptureQueriesContext(connection) as captured:
        message_search(user_id=user_id, search=search, page=page)
    sql = next(query["sql"] for query in captured.captured_queries if "LIMIT" in query["sql"])
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql)
        lines = [" | ".join(str(value) for value in row) for row in cursor.fetchall()]
    return f"{sql}\n" + "\n".join(lines)


def query_time(
    kind: Kind, *, user_id: int, page: int, repeat: int, budget: float, explain: bool
) -> QueryResult:
    """Warm up, then time message_search `repeat` times (or for `budget` seconds, whichever ends first)."""
    from rooms.search.query import search_parse
    from rooms.search.selector import PAGE_SIZE, message_search

    search = search_parse(kind.text)
    for _ in range(WARMUP):
        found = message_search(user_id=user_id, search=search, page=page)
    matching = _matching(user_id, search)
    began = time.perf_counter()
    matches = matching.count()
    count_ms = (time.perf_counter() - began) * 1000
    # The count's queryset must be the selector's: the same messages, in the same order.
    start = (page - 1) * PAGE_SIZE
    expected = list(matching.order_by("-id").values_list("pk", flat=True)[start : start + PAGE_SIZE])
    if [result["id"] for result in found.results] != expected:
        raise SystemExit(f"{kind.text!r} page {page}: the counted queryset is not the selector's")
    times = []
    deadline = time.monotonic() + budget
    while len(times) < repeat and (not times or time.monotonic() < deadline):
        began = time.perf_counter()
        message_search(user_id=user_id, search=search, page=page)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return QueryResult(
        kind=kind.name,
        text=kind.text,
        page=page,
        matches=matches,
        count_ms=round(count_ms, 1),
        runs=len(times),
        p50_ms=round(percentile(times, 50), 2),
        p99_ms=round(percentile(times, 99), 2),
        max_ms=round(times[-1], 2),
        mean_ms=round(sum(times) / len(times), 2),
        plan=_plan(user_id, search, page) if explain else "",
    )


# --- timing inserts ----------------------------------------------------------------------------------


@dataclass
class InsertResult:
    """message_create one per transaction, with or without the search index."""

    label: str
    index: bool
    inserts: int
    mean_us: float
    p50_us: float
    p99_us: float
    max_us: float


def _inserts_timed(room: Room, author: User, texts: list[str], *, label: str, index: bool) -> InsertResult:
    from rooms.services import message_create

    print(f"  {len(texts) - 200:,} inserts {label} …", flush=True)
    for text in texts[:200]:  # warm-up: connection, plans, caches
        message_create(room=room, author=author, text=text)
    times = []
    for text in texts[200:]:
        began = time.perf_counter_ns()
        message_create(room=room, author=author, text=text)
        times.append((time.perf_counter_ns() - began) / 1000)
    times.sort()
    return InsertResult(
        label=label,
        index=index,
        inserts=len(times),
        mean_us=round(sum(times) / len(times), 1),
        p50_us=round(percentile(times, 50), 1),
        p99_us=round(percentile(times, 99), 1),
        max_us=round(times[-1], 1),
    )


def _scratch_clear(room: Room) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # message_create made no mentions (the texts have no @), reactions or revisions.
        cursor.execute("DELETE FROM rooms_message WHERE room_id = %s", [room.pk])


def insert_cost(cast: Cast, count: int, *, seed: int) -> tuple[list[InsertResult], float]:
    """Time `count` message_create calls with the index, `count` without, and `count` with it rebuilt.

    The passes with the index come before and after the one without, so that a
    machine getting busier or quieter meanwhile does not pass for the index's cost.
    The index is rebuilt once dropped, even on error. In a private room no searcher
    may read, emptied and removed afterwards, with the main data in the table (so
    the b-trees and the GIN index are their real size). Returns the three results
    and the seconds the rebuild took.
    """
    from django.db import connection

    from rooms.models import Room, RoomKind
    from rooms.search.index import search_index_drop, search_index_is_current

    room = Room.objects.get_or_create(
        slug=SCRATCH_ROOM, defaults={"name": "Bench scratch", "kind": RoomKind.PRIVATE}
    )[0]
    _scratch_clear(room)
    rng = random.Random(seed + 1)  # noqa: S311 (made-up messages, no secret)
    text = ChatText(rng)
    texts = [text() for _ in range(count + 200)]
    author = cast.users[1]
    results = []
    rebuild = 0.0
    try:
        results.append(_inserts_timed(room, author, texts, label="with the search index", index=True))
        with connection.schema_editor() as editor:
            search_index_drop(editor)
        try:
            results.append(_inserts_timed(room, author, texts, label="without the index", index=False))
        finally:
            _scratch_clear(room)
            print("rebuilding the search index …", flush=True)
            rebuild = index_rebuild()
        results.append(_inserts_timed(room, author, texts, label="with the index, rebuilt", index=True))
    finally:
        _scratch_clear(room)
        room.delete()
        if not search_index_is_current(connection):  # the rebuild itself failed: once more
            rebuild = index_rebuild()
        database_settle()  # the scratch rows' dead tuples gone, statistics as before
    return results, rebuild


# --- reporting ---------------------------------------------------------------------------------------


def context_of(vendor: str) -> dict[str, Any]:
    """Where and when this ran: the numbers mean little without it."""
    from django.conf import settings
    from django.db import connection

    from rooms.models import Message
    from rooms.search.index import POSTGRES_INDEX

    cpuinfo = Path("/proc/cpuinfo")
    models = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
    cpu = models[0].split(":", 1)[1].strip() if models else platform.processor() or "unknown"
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "vendor": vendor,
        "search_config": settings.CHAT_SEARCH_CONFIG,
        "messages": Message.objects.count(),
    }
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SHOW server_version")
            info["server"] = f"PostgreSQL {cursor.fetchone()[0]}"
            cursor.execute(
                "SELECT pg_size_pretty(pg_table_size('rooms_message')), "
                "coalesce(pg_size_pretty(pg_relation_size(to_regclass(%s))), 'missing'), "
                "current_setting('shared_buffers'), current_setting('work_mem')",
                [POSTGRES_INDEX],
            )
            table, index, shared_buffers, work_mem = cursor.fetchone()
            info.update(table_size=table, index_size=index, shared_buffers=shared_buffers, work_mem=work_mem)
        else:
            cursor.execute("SELECT sqlite_version()")
            info["server"] = f"SQLite {cursor.fetchone()[0]}"
            info["file_size"] = f"{Path(settings.DATABASES['default']['NAME']).stat().st_size / 2**20:.0f} MB"
    return info


def tables(
    context: dict[str, Any], queries: list[QueryResult], inserts: list[InsertResult], rebuild: float
) -> str:
    """The results as markdown."""
    sizes = (
        f"table {context['table_size']}, GIN index {context['index_size']}, "
        f"shared_buffers {context['shared_buffers']}, work_mem {context['work_mem']}"
        if context["vendor"] == "postgresql"
        else f"file {context['file_size']}"
    )
    lines = [
        f"## Message search: {context['server']}, {context['messages']:,} messages",
        "",
        f"{context['date']}; {context['cores']} cores ({context['cpu']}); load average (1 min) "
        f"{context['load_average'][0]} at the start, {context['load_average_after_queries'][0]} after the "
        f"searches; search config {context['search_config']!r}; {sizes}.",
        f"Searcher: every public room and 2 of the 4 private ones. Warm-up {WARMUP} runs per row.",
    ]
    if context.get("generated_seconds") is not None:
        lines.append(
            f"Generated {context['generated']:,} messages in {context['generated_seconds']:.0f} s "
            f"(+ {context['settle_seconds']:.0f} s VACUUM/ANALYZE)."
        )
    lines.append(f"Word counts: one pass over every text, {context['count_seconds']:.0f} s.")
    lines += [
        "",
        "| search kind | query | page | matches | runs | p50 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {q.kind} | `{q.text}` | {q.page} | {q.matches:,} | {q.runs} | {q.p50_ms:.1f} | {q.p99_ms:.1f} "
        f"| {q.max_ms:.1f} |"
        for q in queries
    ]
    if inserts:
        lines += [
            "",
            "| message_create, one per transaction | inserts | mean µs | p50 µs | p99 µs | max µs |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r.label} | {r.inserts:,} | {r.mean_us:,.0f} | {r.p50_us:,.0f} | {r.p99_us:,.0f} "
            f"| {r.max_us:,.0f} |"
            for r in inserts
        ]
        with_index = [r for r in inserts if r.index]
        without = [r for r in inserts if not r.index]
        if with_index and without:

            def cost(name: str) -> str:
                present = sum(getattr(r, name) for r in with_index) / len(with_index)
                return f"{present - getattr(without[0], name):+,.0f}"

            lines.append(
                f"| the index's cost (passes with it, averaged, minus without) | | {cost('mean_us')} "
                f"| {cost('p50_us')} | {cost('p99_us')} | |"
            )
        lines.append(f"\nIndex rebuilt after the pass without it in {rebuild:.1f} s (then VACUUM/ANALYZE).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Prepare, measure, print (and write --out)."""
    parser = argparse.ArgumentParser(prog="bench/search.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--messages", type=int, help="default: 1,000,000 (PostgreSQL), 100,000 (SQLite)")
    parser.add_argument("--regenerate", action="store_true", help="replace the stored messages")
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per search and page [200]")
    parser.add_argument("--budget", type=float, default=60.0, help="at most this many seconds per row [60]")
    parser.add_argument("--inserts", type=int, default=20_000, help="message_create calls each way (0: skip)")
    parser.add_argument("--explain", action="store_true", help="print each page query's plan")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)

    vendor = vendor_of(args.database_url)
    wanted = args.messages or DEFAULT_MESSAGES[vendor]
    os.environ.update(django_env(args.database_url))
    os.environ.pop("REDIS_URL", None)
    if vendor == "postgresql":
        postgres_database_ensure(args.database_url)
    migrate(args.database_url)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from rooms.models import Message
    from rooms.search.index import search_index_is_current

    # Debug mode is here for its development secrets; its query log would be timed with every query.
    settings.DEBUG = False
    cast = cast_ensure()
    extra: dict[str, Any] = {}
    if args.regenerate:
        print("removing the stored messages …", flush=True)
        messages_remove_all()
    stored = Message.objects.count()
    if not search_index_is_current(connection):  # an earlier run stopped between drop and rebuild
        print("the search index is missing: building it …", flush=True)
        index_rebuild()
    if stored < wanted:
        print(f"generating {wanted - stored:,} messages ({stored:,} stored) …", flush=True)
        extra["generated"] = wanted - stored
        extra["generated_seconds"] = messages_generate(cast, wanted - stored, seed=SEED + stored)
        began = time.monotonic()
        database_settle()
        extra["settle_seconds"] = time.monotonic() - began
    else:
        print(f"{stored:,} messages stored: no generation (--regenerate to redo it)", flush=True)

    corpus = corpus_count()
    extra["count_seconds"] = corpus.seconds
    kinds = kinds_chosen(corpus, cast)
    context = {**context_of(vendor), **extra}
    queries = []
    for kind in kinds:
        for page in PAGES:
            result = query_time(
                kind,
                user_id=cast.searcher.pk,
                page=page,
                repeat=args.repeat,
                budget=args.budget,
                explain=args.explain,
            )
            queries.append(result)
            print(
                f"  {kind.text!r} page {page}: {result.matches:,} matches, p50 {result.p50_ms:.1f} ms, "
                f"p99 {result.p99_ms:.1f} ms, max {result.max_ms:.1f} ms ({result.runs} runs)",
                flush=True,
            )
            if result.plan:  # the SQL itself goes to --out
                print(result.plan.split("\n", 1)[1], flush=True)
    context["load_average_after_queries"] = [round(value, 2) for value in os.getloadavg()]
    inserts: list[InsertResult] = []
    rebuild = 0.0
    if args.inserts:
        print(f"timing {args.inserts:,} inserts with the index and {args.inserts:,} without …", flush=True)
        inserts, rebuild = insert_cost(cast, args.inserts, seed=SEED)
    report = tables(context, queries, inserts, rebuild)
    print("\n" + report)
    if args.out:
        payload = {
            "context": context,
            "queries": [asdict(q) for q in queries],
            "inserts": [asdict(r) for r in inserts],
            "index_rebuild_seconds": round(rebuild, 1),
        }
        args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
