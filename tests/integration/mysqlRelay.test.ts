/**
 * Relay on, on MySQL (MySQL ≥ 8.4, DM 2409e0b): a VIP switch and then an address switch of a source whose
 * relay log is on, by `pulumi up` under load. After each, dm-switch confirms relay and the syncers read from
 * the new server (DM names the relay subdirectory after its server_uuid: `<uuid>.00000N`); downstream
 * ends equal to upstream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary", enableRelay: true }, { relay: true, flavor: "mysql" });
const uuidOf = async (to: "primary" | "replica") => String((await s.sb[to].query("SELECT @@server_uuid AS u"))[0].u);

async function relay() {
    const source = await s.dm.getSource(s.sb.source.id);
    assert.ok(source?.relay, `relay runs for the source: ${JSON.stringify(source)}`);
    return { ...source.relay, errors: source.errors };
}

/** Relay runs for the source and reads from `to`: DM names its subdirectory after the server's server_uuid. */
async function relayReadsFrom(to: "primary" | "replica") {
    const now = await relay();
    assert.equal(now.stage, "Running");
    assert.match(now.relaySubDir ?? "", new RegExp(`^${await uuidOf(to)}\\.\\d{6}$`), `relay reads from the ${to}`);
    return now;
}

test("the first pulumi up adopts the relay-enabled MySQL source; relay reads from the primary", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match((await relay()).relaySubDir ?? "", new RegExp(`^${await uuidOf("primary")}\\.\\d{6}$`));
});

test("VIP switch to the MySQL replica with relay on: relay and syncers confirmed reading from it, nothing lost", async () => {
    const { r, written } = await s.upUnderLoad({ mode: "vip", reads: "replica", enableRelay: true });
    assert.match(r.output, /the relay log, if enabled, is read from replica without errors/);
    const paused = /replication was paused for (\d+) ms/.exec(r.output);
    const now = await relayReadsFrom("replica");
    console.log(
        `MySQL VIP switch with relay on: paused ${paused?.[1] ?? "?"} ms; ${written} rows written; relay ${now.relaySubDir}`,
    );
    assert.deepEqual(now.errors, []);
});

test("address switch to the MySQL primary's own address with relay on: relay started once the tasks run, nothing lost", async () => {
    const { r } = await s.upUnderLoad({ mode: "address", reads: "primary", enableRelay: true });
    assert.match(r.output, /start-relay -s sandbox-source/);
    assert.equal((await s.dm.getSource(s.sb.source.id))?.port, s.sb.primary.port);
    await relayReadsFrom("primary");
});

test("relay stopped by hand while the inputs ask for it: the next update of the binding starts it again, as the one step of its plan", async () => {
    const before = await s.dm.getSource(s.sb.source.id);
    assert.ok(before?.worker && before.relay, JSON.stringify(before));
    await s.dm.stopRelay(s.sb.source.id, before.worker);
    const stopped = await s.dm.getSource(s.sb.source.id);
    assert.equal(stopped?.relay, undefined, `relay no longer runs: ${JSON.stringify(stopped)}`);
    // Another input changes (a timeout): the binding is updated, and finds relay off in DM.
    s.stack.configure({ mode: "address", reads: "primary", enableRelay: true, stageTimeoutMs: 20_000 });
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /DM source sandbox-source already reads from primary; what an earlier switch left to do:/);
    assert.match(r.output, /step 1\/1 done in \d+ ms: dmctl --master-addr \S+ start-relay -s sandbox-source/);
    assert.doesNotMatch(r.output, /pause-task|stop-task|operate-source|tasks not running/);
    await relayReadsFrom("primary");
});
