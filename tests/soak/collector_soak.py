#!/usr/bin/env python3
"""The collector under load and abuse: is every record it answered 2xx on disk exactly once?

Participants (threads, each a client of one run) post a hello and a record the way c1m's clients
do: the run token in the head, their own participant key in the body, and tries again on no answer,
503 and 507. Meanwhile the collector is killed with SIGKILL at random moments and started again on
the same --out; idle connections, a peer that pipelines requests without reading, strangers with
large bodies and poison records run alongside. At the end every run must be written once, every
record answered 2xx must be in its own run's record, no poison may have been taken, and the
collector's memory must have stayed under --max-rss-mib. Loopback only; bounded in count and time.

  collector_soak.py C1M_BINARY [--runs 20] [--clients 50] [--kills 10] [--seconds 300]

Exit 0 when every check holds, 1 when one does not, 2 on bad arguments.
"""
import argparse
import concurrent.futures
import glob
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "records", "base.json")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """The collector process, started again on the same --out and spool after each kill."""

    def __init__(self, binary, port, out, token, admin):
        self.cmd = [binary, "collect", "--listen", f"127.0.0.1:{port}", "--out", out, "--run-token", token,
                    "--admin-token", admin, "--deadline", "30m"]
        self.port, self.out = port, out
        self.log = open(os.path.join(out, "..", "collector.log"), "ab")
        self.proc = None
        self.lock = threading.Lock()
        self.kills = 0

    def start(self):
        with self.lock:
            self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("soak: the collector did not listen within 10 s")

    def kill(self):
        with self.lock:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills += 1
        time.sleep(random.uniform(0.1, 0.5))
        self.start()

    def rss_kib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self):
        with self.lock:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return -1


def request(port, method, path, body=None, token=None, timeout=10):
    """One request on a connection of its own: (status, text); status 0 when no answer came."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        text = r.read().decode(errors="replace")
        c.close()
        return r.status, text
    except (OSError, http.client.HTTPException) as e:
        return 0, str(e)


def post(port, path, body, token):
    return request(port, "POST", path, body, token)


def get(port, path):
    return request(port, "GET", path, timeout=5)


class Progress:
    """Posts answered 2xx so far: the kills are spread over them, not over a guessed time."""

    def __init__(self):
        self.count, self.cond = 0, threading.Condition()

    def add(self):
        with self.cond:
            self.count += 1
            self.cond.notify_all()

    def wait_for(self, n, stop):
        with self.cond:
            while self.count < n and not stop.is_set():
                self.cond.wait(0.2)


def participant(port, token, base, run, name, clients, stop_at, progress):
    """A client of `run`: hello, then its record, each tried again while the answer is 'later'.
    Returns (run, name) when its record was answered 2xx, else None with why."""
    key = secrets.token_hex(16)
    hello = json.dumps({"name": name, "run": run, "role": "client", "expect_clients": clients,
                        "participant_key": key, "connections": 1000})
    record = dict(base)
    record.update({"participant": name, "run": run, "role": "client", "expect_clients": clients,
                   "participant_key": key, "status": "complete"})
    body = json.dumps(record)
    for path, text in (("/hello", hello), ("/record", body)):
        pause = 0.1
        while True:
            status, answer = post(port, path, text, token)
            if 200 <= status < 300:
                progress.add()
                break
            if status not in (0, 503, 507) or time.time() > stop_at:
                return None, f"{run}/{name} {path}: {status} {answer[:200]}"
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
    return (run, name), None


def flood_idle(port, stop, count=100):
    """Connections that ask once and then sit: they must not shut participants out."""
    held = []
    while not stop.is_set():
        while len(held) < count and not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=1)
                s.sendall(b"GET /health HTTP/1.1\r\n\r\n")
                held.append(s)
            except OSError:
                time.sleep(0.1)
                break
        time.sleep(0.2)
        alive = []
        for s in held:  # the collector closes some to make room: open them again
            s.setblocking(False)
            try:
                gone = s.recv(65536, socket.MSG_PEEK) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                s.close()
            else:
                alive.append(s)
        held = alive
    for s in held:
        s.close()


def flood_pipelined(port, stop):
    """A peer that pipelines GETs and never reads what comes back."""
    burst = b"GET /runs HTTP/1.1\r\n\r\n" * 20000
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.setblocking(False)
            sent = 0
            end = time.time() + 3
            while sent < len(burst) and time.time() < end and not stop.is_set():
                try:
                    sent += s.send(burst[sent:])
                except BlockingIOError:
                    time.sleep(0.05)
            time.sleep(1)
            s.close()
        except OSError:
            time.sleep(0.2)


def poison(port, token, base, stop, refused, taken):
    """What must never be taken: strangers, forged names, poison ids and approaches."""
    def bad(approach=None, run=None, name=None):
        r = dict(base)
        r.update({"participant": name or "poison-" + secrets.token_hex(4), "run": run or "poison-" + secrets.token_hex(4),
                  "role": "client", "expect_clients": 1, "participant_key": secrets.token_hex(16)})
        if approach is not None:
            r["approach"] = approach
        return json.dumps(r)
    cases = [
        (None, bad(approach="x/y")),
        (None, bad(approach="a" * 300)),
        (None, bad(approach="multi\nip")),
        (None, bad(run=".hidden")),
        (None, bad(run="x/y")),
        ("", bad()),                      # no token at all
        ("wrong", bad()),                 # a wrong token
    ]
    while not stop.is_set():
        tok, body = random.choice(cases)
        status, _ = post(port, "/record", body, token if tok is None else tok)
        if 200 <= status < 300:
            taken.append(body[:200])
        elif status:
            refused.append(status)
        # A stranger's large body: refused from its head, never read.
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"POST /record HTTP/1.1\r\nContent-Length: 50000000\r\n\r\n")
            s.settimeout(3)
            answer = s.recv(64)
            if answer.startswith(b"HTTP/1.1 403"):
                refused.append(403)
            s.close()
        except OSError:
            pass
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--clients", type=int, default=50, help="participants a run (and at once)")
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=300, help="the whole soak's bound")
    ap.add_argument("--max-rss-mib", type=int, default=256)
    a = ap.parse_args()
    if not os.access(a.binary, os.X_OK) or min(a.runs, a.clients) < 1 or a.kills < 0 or a.seconds < 10:
        print("soak: usage: collector_soak.py C1M_BINARY [--runs N>=1] [--clients N>=1] [--kills N>=0] [--seconds N>=10]",
              file=sys.stderr)
        return 2
    base = json.load(open(FIXTURE))
    work = tempfile.mkdtemp(prefix="c1m-soak-")
    out = os.path.join(work, "results")
    os.mkdir(out)
    token, admin = secrets.token_hex(16), secrets.token_hex(16)
    port = free_port()
    col = Collector(a.binary, port, out, token, admin)
    col.start()
    started = time.time()
    stop_at = started + a.seconds
    stop = threading.Event()
    refused, taken, max_rss = [], [], [0]

    def watch_memory():
        while not stop.is_set():
            max_rss[0] = max(max_rss[0], col.rss_kib())
            time.sleep(0.1)

    progress = Progress()
    posts = 2 * a.runs * a.clients
    step = posts / (a.kills + 1)

    def killer():  # the k-th kill at a random moment of the k-th stretch of the posts
        for k in range(a.kills):
            progress.wait_for(int(k * step + random.uniform(0.2, 1.0) * step), stop)
            if stop.is_set():
                return
            col.kill()

    helpers = [threading.Thread(target=f, daemon=True) for f in
               (watch_memory, killer, lambda: flood_idle(port, stop), lambda: flood_pipelined(port, stop),
                lambda: poison(port, token, base, stop, refused, taken))]
    for t in helpers:
        t.start()
    runs = [f"soak-{secrets.token_hex(4)}-{r}" for r in range(a.runs)]
    jobs = [(run, f"client-{c}") for run in runs for c in range(a.clients)]
    random.shuffle(jobs)
    acked, failures = set(), []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.clients) as pool:
        futures = [pool.submit(participant, port, token, base, run, name, a.clients, stop_at, progress) for run, name in jobs]
        for f in concurrent.futures.as_completed(futures):
            ok, why = f.result()
            if ok:
                acked.add(ok)
            else:
                failures.append(why)
    # Every run is due once its clients have all reported: wait for each to be written.
    pending = set(runs)
    while pending and time.time() < stop_at:
        for run in list(pending):
            if get(port, "/runs/" + run)[0] == 200:
                pending.discard(run)
        time.sleep(0.2)
    stop.set()
    for t in helpers:
        t.join(timeout=10)
    rc_collector = col.stop()

    # What is on disk: each run's record, once.
    files_by_run = {}
    for path in glob.glob(os.path.join(out, "*.json")):
        with open(path) as f:
            rec = json.load(f)
        files_by_run.setdefault(rec.get("run_id"), []).append((path, rec))
    problems = []
    on_disk_once = 0
    for run, name in sorted(acked):
        files = files_by_run.get(run, [])
        if len(files) != 1:
            problems.append(f"run {run}: {len(files)} record files")
            continue
        named = [p for p in files[0][1].get("participants", []) if p.get("name") == name]
        if len(named) == 1 and named[0].get("status") == "complete":
            on_disk_once += 1
        else:
            problems.append(f"{run}/{name}: answered 2xx, in its run's record as {named}")
    strays = [r for r in files_by_run if r not in runs]
    problems += [f"a record of a run nobody ran: {r}" for r in strays]
    problems += [f"not written within the bound: {r}" for r in sorted(pending)]
    problems += [f"a participant never got 2xx: {w}" for w in failures[:10]]
    problems += [f"poison answered 2xx: {t}" for t in taken[:5]]
    if max_rss[0] > a.max_rss_mib * 1024:
        problems.append(f"the collector's memory reached {max_rss[0] // 1024} MiB (limit {a.max_rss_mib})")
    if col.kills < a.kills:
        problems.append(f"the collector was killed {col.kills} times, not {a.kills} (the posts ended first)")
    for p in sorted(set(problems))[:30]:
        print("soak: FAIL " + p)
    print(f"soak: {len(acked)} records answered 2xx of {len(jobs)}, {on_disk_once} on disk exactly once in their "
          f"own run's record; {len(runs) - len(pending)} of {len(runs)} runs written, one file each; collector killed "
          f"{col.kills} times (SIGKILL) and stopped with exit {rc_collector}; {len(refused)} abusive requests refused, "
          f"{len(taken)} taken; peak RSS {max_rss[0] / 1024:.1f} MiB; {time.time() - started:.1f} s")
    if problems:
        print(f"soak: kept for a look: {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("soak: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
