"""Run inside a test's network namespace (`python -m tests.telecall.call_driver ...`): two
Python call clients (`python -m telecall.media.client`) join one visit, the resident first,
then the doctor, who offers. Once each has --frames video and audio frames from the other,
the driver stops them (SIGTERM: they leave properly). With --record the doctor's side
instead consents, starts a recording through the web API, waits until the recorder has
joined plus --record-seconds, and ends the visit, which ends both clients and the recorder.

Waiting on events rather than the clock keeps the test short on a quiet machine and still
correct on a busy one. Prints one JSON object: each client's JSON lines, the web's answers.
"""

import argparse
import asyncio
import json
import signal
import sys
import time

import aiohttp

LIMIT = 45  # seconds any one wait may take before the driver gives up


async def wait_for_web(base: str) -> None:
    deadline = time.monotonic() + LIMIT
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(base + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the web at {base} did not answer")
            await asyncio.sleep(0.1)


async def until(condition, what: str) -> None:
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting: {what}")
        await asyncio.sleep(0.05)


class Client:
    def __init__(self, name: str):
        self.name = name
        self.lines: list[dict] = []
        self.process = None
        self.reader = None

    async def start(self, base: str, token: str) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "telecall.media.client", "--base", base, "--token", token,
            "--seconds", str(LIMIT * 2), "--report-every", "0.2",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self.reader = asyncio.ensure_future(self._read())
        await until(lambda: self.said("joined") or self.said("refused"), f"{self.name} joins")

    async def _read(self) -> None:
        async for raw in self.process.stdout:
            self.lines.append(json.loads(raw))
        await self.process.wait()

    def said(self, event: str) -> bool:
        return any(line["event"] == event for line in self.lines)

    def received(self) -> int:
        """The fewest video or audio frames from any one peer so far."""
        counts = [min(line["video"], line["audio"]) for line in self.lines[-5:]
                  if line["event"] == "frames"]  # fmt: skip
        return max(counts, default=0)

    def connected_to_a_third(self) -> bool:
        """Connected to a peer other than the one it joined with or was joined by."""
        joined = next(line for line in self.lines if line["event"] == "joined")
        known = {joined["participant"], *joined["peers"]}
        known |= {line["peer"] for line in self.lines if line["event"] == "frames"}
        return any(
            line["event"] == "connection" and line["state"] == "connected"
            and line["peer"] not in known
            for line in self.lines
        )  # fmt: skip

    def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)

    async def finish(self) -> int:
        await asyncio.wait_for(self.reader, LIMIT)
        return self.process.returncode


async def web(session, method: str, url: str, headers: dict, body=None) -> dict:
    async with session.request(method, url, json=body, headers=headers) as resp:
        text = await resp.text()
        return {"status": resp.status, "body": json.loads(text) if text else None}


async def record(args, clients: list[Client], log: dict) -> None:
    """Both consent, the doctor starts a recording, then ends the visit."""
    base = args.base
    async with aiohttp.ClientSession() as session:
        for name, token in (("resident", args.resident_token), ("doctor", args.doctor_token)):
            log[f"consent_{name}"] = await web(
                session, "POST", base + "/api/v1/call/consent", {"X-Join-Token": token}
            )
        login = {"username": args.doctor_user, "password": args.password}
        auth = await web(session, "POST", base + "/api/v1/auth/token", {}, login)
        bearer = {"Authorization": f"Bearer {auth['body']['access_token']}"}
        visit = f"{base}/api/v1/visits/{args.visit_id}"
        log["start"] = await web(session, "POST", visit + "/recordings", bearer)
        await until(lambda: all(c.connected_to_a_third() for c in clients), "the recorder")
        await asyncio.sleep(args.record_seconds)
        log["end"] = await web(session, "POST", visit + "/end", bearer)


async def main(args) -> dict:
    began, timeline = time.monotonic(), {}

    def mark(what: str) -> None:  # seconds since the start, to see where the time goes
        timeline[what] = round(time.monotonic() - began, 2)

    await wait_for_web(args.base)
    mark("web up")
    clients = [Client("resident"), Client("doctor")]
    for client, token in zip(clients, (args.resident_token, args.doctor_token), strict=True):
        await client.start(args.base, token)
        mark(f"{client.name} joined")
    await until(lambda: min(c.received() for c in clients) >= args.frames, "frames both ways")
    mark("frames both ways")
    web_log: dict = {}
    if args.record:
        await record(args, clients, web_log)
        mark("visit ended")
    else:
        for client in clients:
            client.stop()
    codes = [await client.finish() for client in clients]
    mark("clients done")
    return {"resident": clients[0].lines, "doctor": clients[1].lines, "codes": codes,
            "web": web_log, "timeline": timeline}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--resident-token", required=True)
    parser.add_argument("--doctor-token", required=True)
    parser.add_argument("--frames", type=int, default=30, help="video and audio, each way")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--record-seconds", type=float, default=3)
    parser.add_argument("--visit-id", type=int)
    parser.add_argument("--doctor-user")
    parser.add_argument("--password")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
