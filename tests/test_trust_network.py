"""Where the server connects on a caller's behalf: public addresses only, in every spelling, checked where
it connects, and on every redirect hop.

No test here sends a packet beyond loopback: names resolve through `tests.networks.Resolver`, which asks
no DNS server, and connections go through `LoopbackOnly`, which opens sockets to loopback alone. Doors
on 127.0.0.1 count every connection that reaches them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import Settings
from server.trust import Trust
from server.trust.guard import Guard, Refused
from server.trust.network import CallerHttp
from tests.conftest import connect, text_of
from tests.loopback import Door, HttpsServer
from tests.media import picture
from tests.networks import PUBLIC, LoopbackOnly, Resolver

pytestmark = pytest.mark.anyio

NOT_PUBLIC = [
    "127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST.", "media.localhost", "::1", "[::1]", "0.0.0.0", "0",
    "2130706433", "0x7f.0.0.1", "0x7f000001", "0177.0.0.1", "127.1", "::ffff:127.0.0.1", "[::ffff:7f00:1]",
    "::127.0.0.1", "10.0.0.1", "10.255.255.255", "172.16.5.4", "172.31.0.1", "192.168.1.1", "169.254.169.254",
    "0xa9.0xfe.0xa9.0xfe", "2852039166", "fe80::1", "100.64.0.1", "100.127.255.254", "fc00::1", "fd12:3456::1",
    "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1", "::", "2002:7f00:1::", "64:ff9b::a00:1",
    "::ffff:169.254.169.254", "192.0.0.8", "198.18.0.1",
]  # fmt: skip
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "100.128.0.1", "172.32.0.1"]


@pytest.mark.parametrize("host", NOT_PUBLIC)
def test_an_address_that_is_not_public_is_refused_in_every_spelling(host: str):
    with pytest.raises(Refused) as refused:
        Guard().literal(host)
    assert " is " in str(refused.value) and "address" in str(refused.value)


@pytest.mark.parametrize("host", PUBLIC_ADDRESSES)
def test_a_public_address_passes(host: str):
    assert Guard().literal(host)[1] is not None


@pytest.fixture
def door() -> Iterator[Door]:
    listener = Door()
    yield listener
    listener.close()


def _http(resolver: Resolver, network: LoopbackOnly, *private: str) -> CallerHttp:
    return CallerHttp(Guard(resolver, frozenset(private), network))


async def _refused(http: CallerHttp, url: str) -> str:
    with pytest.raises(Refused) as refused:
        async with http.get(url):
            pass
    return str(refused.value)


async def test_a_name_that_resolves_to_a_private_address_is_refused_and_nothing_is_connected(door: Door):
    resolver, network = Resolver(), LoopbackOnly()
    resolver.map("intranet.test", ["10.0.0.5"])
    resolver.map("mixed.test", [str(PUBLIC), "127.0.0.1"])  # one bad answer among good ones is enough
    resolver.map("metadata.test", ["169.254.169.254"])
    http = _http(resolver, network)
    assert "a name for a private address" in await _refused(http, f"https://intranet.test:{door.port}/a.png")
    assert "a name for a loopback address" in await _refused(http, f"https://mixed.test:{door.port}/a.png")
    assert "link-local" in await _refused(http, f"https://metadata.test:{door.port}/latest/meta-data/")
    assert network.asked == [] and door.connections == 0


async def test_a_name_that_changes_its_answer_after_the_check_is_refused_where_it_connects(door: Door):
    """DNS rebinding: the up-front check sees a public address, the connection would see loopback."""
    resolver, network = Resolver(), LoopbackOnly()
    resolver.map("rebind.test", [str(PUBLIC)], ["127.0.0.1"])
    http = _http(resolver, network)
    with pytest.raises(Exception) as failed:
        async with http.get(f"https://rebind.test:{door.port}/a.png"):
            pass
    assert "rebind.test is a name for a loopback address" in str(failed.value)
    assert resolver.lookups == ["rebind.test", "rebind.test"]  # the check, then the connection's own lookup
    assert network.asked == [] and door.connections == 0


async def test_an_allowed_private_host_is_fetched_from_the_address_that_was_checked(https: HttpsServer):
    resolver, network = Resolver(), LoopbackOnly()
    resolver.map("assets.test", ["127.0.0.1"])
    https.routes["/cat.png"] = (200, {"Content-Type": "image/png"}, b"the cat")
    async with _http(resolver, network, "assets.test").get(f"https://assets.test:{https.port}/cat.png") as answer:
        assert answer.status_code == 200 and await answer.aread() == b"the cat"
    assert network.asked == ["127.0.0.1"]
    assert https.requests == [f"assets.test:{https.port}/cat.png"]


async def test_every_redirect_hop_is_checked_again(https: HttpsServer, door: Door):
    resolver, network = Resolver(), LoopbackOnly()
    resolver.map("assets.test", ["127.0.0.1"])
    resolver.map("hop.test", ["10.9.8.7"])
    base = f"https://assets.test:{https.port}"
    https.routes["/to-loopback"] = (302, {"Location": f"https://127.0.0.1:{door.port}/x"}, b"")
    https.routes["/to-private-name"] = (301, {"Location": f"https://hop.test:{door.port}/x"}, b"")
    https.routes["/to-decimal"] = (307, {"Location": f"https://2130706433:{door.port}/x"}, b"")
    https.routes["/to-plain-http"] = (302, {"Location": f"http://assets.test:{https.port}/cat.png"}, b"")
    http = _http(resolver, network, "assets.test")
    assert "127.0.0.1 is a loopback address" in await _refused(http, f"{base}/to-loopback")
    assert "hop.test is a name for a private address" in await _refused(http, f"{base}/to-private-name")
    assert "2130706433 is a loopback address" in await _refused(http, f"{base}/to-decimal")
    assert "not https://" in await _refused(http, f"{base}/to-plain-http")
    assert door.connections == 0 and set(network.asked) == {"127.0.0.1"}  # the allowed host's own address


async def test_redirects_end_after_three_hops(https: HttpsServer):
    resolver, network = Resolver(), LoopbackOnly()
    resolver.map("assets.test", ["127.0.0.1"])
    base = f"https://assets.test:{https.port}"
    for hop in range(6):
        https.routes[f"/{hop}"] = (302, {"Location": f"/{hop + 1}"}, b"")
    assert "more than 3 redirects away" in await _refused(_http(resolver, network, "assets.test"), f"{base}/0")
    assert len(https.requests) == 4


def test_the_operator_names_private_hosts_in_any_spelling():
    settings = Settings.from_env({"SEEDANCE_PRIVATE_MEDIA_HOSTS": "Assets.LAN., [::1], 0x7f.0.0.1"})
    assert settings.private_media_hosts == ("assets.lan", "::1", "127.0.0.1")
    guard = Trust.of(settings).guard
    assert guard.literal("127.1")[1] is not None  # the same address as allowed, however spelled
    with pytest.raises(SystemExit, match="SEEDANCE_PRIVATE_MEDIA_HOSTS holds 'a b'"):
        Settings.from_env({"SEEDANCE_PRIVATE_MEDIA_HOSTS": "a b"})


def _preview(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, provider="local", fal_key=None, home=tmp_path / "preview-home")


async def test_the_preview_backend_fetches_an_allowed_host_and_refuses_the_rest_before_submitting(
    settings: Settings, tmp_path: Path, https: HttpsServer, door: Door
):
    """The operator's own base URLs (the fake fal on 127.0.0.1) are trusted; a caller's URL naming the same
    address is not, unless the operator named its host."""
    resolver, network = Resolver(), LoopbackOnly()
    resolver.map("assets.test", ["127.0.0.1"])
    https.routes["/start.png"] = (
        200,
        {"Content-Type": "image/png"},
        picture((400, 300), (40, 90, 160), (250, 200, 40)),
    )
    local = dataclasses.replace(_preview(settings, tmp_path), private_media_hosts=("assets.test",))
    call = {"prompt": "a slow push-in", "duration": "4", "resolution": "480p"}
    trust = Trust.of(local, resolver=resolver, network=network)
    async with connect(local, trust) as client:
        made = await client.call_tool(
            "animate_image", {**call, "image_url": f"https://assets.test:{https.port}/start.png"}
        )
        refused = await client.call_tool("animate_image", {**call, "image_url": f"https://127.0.0.1:{door.port}/a.png"})
    assert made.structured_content and made.structured_content["status"] == "completed", text_of(made)
    assert https.requests == [f"assets.test:{https.port}/start.png"] * 2  # read by the checks, then the preview
    assert refused.is_error and "127.0.0.1 is a loopback address" in text_of(refused)
    assert "nothing was submitted" in text_of(refused) and door.connections == 0
