/**
 * A DM cluster without a leader (the leader died; DM elects another once its lease runs out, about a
 * minute): the members that still run answer 502 (they cannot pass the request on). Reads and requests
 * safe to repeat (pause-task, resume-task) wait for a leader, at most `leaderWaitMs`, and go through;
 * other state-changing requests are not sent again; one member never waits. Fake dm-masters on loopback.
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { createDmClient } from "../../components/dm";

/** A member answering 502 to its first `leaderless` requests, then as dm-master does; `requests` lists them. */
async function member(leaderless: number) {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        req.resume();
        req.on("end", () => {
            const leader = requests.length > leaderless;
            res.writeHead(leader ? 200 : 502, { "content-type": "application/json" });
            const sources = req.url?.startsWith("/api/v1/sources") === true;
            res.end(
                leader ? (sources ? JSON.stringify({ total: 0, data: [] }) : "{}") : '{"error":"fail to get leader"}',
            );
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push(server);
    return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const servers: http.Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A loopback port nothing listens on: a member that is down. */
async function downMember(): Promise<string> {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return `127.0.0.1:${port}`;
}

function client(address: string, leaderWaitMs?: number) {
    const lines: string[] = [];
    const dm = createDmClient(
        { transport: "openapi", address, ...(leaderWaitMs === undefined ? {} : { leaderWaitMs }) },
        (l) => lines.push(l),
    );
    return { dm, lines };
}

test("a read waits while the cluster has no leader, then goes through, saying so", async () => {
    const [dead, alive] = [await downMember(), await member(2)];
    const { dm, lines } = client(`${dead},${alive.address}`, 10_000);
    assert.deepEqual(await dm.listSources(), []);
    assert.equal(alive.requests.length, 3);
    assert.ok(
        lines.some(
            (l) =>
                l.startsWith(`no dm-master of ${dead},${alive.address} has a leader to pass list sources`) &&
                l.endsWith("; waiting up to 10000 ms for DM to elect one"),
        ),
        lines.join("\n"),
    );
    assert.ok(
        lines.some((l) =>
            new RegExp(`^the DM cluster at .* answered list sources .* again after \\d+ ms without a leader$`).test(l),
        ),
        lines.join("\n"),
    );
});

test("pause-task and resume-task are sent again once there is a leader (DM sets the expected stage: twice is once)", async () => {
    const alive = await member(1);
    const { dm } = client(`${await downMember()},${alive.address}`, 10_000);
    await dm.pauseTask("t1", ["src"]);
    assert.deepEqual(alive.requests, ["POST /api/v1/tasks/t1/stop", "POST /api/v1/tasks/t1/stop"]);
    alive.requests.length = 0;
    const again = await member(1);
    const { dm: dm2 } = client(`${await downMember()},${again.address}`, 10_000);
    await dm2.resumeTask("t1", ["src"]);
    assert.deepEqual(again.requests, ["POST /api/v1/tasks/t1/start", "POST /api/v1/tasks/t1/start"]);
});

test("another state-changing request is not sent again: its outcome is unknown", async () => {
    const alive = await member(1);
    const { dm } = client(`${await downMember()},${alive.address}`, 10_000);
    await assert.rejects(
        dm.stopRelay("src", "w1"),
        /so whether DM did it is unknown; it was not retried on another member/,
    );
    assert.deepEqual(alive.requests, ["POST /api/v1/sources/src/relay/disable"]);
});

test("the wait is bounded: past leaderWaitMs the error says how long it waited", async () => {
    const alive = await member(1000);
    const { dm } = client(`${await downMember()},${alive.address}`, 1500);
    await assert.rejects(
        dm.listSources(),
        /The cluster has no leader now: .*retry then\. \(waited \d+ ms for a leader\)$/,
    );
    assert.ok(alive.requests.length >= 2, `asked ${alive.requests.length} times`);
});

test("leaderWaitMs 0 does not wait; one member never waits", async () => {
    const a = await member(1000);
    const { dm } = client(`${await downMember()},${a.address}`, 0);
    await assert.rejects(dm.listSources(), /The cluster has no leader now/);
    assert.equal(a.requests.length, 1);
    const b = await member(1000);
    const { dm: one } = client(b.address);
    await assert.rejects(one.listSources(), /502/);
    assert.equal(b.requests.length, 1);
});
