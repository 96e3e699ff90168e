"""Listeners on loopback that count who connects: a bare TCP door, and an HTTPS server with a test CA.

The HTTPS server's certificate is issued here, for the names a test maps to 127.0.0.1 with its resolver;
`trusted` points SSL_CERT_FILE at it, which is how the machine's trust store would name a CA.
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import ipaddress
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NAMES = ("assets.test", "hop.test", "127.0.0.1")


def issue_certificate(folder: Path, names: tuple[str, ...] = NAMES) -> tuple[Path, Path]:
    """A self-signed certificate for `names` (host names and addresses), and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class Door:
    """A TCP listener on a loopback address that accepts and counts connections, and says nothing."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.bind((host, 0))
        self._socket.listen(64)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        """Wake the accepting thread and wait for it before the socket's number is freed: a thread about to
        call accept() with a number already closed would take the next socket given that number, say another
        test's HTTPS server, and hang up on its callers."""
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # a blocked accept() returns with an error
        self._thread.join()
        self._socket.close()


class HttpsServer:
    """An HTTPS server on 127.0.0.1 that answers each path as a test set it, and counts connections.

    Like the storage behind most media URLs, it answers a GET for one byte range (`Range: bytes=a-b`)
    with 206 and that part alone (RFC 9110, 14); with `ranges = False` it sends the whole body instead,
    as a server that ignores ranges may."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[str] = []
        self.ranges_asked: list[str | None] = []  # each request's Range header
        self.ranges = True
        self.sent = 0  # body bytes answered with, over all requests
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(f"{self.headers.get('Host')}{self.path}")
                asked = self.headers.get("Range")
                server.ranges_asked.append(asked)
                status, headers, body = server.routes.get(self.path, (404, {}, b"not here"))
                part = re.fullmatch(r"bytes=(\d+)-(\d*)", asked or "")
                if status == 200 and server.ranges and part and int(part[1]) < len(body):
                    first = int(part[1])
                    last = min(int(part[2]) if part[2] else len(body) - 1, len(body) - 1)
                    headers = {**headers, "Content-Range": f"bytes {first}-{last}/{len(body)}"}
                    status, body = 206, body[first : last + 1]
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                server.sent += len(body)  # counted before the client can have it all
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    self.wfile.write(body)  # a client that read what it wanted may hang up first

            def log_message(self, format: str, *args: object) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        # A short poll, as shutdown() waits for the loop to look again: the default 0.5 s is paid per test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def https_server(folder: Path) -> Iterator[tuple[HttpsServer, Path]]:
    """The server and the certificate to trust for it."""
    cert_file, key_file = issue_certificate(folder)
    server = HttpsServer(cert_file, key_file)
    try:
        yield server, cert_file
    finally:
        server.close()
