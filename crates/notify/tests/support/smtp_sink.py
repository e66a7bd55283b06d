"""A local SMTP server for the notify tests (aiosmtpd, pinned in .ci/run).

Usage: python3 smtp_sink.py FOLDER [USER PASSWORD]

Listens on 127.0.0.1 on a free port and prints that port on its first line of stdout. Each
accepted message is written to FOLDER/<n>.eml (renamed into place when complete) with its
envelope recipients in an `X-Sink-Rcpt` header on top. Recipients named `reject@…` are refused
with 550 (permanent), `busy@…` with 451 (transient). With USER and PASSWORD, AUTH PLAIN/LOGIN
is offered over the plain connection and other credentials get 535.
"""

import asyncio
import itertools
import logging
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "reject":
            return "550 5.1.1 mailbox unavailable"
        if local == "busy":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        path = os.path.join(self.folder, f"{n}.eml")
        content = envelope.original_content or envelope.content
        with open(path + ".tmp", "wb") as out:
            out.write(b"X-Sink-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            out.write(content)
        os.replace(path + ".tmp", path)
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        # handled=False: aiosmtpd then answers 235 or 535 itself.
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    # aiosmtpd warns about its own use of a deprecated field on every AUTH; keep test output clean.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    folder = sys.argv[1]
    kwargs = {}
    if len(sys.argv) == 4:
        kwargs = {
            "authenticator": authenticator(sys.argv[2], sys.argv[3]),
            "auth_require_tls": False,
        }
    handler = Sink(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", **kwargs), "127.0.0.1", 0
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
