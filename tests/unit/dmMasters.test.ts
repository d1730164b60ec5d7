/**
 * Several dm-masters in one address (`a:8261,b:8261,c:8261`, as dmctl's --master-addr): validation, and
 * the OpenAPI client moving to the next member when one is down, sticking to the one that answered, and
 * never re-sending a state-changing call whose outcome is unknown. Fake dm-masters on loopback: one that
 * refuses (a closed port), one that hangs, one that drops the connection once it has read the request.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, test } from "node:test";
import { createDmClient, dmAddressProblem, dmMembers } from "../../components/dm";
import { checkVipInputs, VipInputs } from "../../components/providers/inputs";
import { validateStackConfig } from "../../components/stackConfig";
import { reachableFirst } from "../../components/dm/dmctl";
import { listen, startDmMaster } from "../support/dmStandIns";

const EXAMPLE = `for example "10.0.0.5:8261", or "10.0.0.5:8261,10.0.0.6:8261,10.0.0.7:8261" for several dm-masters`;

test("address: one member, several, IPv6 are accepted", () => {
    for (const a of [
        "10.0.0.5:8261",
        "a:8261,b:8261,c:8261",
        "[::1]:8261,127.0.0.1:8262",
        "dm-1.example.com:1,dm-2.example.com:65535",
    ]) {
        assert.equal(dmAddressProblem(a), undefined, a);
    }
    assert.deepEqual(dmMembers("a:1,b:2,c:3"), ["a:1", "b:2", "c:3"]);
});

test("address: each bad form is refused naming the member and the remedy", () => {
    assert.equal(
        dmAddressProblem("a:8261,b:0"),
        `dm.address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, ${EXAMPLE}); member "b:0" is not, got "a:8261,b:0"`,
    );
    assert.equal(
        dmAddressProblem("a:8261, b:8261"),
        `dm.address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, without spaces, ${EXAMPLE}); member " b:8261" is not, got "a:8261, b:8261"`,
    );
    assert.equal(
        dmAddressProblem("a:8261,"),
        `dm.address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, ${EXAMPLE}); member "" is not, got "a:8261,"`,
    );
    assert.equal(
        dmAddressProblem("a:65536"),
        `dm.address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, ${EXAMPLE}), got "a:65536"`,
    );
    assert.equal(
        dmAddressProblem(undefined),
        `dm.address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, ${EXAMPLE}), got undefined`,
    );
    assert.equal(
        dmAddressProblem(""),
        `dm.address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, ${EXAMPLE}), got ""`,
    );
    assert.equal(
        dmAddressProblem("a:1,b:2,a:1"),
        `dm.address names dm-master a:1 twice in "a:1,b:2,a:1": list each member once`,
    );
    assert.equal(
        dmAddressProblem(["a:1", "b:2"]),
        `dm.address must be one string, the dm-masters separated by commas (${EXAMPLE}), got a list: write "a:1,b:2"`,
    );
});

test("address: the Vip's inputs, the stack configuration and the client take a list and refuse a bad member", () => {
    const vip = { dm: { address: "a:8261,b:8261" } } as VipInputs;
    assert.deepEqual(
        checkVipInputs(vip).filter((f) => f.property === "dm"),
        [],
    );
    assert.deepEqual(
        checkVipInputs({ ...vip, dm: { address: "a:8261,b" } }).filter((f) => f.property === "dm"),
        [
            {
                property: "dm",
                reason: `dm.address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, ${EXAMPLE}); member "b" is not, got "a:8261,b"`,
            },
        ],
    );
    const dmErrors = (dm: unknown) =>
        validateStackConfig({ dm, instances: {}, sources: [] }).filter((e) => e.startsWith("dm-switch:dm"));
    assert.deepEqual(dmErrors({ address: "a:8261,b:8261,c:8261" }), []);
    assert.deepEqual(dmErrors({ address: ["a:8261", "b:8261"] }), [
        `dm-switch:dm.address must be one string, the dm-masters separated by commas (${EXAMPLE}), got a list: write "a:8261,b:8261"`,
    ]);
    assert.throws(() => createDmClient({ address: "a:8261,b:99999" }), {
        name: "TypeError",
        message: `DM address must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas, ${EXAMPLE}); member "b:99999" is not, got "a:8261,b:99999"`,
    });
});

// Fake dm-masters: `live` ones answer status and pause and count what they were asked.
interface Fake {
    addr: string;
    hits: string[];
    close(): Promise<void>;
}
const STATUS = {
    total: 1,
    data: [
        {
            name: "t",
            source_name: "s",
            worker_name: "w",
            stage: "Running",
            unit: "Sync",
            sync_status: { syncer_binlog_gtid: "0-1-5" },
        },
    ],
};

function live(): Promise<Fake> {
    return startDmMaster((r) => [200, r.method === "GET" ? STATUS : undefined]);
}

/** Reads the request, then hangs (`mode` "hang") or drops the connection (`mode` "drop"). */
async function broken(mode: "hang" | "drop"): Promise<Fake> {
    const hits: string[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
        sockets.add(s);
        s.once("data", (d) => {
            hits.push(String(d).split("\r\n")[0]);
            if (mode === "drop") {
                s.destroy();
            }
        });
        s.on("error", () => undefined);
    });
    const addr = await listen(server);
    return {
        addr,
        hits,
        close: () =>
            new Promise((r) => {
                sockets.forEach((s) => s.destroy());
                server.close(() => r());
            }),
    };
}

/** A loopback port nothing listens on: connections are refused. */
async function refused(): Promise<string> {
    const s = net.createServer();
    const addr = await listen(s);
    await new Promise((r) => s.close(r));
    return addr;
}

const fakes: Fake[] = [];
let down = "";
before(async () => {
    down = await refused();
});
after(async () => {
    await Promise.all(fakes.map((f) => f.close()));
});
const fake = async <T extends Fake>(f: Promise<T>) => {
    const x = await f;
    fakes.push(x);
    return x;
};

test("a member refusing: reads and a pause go to the next one, which the client then sticks to and names", async () => {
    const [a, b] = [await fake(live()), await fake(live())];
    const lines: string[] = [];
    const dm = createDmClient({ address: `${down},${a.addr},${b.addr}` }, (l) => lines.push(l));
    assert.equal((await dm.taskStatus("t"))[0].stage, "Running");
    await dm.pauseTask("t", ["s"]);
    await dm.taskStatus("t");
    assert.deepEqual(a.hits, ["GET /api/v1/tasks/t/status", "POST /api/v1/tasks/t/stop", "GET /api/v1/tasks/t/status"]);
    assert.deepEqual(b.hits, []);
    assert.deepEqual(lines, [`DM answered at ${a.addr} (not at ${down} (ECONNREFUSED))`]);
    // The member it stuck to goes down: the next call moves on, from there.
    await a.close();
    await dm.resumeTask("t", ["s"]);
    assert.deepEqual(b.hits, ["POST /api/v1/tasks/t/start"]);
    assert.deepEqual(lines.slice(1), [`DM answered at ${b.addr} (not at ${a.addr} (ECONNREFUSED))`]);
});

test("a member that hangs: a read and a pause move on after the timeout (a pause sent twice is one pause); stop-relay does not (its outcome is unknown)", async () => {
    const [hang, b] = [await fake(broken("hang")), await fake(live())];
    const address = `${hang.addr},${b.addr}`;
    const read = createDmClient({ address, requestTimeoutMs: 300 });
    assert.equal((await read.taskStatus("t"))[0].stage, "Running");
    assert.deepEqual(b.hits, ["GET /api/v1/tasks/t/status"]);
    const write = createDmClient({ address, requestTimeoutMs: 300 });
    await write.pauseTask("t", ["s"]);
    assert.deepEqual(hang.hits, ["GET /api/v1/tasks/t/status HTTP/1.1", "POST /api/v1/tasks/t/stop HTTP/1.1"]);
    assert.deepEqual(b.hits, ["GET /api/v1/tasks/t/status", "POST /api/v1/tasks/t/stop"]);
    const other = createDmClient({ address, requestTimeoutMs: 300 });
    await assert.rejects(other.stopRelay("s", "w"), {
        name: "DmError",
        message:
            `stop-relay s failed: the connection to dm-master ${hang.addr} broke after the request was sent (no answer within 300 ms), so whether DM did it is unknown; ` +
            `it was not retried on another member. Read the state (query-status) through another of ${address} before retrying.`,
    });
    assert.deepEqual(b.hits, ["GET /api/v1/tasks/t/status", "POST /api/v1/tasks/t/stop"]);
});

test("a member that drops the connection after reading a resume: the resume goes to the next member (DM sets the expected stage: twice is once)", async () => {
    const [drop, b] = [await fake(broken("drop")), await fake(live())];
    const dm = createDmClient({ address: `${drop.addr},${b.addr}` });
    await dm.resumeTask("t", ["s"]);
    assert.deepEqual(b.hits, ["POST /api/v1/tasks/t/start"]);
    // A read is retried on the next member too.
    await dm.taskStatus("t");
    assert.deepEqual(b.hits, ["POST /api/v1/tasks/t/start", "GET /api/v1/tasks/t/status"]);
});

test("members answering 502 (no leader to forward to): a read and a pause try the next; stop-relay does not (its outcome is unknown); all 502: the error says why", async () => {
    const noLeader = (): Promise<Fake> => startDmMaster(() => [502]);
    const [a, b, c] = [await fake(noLeader()), await fake(noLeader()), await fake(live())];
    const read = createDmClient({ address: `${a.addr},${c.addr}` });
    assert.equal((await read.taskStatus("t"))[0].stage, "Running");
    await createDmClient({ address: `${a.addr},${c.addr}` }).pauseTask("t", ["s"]);
    await assert.rejects(createDmClient({ address: `${a.addr},${c.addr}` }).stopRelay("s", "w"), {
        message: `stop-relay s failed: dm-master ${a.addr} answered HTTP 502: it could not pass the request to the cluster's leader, so whether DM did it is unknown; it was not retried on another member. Read the state (query-status) through another of ${a.addr},${c.addr} before retrying.`,
    });
    assert.deepEqual(c.hits, ["GET /api/v1/tasks/t/status", "POST /api/v1/tasks/t/stop"]);
    await assert.rejects(createDmClient({ address: `${a.addr},${b.addr}`, leaderWaitMs: 0 }).taskStatus("t"), {
        message: `query-status t failed: no dm-master of ${a.addr},${b.addr} answered: ${a.addr} (HTTP 502: it could not pass the request to the cluster's leader); ${b.addr} (HTTP 502: it could not pass the request to the cluster's leader). The cluster has no leader now: when the leader dies, dm-master elects another once its lease runs out (about a minute; GET /api/v1/cluster/masters names it); retry then.`,
    });
});

test("every member down: one error naming each and the remedy; one member keeps its own message", async () => {
    const other = await refused();
    const dm = createDmClient({ address: `${down},${other}` });
    await assert.rejects(dm.pauseTask("t", ["s"]), {
        name: "DmError",
        message: `pause-task t failed: no dm-master of ${down},${other} answered: ${down} (ECONNREFUSED); ${other} (ECONNREFUSED). Check that at least one of them runs with openapi = true and that the addresses and TLS settings are right.`,
    });
    await assert.rejects(createDmClient({ address: down }).taskStatus("t"), {
        message: `query-status t failed: cannot reach dm-master at ${down} (ECONNREFUSED). Check that dm-master runs there with openapi = true and that the address and TLS settings are right.`,
    });
});

test("dmctl gets the member that accepts connections first (dmctl waits ~3 s on a member that is down)", async () => {
    const [a, b] = [await fake(live()), await fake(live())];
    const other = await refused();
    const address = `${down},${a.addr},${b.addr}`;
    assert.equal(await reachableFirst(address), `${a.addr},${down},${b.addr}`);
    // Remembered: the member that was reachable is tried first next time, the list keeps every member.
    await a.close();
    assert.equal(await reachableFirst(address), `${b.addr},${down},${a.addr}`);
    assert.equal(await reachableFirst(`${down},${other}`), `${down},${other}`, "none reachable: unchanged");
    assert.equal(await reachableFirst(down), down, "one member: unchanged");
});
