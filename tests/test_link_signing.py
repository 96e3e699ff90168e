"""The signed link's rules, on their own: what verifies, what does not, and which bytes a `Range` names.

The served route is tested end to end in test_links.py; these are the cases too many to start a server for.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from server.media.links import KEY_FILE, Links, Target, link_keys
from server.transport.downloads import Unsatisfiable, byte_range

NOW = 1_800_000_000.0
OLD, NEW = b"an-older-key-of-at-least-32-bytes-0000", b"the-newest-key-of-at-least-32-bytes-111"
VIDEO = Target("jobs", "3f0c2a9e-7b1d-4c55-9a43-21e6f0b8d7c4", "video.mp4")


def parts(link: str) -> tuple[str, str, str]:
    split = urlsplit(link)
    query = parse_qs(split.query)
    return split.path, query["expires"][0], query["sig"][0]


def test_a_link_verifies_until_it_expires_and_names_what_it_was_signed_for():
    links = Links("https://mcp.team.example/", (NEW,), 3600)
    link = links.sign(VIDEO, now=NOW)
    assert link.startswith("https://mcp.team.example/files/jobs/3f0c2a9e-7b1d-4c55-9a43-21e6f0b8d7c4/video.mp4?")
    assert links.check(*parts(link), now=NOW + 3599) == VIDEO
    assert links.check(*parts(link), now=NOW + 3600) is None  # expired at its second


@pytest.mark.parametrize(
    "change",
    [
        lambda p, e, s: (p.replace("video.mp4", "poster.jpg"), e, s),  # another file of the job
        lambda p, e, s: (p.replace("3f0c", "3f0d"), e, s),  # another job
        lambda p, e, s: (p.replace("/jobs/", "/films/"), e, s),
        lambda p, e, s: (p, str(int(e) + 1), s),  # a later expiry
        lambda p, e, s: (p, e, s[:-1] + ("A" if s[-1] != "A" else "B")),
        lambda p, e, s: (p, e, ""),
        lambda p, e, s: (p, "", s),
        lambda p, e, s: (p + "/..", e, s),
        lambda p, e, s: (p.replace("video.mp4", "../../etc/passwd"), e, s),
    ],
)
def test_a_changed_link_verifies_as_nothing(change):
    links = Links("https://mcp.team.example", (NEW,), 3600)
    path, expires, sig = change(*parts(links.sign(VIDEO, now=NOW)))
    assert links.check(path, expires, sig, now=NOW) is None


def test_an_id_in_any_hosts_spelling_survives_the_round_trip():
    links = Links("https://a.example", (NEW,), 3600)
    for ident in ("cgt-20260101123456-abcde", "preview-9f1c", "run:42 ü", "a/b", "..", "100%25"):
        target = Target("jobs", ident, "video.mp4")
        path, expires, sig = parts(links.sign(target, now=NOW))
        assert "/" not in path.removeprefix("/files/jobs/").removesuffix("/video.mp4")
        assert links.check(path, expires, sig, now=NOW) == target


def test_during_a_rotation_either_key_verifies_and_the_first_signs():
    before = Links("https://a.example", (OLD,), 3600).sign(VIDEO, now=NOW)
    during = Links("https://a.example", (NEW, OLD), 3600)
    assert during.check(*parts(before), now=NOW) == VIDEO
    assert Links("https://a.example", (NEW,), 3600).check(*parts(during.sign(VIDEO, now=NOW)), now=NOW) == VIDEO
    assert Links("https://a.example", (NEW,), 3600).check(*parts(before), now=NOW) is None  # the old key retired


def test_without_shared_keys_the_server_keeps_one_of_its_own_in_its_home(tmp_path: Path):
    first = link_keys((), tmp_path)
    assert first == link_keys((), tmp_path) and len(first[0]) == 64  # made once, kept
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert link_keys(("x" * 40,), tmp_path) == (b"x" * 40,)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=100-199", (100, 200)),
        ("bytes=100-", (100, 1000)),
        ("bytes=-100", (900, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=990-5000", (990, 1000)),
        ("bytes=0-0", (0, 1)),
        ("bytes=0-99,200-299", None),  # several ranges: the whole file, as RFC 9110 allows
        ("items=0-10", None),
        ("bytes=-", None),
        ("bytes=200-100", None),  # not a range: ignored
    ],
)
def test_a_range_names_the_bytes_it_asks_for(header, expected):
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0"])
def test_a_range_past_the_end_is_unsatisfiable(header):
    with pytest.raises(Unsatisfiable):
        byte_range(header, 1000)
