/**
 * A VIP switch of a source whose relay log is on, end to end (real Pulumi CLI, DM, MariaDB, HAProxy, write
 * load): after the resume, dm-switch confirms that relay reads from the new server (DM names the relay
 * subdirectory after it: `0-2.00000N` for MariaDB server_id 2) and that each syncer's checkpoint moves
 * past gtid-S; downstream ends equal to upstream. Then an address switch of the same source: re-created
 * without relay (its checkpoints name the old relay subdirectory, which a new relay does not have), tasks
 * started from their checkpoints, relay started for the worker once they run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary", enableRelay: true }, { relay: true });

async function relay() {
    const source = await s.dm.getSource(s.sb.source.id);
    assert.ok(source?.relay, `relay runs for the source: ${JSON.stringify(source)}`);
    return { ...source.relay, errors: source.errors };
}

test("the first pulumi up adopts the relay-enabled source and VIP without pausing anything", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /pause-task/);
    assert.match((await relay()).relaySubDir ?? "", /^0-1\.\d{6}$/, "relay reads from the primary (server_id 1)");
});

for (const [to, serverId] of [
    ["replica", 2],
    ["primary", 1],
] as const) {
    test(`pulumi up switches the VIP to the ${to} with relay on: relay and syncers are confirmed reading from it, nothing lost`, async () => {
        const { r, written } = await s.upUnderLoad({ mode: "vip", reads: to, enableRelay: true });
        const confirmed =
            /step 8\/8 done in (\d+) ms: .*until the syncers of .* read from \w+ \(binlog bytes received since the pause, or a checkpoint past gtid-S\) and the relay log, if enabled, is read from (\w+) without errors/.exec(
                r.output,
            );
        assert.ok(confirmed, `the confirmation step ran and passed:\n${r.output}`);
        assert.equal(confirmed[2], to);
        const paused = /replication was paused for (\d+) ms/.exec(r.output);
        console.log(
            `VIP switch to ${to} with relay on: paused ${paused?.[1] ?? "?"} ms, confirmed in ${confirmed[1]} ms; ${written} rows written`,
        );
        const now = await relay();
        assert.equal(now.stage, "Running");
        assert.deepEqual(now.errors, []);
        assert.match(now.relaySubDir ?? "", new RegExp(`^0-${serverId}\\.\\d{6}$`), `relay reads from the ${to}`);
    });
}

test("changing the source to address mode re-creates it, relay on, at the replica's own address: relay and syncers confirmed", async () => {
    const { r } = await s.upUnderLoad({ mode: "address", reads: "replica", enableRelay: true });
    assert.match(r.output, /operate-source create .*enable-relay: false until the tasks run/);
    assert.match(
        r.output,
        /done in \d+ ms: dmctl --master-addr \S+ start-relay -s sandbox-source/,
        "relay was started once the tasks ran",
    );
    const source = await s.dm.getSource(s.sb.source.id);
    assert.equal(source?.port, s.sb.replica.port, "DM's source reads from the replica's own address");
    assert.match(
        r.output,
        /until the syncers of .* read from \w+ \(binlog bytes received since the pause, or a checkpoint past gtid-S\) and the relay log, if enabled, is read from replica without errors/,
    );
    const now = await relay();
    assert.equal(now.stage, "Running");
    assert.match(now.relaySubDir ?? "", /^0-2\.\d{6}$/, "relay reads from the replica");
});

test("a second pulumi up with nothing changed neither pauses nor starts relay again", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /pause-task|start-relay|operate-source/);
    assert.match((await relay()).relaySubDir ?? "", /^0-2\.\d{6}$/);
});
