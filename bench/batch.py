#!/usr/bin/env python3
"""Batch benchmark for roster: one `POST /operations` against the same work as single
requests, measured side by side in one run (see bench/README.md).

    bench/batch.py                     SQLite in a temp dir
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/batch.py

The work: N users (with passwords, unless BENCH_PASSWORDS=0) and N team memberships
(N = BENCH_USERS, 500). "Singles" sends them as 2N requests one after another over one
keep-alive connection; "batch" sends one Atomic Operations request. Each mode runs on a
fresh database. Prints the end-to-end times, their ratio and the SQL statements per
operation (from `Server-Timing`). Standard library only.

Environment: ROSTER_BIN (default target/release/roster; build it first with
`cargo build --release`), BENCH_USERS, BENCH_PASSWORDS, BENCH_DATABASE_URL.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ROSTER_BIN", os.path.join(ROOT, "target", "release", "roster"))
USERS = int(os.environ.get("BENCH_USERS", "500"))
PASSWORDS = os.environ.get("BENCH_PASSWORDS", "1") != "0"
PG_URL = os.environ.get("BENCH_DATABASE_URL")
JSONAPI = "application/vnd.api+json"
ATOMIC = JSONAPI + '; ext="https://jsonapi.org/ext/atomic"'
OWNER_PASSWORD = "benchmark-owner-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(database, command):
    subprocess.run(
        ["psql", PG_URL.rsplit("/", 1)[0] + "/" + database, "-v", "ON_ERROR_STOP=1", "-qc", command],
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Server:
    """`roster serve` on a fresh database, with account `bench` bootstrapped."""

    def __init__(self, name, tmp):
        self.scratch = None
        if PG_URL:
            self.scratch = f"roster_bench_batch_{os.getpid()}_{name}"
            psql("postgres", f"DROP DATABASE IF EXISTS {self.scratch}")
            psql("postgres", f"CREATE DATABASE {self.scratch}")
            url = PG_URL.rsplit("/", 1)[0] + "/" + self.scratch
        else:
            url = f"sqlite://{tmp}/{name}.db"
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn",
                   ROSTER_BIND=f"127.0.0.1:{self.port}",
                   ROSTER_JWT_SECRET="roster-benchmark-secret-0123456789abcdef")
        subprocess.run([BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([BIN, "bootstrap", "--account-name", "Bench", "--slug", "bench",
                        "--email", "owner@bench.test", "--password", OWNER_PASSWORD],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        self.log = open(os.path.join(tmp, f"{name}.log"), "w")
        self.process = subprocess.Popen([BIN, "serve"], env=env, stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                self.connection().request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        self.conn = self.connection()
        status, body, _ = self.send("POST", "/api/v1/sessions", {"data": {"type": "session", "attributes": {
            "account": "bench", "email": "owner@bench.test", "password": OWNER_PASSWORD}}})
        assert status == 201, body
        self.token = body["meta"]["token"] if "token" in body.get("meta", {}) else body["data"]["attributes"]["token"]
        status, body, _ = self.send("POST", "/api/v1/teams", {"data": {"type": "team", "attributes": {"name": "Imported"}}})
        assert status == 201, body
        self.team = body["data"]["id"]

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def send(self, method, path, document, media_type=JSONAPI):
        headers = {"Content-Type": media_type, "Accept": media_type}
        if getattr(self, "token", None):
            headers["Authorization"] = "Bearer " + self.token
        self.conn.request(method, path, body=json.dumps(document), headers=headers)
        response = self.conn.getresponse()
        text = response.read()
        timing = response.getheader("Server-Timing", "")
        match = re.search(r'queries=(\d+)', timing)
        return response.status, json.loads(text) if text else None, int(match.group(1)) if match else 0

    def stop(self):
        self.conn.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        if self.scratch:
            psql("postgres", f"DROP DATABASE IF EXISTS {self.scratch} WITH (FORCE)")


def user_data(i):
    attributes = {"name": f"Imported {i}", "email": f"imported-{i}@bench.test"}
    if PASSWORDS:
        attributes["password"] = f"imported-password-{i}"
    return {"type": "user", "attributes": attributes}


def membership_data(team, user):
    return {"type": "team_membership", "relationships": {
        "team": {"data": {"type": "team", "id": team}},
        "user": {"data": {"type": "user", "id": user}}}}


def singles(server):
    statements = 0
    started = time.perf_counter()
    for i in range(USERS):
        status, body, n = server.send("POST", "/api/v1/users", {"data": user_data(i)})
        assert status == 201, body
        statements += n
        status, body, n = server.send("POST", "/api/v1/team_memberships",
                                      {"data": membership_data(server.team, body["data"]["id"])})
        assert status == 201, body
        statements += n
    return time.perf_counter() - started, statements


def batch(server):
    operations = []
    for i in range(USERS):
        # Client ids, as Orbit.js sends them; later operations name them.
        user = str(uuid.uuid4())
        data = user_data(i)
        data["id"] = user
        operations.append({"op": "add", "data": data})
        operations.append({"op": "add", "data": membership_data(server.team, user)})
    started = time.perf_counter()
    status, body, statements = server.send("POST", "/api/v1/operations",
                                           {"atomic:operations": operations}, ATOMIC)
    elapsed = time.perf_counter() - started
    assert status == 200, body
    assert len(body["atomic:results"]) == 2 * USERS
    return elapsed, statements


def main():
    if not os.path.exists(BIN):
        sys.exit(f"no binary at {BIN}: run `cargo build --release` or set ROSTER_BIN")
    tmp = tempfile.mkdtemp(prefix="roster-batch.")
    try:
        results = {}
        for name, run in (("singles", singles), ("batch", batch)):
            server = Server(name, tmp)
            try:
                results[name] = run(server)
            finally:
                server.stop()
        operations = 2 * USERS
        (single_s, single_n), (batch_s, batch_n) = results["singles"], results["batch"]
        backend = "PostgreSQL" if PG_URL else "SQLite"
        print(f"## Batch vs singles — {backend}, {USERS} users "
              f"({'with' if PASSWORDS else 'without'} passwords) + {USERS} team memberships\n")
        print("| mode | requests | seconds | SQL statements | statements per operation |")
        print("|---|--:|--:|--:|--:|")
        print(f"| singles | {operations} | {single_s:.2f} | {single_n} | {single_n / operations:.1f} |")
        print(f"| batch | 1 | {batch_s:.2f} | {batch_n} | {batch_n / operations:.1f} |")
        print(f"\nbatch is **{single_s / batch_s:.2f}×** faster end to end "
              f"({os.cpu_count()} cores; Argon2 hashes run on every core in a batch, "
              f"one at a time in singles)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
