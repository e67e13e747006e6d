"""The WebSocket server of `make target-image SERVER=websockets`: Debian's python3-websockets holding
every connection its one process can, on PORT. It answers the clients' pings (websockets does), sends
none of its own (c1m pings), and keeps each connection until the client goes.
  ws_target.py PORT"""
import asyncio
import sys

import websockets


async def main(port):
    async def hold(ws, path=None):
        async for _ in ws:  # whatever a client sends is read and let go
            pass

    async with websockets.serve(hold, "0.0.0.0", port, backlog=65535, ping_interval=None):
        await asyncio.Future()  # until the container stops


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1])))
