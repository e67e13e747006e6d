"""A WebSocket server from Debian's archive (python3-websockets 10.4) for protocols_test.sh, in one
of three manners:
  answers  answers every ping, and pings each client once a second itself, closing a client whose
           pong does not come within a second (websockets' own keep-alive, made short)
  deaf     never answers a ping: a server that drops them
  closes   sends a close frame (1001, going away) a second after each upgrade
  ws_server.py PORT MANNER [CERT KEY]   (with a certificate and key: wss, TLS 1.3)"""
import asyncio
import ssl
import sys

import websockets
from websockets.legacy.server import WebSocketServerProtocol


class Deaf(WebSocketServerProtocol):
    async def pong(self, data=b""):  # websockets answers a ping through this: here, never
        return None


async def main(port, manner, tls):
    async def hold(ws, path=None):
        if manner == "closes":
            await asyncio.sleep(1)
            await ws.close(1001, "going away")
            return
        async for _ in ws:
            pass

    keepalive = {"ping_interval": 1, "ping_timeout": 1} if manner == "answers" else {"ping_interval": None}
    protocol = Deaf if manner == "deaf" else WebSocketServerProtocol
    async with websockets.serve(hold, "127.0.0.1", port, create_protocol=protocol, backlog=4096, ssl=tls, **keepalive):
        await asyncio.sleep(600)  # the test kills it long before


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5) or sys.argv[2] not in ("answers", "deaf", "closes"):
        sys.exit(__doc__)
    tls = None
    if len(sys.argv) == 5:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_3
        tls.load_cert_chain(sys.argv[3], sys.argv[4])
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], tls))
