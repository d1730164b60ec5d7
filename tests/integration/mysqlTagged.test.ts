/**
 * MySQL 8.4+ tagged GTIDs against the DM the sandbox runs (2409e0b), live. DM's version is read from
 * dm-master (GET /status); a transaction written with `SET GTID_NEXT='AUTOMATIC:<tag>'` is DROPPED by this
 * DM: the task stays Running, later untagged rows arrive, the tagged row never does. The day a DM applies
 * it, the test "DM drops a tagged row" fails and says to record that DM in components/dm/capabilities.ts.
 * The refusal: with the tag on the upstream and the target, taggedGtidRefusals names the tag, the DM
 * version and what DM does; the preflight and `pulumi up` without the pack (one decision) refuse the tagged
 * target.
 */
import assert from "node:assert/strict";
import { adminInstance } from "../support/probe";
import { sleep } from "../../components/util/poll";
import { within } from "../support/wait";
import { after, before, test } from "node:test";
import { createDmClient, DmClient, DmVersion, readDmVersion, taggedGtidRefusals } from "../../components/dm";
import { preflight } from "../../components/preflight";
import { Sandbox, startSandbox } from "../../sandbox";
import { createSandboxStack } from "../../tools/sandboxStack";

let sb: Sandbox;
let dm: DmClient;
let version: DmVersion;
const TAG = "audit";

before(async () => {
    sb = await startSandbox({ tasks: 1, flavor: "mysql" });
    dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
});

after(async () => {
    await sb?.stop();
});

const gtidOf = async (i: Sandbox["primary"]) =>
    String((await i.query("SELECT @@GLOBAL.gtid_executed AS g"))[0].g).replace(/\s+/g, "");
const table = () => `\`${sb.tasks[0].schema}\`.t`;
const rowsDownstream = async (ids: number[]) =>
    (await sb.downstream.query(`SELECT id FROM ${table()} WHERE id IN (?) ORDER BY id`, [ids])).map((r) =>
        Number(r.id),
    );

test("DM's version is read from dm-master, the same for both transports' endpoints", async () => {
    version = await readDmVersion(dm.endpoint);
    const viaDmctl = await readDmVersion(
        createDmClient({ transport: "dmctl", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath }).endpoint,
    );
    assert.deepEqual(viaDmctl, version);
    assert.match(version.gitHash, /^2409e0b/);
    console.log(`DM: ${version.release} (${version.gitHash})`);
});

test("DM 2409e0b drops a tagged transaction silently: the task stays Running, later rows arrive, the tagged row never does", async () => {
    await sb.primary.query(`INSERT INTO ${table()} (id, seq, payload) VALUES (1, 1, 'before')`);
    // A tagged transaction needs one connection: GTID_NEXT is a session variable.
    const mysql = await import("mysql2/promise");
    const conn = await mysql.createConnection({ host: sb.primary.host, port: sb.primary.port, ...sb.admin });
    try {
        await conn.query(`SET GTID_NEXT = 'AUTOMATIC:${TAG}'`);
        await conn.query(`INSERT INTO ${table()} (id, seq, payload) VALUES (2, 2, 'tagged')`);
        await conn.query("SET GTID_NEXT = 'AUTOMATIC'");
    } finally {
        await conn.end();
    }
    for (let id = 3; id <= 5; id++) {
        await sb.primary.query(`INSERT INTO ${table()} (id, seq, payload) VALUES (?, ?, 'after')`, [id, id]);
    }
    const executed = await gtidOf(sb.primary);
    assert.match(
        executed,
        new RegExp(`:${TAG}:1(,|$)`),
        `the primary's gtid_executed holds the tagged GTID: ${executed}`,
    );
    await within(
        "the untagged row written after the tagged one reached the downstream within 30 s",
        async () => (await rowsDownstream([5])).length > 0 || undefined,
        { intervalMs: 200, timeoutMs: 30_000 },
    );
    await sleep(2000); // a late apply of the tagged row would show now
    const down = await rowsDownstream([1, 2, 3, 4, 5]);
    const status = (await dm.taskStatus(sb.tasks[0].name, sb.source.id))[0];
    console.log(
        `tagged row: upstream has ids 1-5, downstream has ${down.join(",")}; task ${status.stage}, errors ${JSON.stringify(status.errors)}, ` +
            `syncerBinlogGtid ${status.syncerBinlogGtid}, masterBinlogGtid ${JSON.stringify(status.masterBinlogGtid ?? "")}; primary gtid_executed ${executed}`,
    );
    assert.deepEqual(
        (await sb.primary.query(`SELECT id FROM ${table()} ORDER BY id`)).map((r) => Number(r.id)),
        [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
        down,
        [1, 3, 4, 5],
        `DM ${version.release} applied the tagged row: record it as applying tagged GTIDs (FIRST_DM_APPLYING_TAGGED_GTIDS in components/dm/capabilities.ts)`,
    );
    assert.equal(status.stage, "Running", "the task does not stop: the loss is silent");
    // What DM's checkpoint does after the tagged transaction (recorded, not asserted: DM's behaviour to report).
    for (let id = 6; id <= 10; id++) {
        await sb.primary.query(`INSERT INTO ${table()} (id, seq, payload) VALUES (?, ?, 'later')`, [id, id]);
        await sleep(600);
    }
    const later = (await dm.taskStatus(sb.tasks[0].name, sb.source.id))[0];
    console.log(
        `3 s of writes later: downstream has ${(await rowsDownstream([6, 7, 8, 9, 10])).join(",")}; syncerBinlogGtid ${later.syncerBinlogGtid}; primary ${await gtidOf(sb.primary)}`,
    );
});

test("the refusal names the tag, the DM version and what DM does; the preflight refuses the tagged target", async () => {
    const replicaSet = await gtidOf(sb.replica);
    assert.match(replicaSet, new RegExp(`:${TAG}:1`), "the replica replicated the tagged transaction");
    const reasons = taggedGtidRefusals(version, [
        { side: `the source's upstream (${sb.vip.host}:${sb.vip.port})`, gtidSet: await gtidOf(sb.primary) },
        { side: `target replica (127.0.0.1:${sb.replica.port})`, gtidSet: replicaSet },
    ]);
    const says = `holds tagged GTIDs (tag "${TAG}"), and DM ${version.release} (2409e0b) drops those transactions silently (the task stays Running, the rows never reach the downstream): stop writing tagged transactions (SET GTID_NEXT='AUTOMATIC:<tag>') on the replication set, or use a DM that applies them.`;
    assert.deepEqual(reasons, [
        `the source's upstream (${sb.vip.host}:${sb.vip.port}) ${says}`,
        `target replica (127.0.0.1:${sb.replica.port}) ${says}`,
    ]);
    const at = (port: number, name: string) => adminInstance(sb, port, name);
    const r = await preflight({
        dm: { address: sb.dm.masterAddr, transport: "openapi" },
        sourceId: sb.source.id,
        flavor: "mysql",
        target: at(sb.replica.port, "replica"),
        current: at(sb.vip.port, "the VIP"),
    });
    assert.equal(r.ok, false);
    console.log(`preflight: ${r.reasons.join(" | ")}`);
    // The shared decision (the pack's and pulumi up's) reads DM's version because the sets hold tags.
    assert.ok(
        r.reasons.includes(`target replica (127.0.0.1:${sb.replica.port}) ${says}`),
        `the preflight names the tagged target with DM's version: ${r.reasons.join(" | ")}`,
    );
    assert.ok(
        r.reasons.includes(`the source's upstream the VIP (${sb.vip.host}:${sb.vip.port}) ${says}`),
        `the preflight names the tagged upstream: ${r.reasons.join(" | ")}`,
    );
});

test("pulumi up without the pack refuses the switch to the tagged replica before pausing anything", async () => {
    const stack = await createSandboxStack(sb, { mode: "vip", reads: "primary" });
    try {
        const first = await stack.run(["up", "--yes", "--skip-preview"]);
        assert.equal(first.code, 0, first.output);
        stack.configure({ mode: "vip", reads: "replica" });
        const r = await stack.run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(
            r.output,
            /switching DM source sandbox-source to replica is not allowed: [^\n]*target replica \(127\.0\.0\.1:\d+\) holds tagged GTIDs \(tag "audit"\), and DM v9\.0\.0-beta\.2\.pre-38-g2409e0bd7e \(2409e0b\) drops those transactions silently[^\n]*No task was paused/,
        );
        assert.equal(await sb.vipTarget(), "primary");
        const [s] = await dm.taskStatus(sb.tasks[0].name, sb.source.id);
        assert.equal(s.stage, "Running");
    } finally {
        await stack.dispose();
    }
});
