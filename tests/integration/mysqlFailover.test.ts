/**
 * Failover on MySQL, the switch users fear most, proven live (MySQL ≥ 8.4, DM 2409e0b, MariaDB downstream):
 * the application writes through the VIP; the old primary is set `super_read_only` (its writes stop), the
 * VIP moves to the replica by `pulumi up`, the replica is promoted (STOP REPLICA, RESET REPLICA ALL) and the
 * application's writes land there under a new server_uuid. DM goes on with nothing lost or duplicated.
 * Then the old primary rejoins as a replica of the new one (SOURCE_AUTO_POSITION) and a second failover
 * back to it passes the same way, DM's gtid-S then holding both servers' UUIDs.
 */
import assert from "node:assert/strict";
import { sleep } from "../../components/util/poll";
import { test } from "node:test";
import type { MariadbInstance } from "../../sandbox";
import { startLoad } from "../../sandbox/load";
import { replicateMysql } from "../../sandbox/mysql";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary" }, { flavor: "mysql" });
const uuidOf = async (i: MariadbInstance) => String((await i.query("SELECT @@server_uuid AS u"))[0].u);
const gtidOf = async (i: MariadbInstance) =>
    String((await i.query("SELECT @@GLOBAL.gtid_executed AS g"))[0].g).replace(/\s+/g, "");

test("the first pulumi up adopts the MySQL sandbox's source and VIP", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(await s.sb.vipTarget(), "primary");
});

/**
 * Fails over from `from` to `to` while the application writes through the VIP: `from` read-only, pulumi up
 * with reads = `to`, `to` promoted; then more writes, which land on `to`.
 */
async function failover(from: "primary" | "replica", to: "primary" | "replica") {
    const oldPrimary = s.sb[from];
    const newPrimary = s.sb[to];
    const load = startLoad(s.sb, { rowsPerSec: 300, via: "vip" });
    await sleep(1500);
    const t0 = performance.now();
    await oldPrimary.query("SET GLOBAL super_read_only = ON");
    s.stack.configure({ mode: "vip", reads: to });
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    await newPrimary.query("STOP REPLICA");
    await newPrimary.query("RESET REPLICA ALL");
    await newPrimary.query("SET GLOBAL super_read_only = OFF");
    await newPrimary.query("SET GLOBAL read_only = OFF");
    const promotedMs = performance.now() - t0;
    const before = load.progress().written;
    await sleep(3000);
    const written = await load.stop();
    assert.ok(
        written.written - before > 300,
        `the application wrote on the new primary (${written.written - before} rows after the promotion)`,
    );
    assert.equal(written.unresolved, 0);
    assert.equal(await s.sb.vipTarget(), to);
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
    const newUuid = await uuidOf(newPrimary);
    const executed = await gtidOf(newPrimary);
    assert.match(
        executed,
        new RegExp(`${newUuid}:1-\\d+`),
        `the new primary's own writes carry its server_uuid: ${executed}`,
    );
    const v = await verifyReplicated(s.sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
    assert.equal(v.upstream, to);
    const expectedLastSeq = Object.fromEntries(Object.entries(written.schemas).map(([k, l]) => [k, l.lastSeq]));
    const seqs = await checkSequences(s.sb, { expectedLastSeq });
    assert.ok(
        Object.values(seqs).every((x) => x.ok),
        `no row lost or duplicated downstream: ${JSON.stringify(seqs)}`,
    );
    const gtidS = (await s.dm.taskStatus(s.sb.tasks[0].name, s.sb.source.id))[0].syncerBinlogGtid;
    const paused = /replication was paused for (\d+) ms/.exec(r.output)?.[1];
    console.log(
        `MySQL failover ${from} → ${to}: replication paused ${paused ?? "?"} ms; read-only to promoted ${promotedMs.toFixed(0)} ms; ` +
            `${written.written} rows written (${written.errors} write errors while no primary took writes, ${written.resolved} resolved by read-back); gtid-S now ${gtidS}`,
    );
    assert.ok(gtidS.includes(newUuid), `DM's gtid-S holds the new primary's transactions: ${gtidS}`);
    return { newUuid, oldUuid: await uuidOf(oldPrimary) };
}

test("failover: the old primary turns read-only, pulumi up moves the VIP to the replica, the application's writes go to it, DM loses nothing", async () => {
    await failover("primary", "replica");
});

test("the old primary rejoins as a replica of the new one, and a second failover back to it passes", async () => {
    await replicateMysql(s.sb.primary, s.sb.replica);
    const want = await gtidOf(s.sb.replica);
    assert.equal(Number((await s.sb.primary.query("SELECT WAIT_FOR_EXECUTED_GTID_SET(?, 20) AS w", [want]))[0].w), 0);
    const { newUuid, oldUuid } = await failover("replica", "primary");
    const gtidS = (await s.dm.taskStatus(s.sb.tasks[0].name, s.sb.source.id))[0].syncerBinlogGtid;
    assert.ok(gtidS.includes(newUuid) && gtidS.includes(oldUuid), `gtid-S holds both servers' UUIDs: ${gtidS}`);
    // The old primary (now the replica) follows the new one again, for the next switch.
    await replicateMysql(s.sb.replica, s.sb.primary);
});
