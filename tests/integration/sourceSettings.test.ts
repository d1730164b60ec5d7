/**
 * Changing a source's settings end to end (real Pulumi CLI, DM, MariaDB, write load): a new `user` and a
 * password rotation each re-create DM's source in place — the address procedure at the same address
 * (pause → check → stop-task → operate-source stop → operate-source create → start-task from the
 * checkpoint) — instead of replacing the binding (delete first, which DM refuses while tasks run). The
 * source is created again from DM's own configuration of it: fields the stack does not set
 * (case-sensitive, purge, from.session, filters, server-id) are kept. The old user is locked and the old
 * password gone before each `pulumi up`, so the tasks can only run again if DM got the new ones; downstream
 * ends equal to upstream, every row once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sandboxStackSuite } from "../support/sandboxStackSuite";
import { SOURCE_GRANTS } from "../../sandbox/taskFile";

/** Fields of DM's source file the stack does not set, given to DM when the sandbox creates the source. */
const SOURCE_FILE = [
    "source-id: sandbox-source",
    "case-sensitive: false",
    "purge:",
    "  expires: 48",
    "from:",
    "  session:",
    '    time_zone: "+00:00"',
    "filters:",
    "- schema-pattern: unrelated_schema",
    '  table-pattern: ""',
    "  events:",
    "  - all dml",
    "  action: Ignore",
    "",
].join("\n");

const s = sandboxStackSuite({ mode: "address", reads: "primary" }, { sourceFile: SOURCE_FILE });
const USER2 = "dm_source2";
let serverId = "";

/** DM's file of the source, with what must survive every re-creation checked. */
async function assertFieldsKept(): Promise<string> {
    const file = await s.dm.getSourceFile(s.sb.source.id);
    assert.ok(file, "DM has the source");
    assert.match(file, /^case-sensitive: false$/m);
    assert.match(file, /^purge:\n(?: {2}.*\n)*? {2}expires: 48$/m);
    assert.match(file, /^ {2}session:\n {4}time_zone: "?\+00:00"?$/m);
    assert.match(file, /^filters:\n- schema-pattern: unrelated_schema$/m);
    assert.match(file, /^ {2}password: '\*\*\*\*\*\*'$/m, "the password comes back masked");
    assert.equal(/^server-id: (\d+)$/m.exec(file)?.[1], serverId, "DM's server-id for the source is kept");
    return file;
}

async function bindingOutputs() {
    const state = await s.stack.exportState();
    const binding = state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:SourceBinding");
    return { state: JSON.stringify(state), outputs: binding?.outputs ?? {} };
}

test("an address switch (the first pulumi up: from the VIP's address to the primary's) keeps DM's fields the stack does not set", async () => {
    serverId = /^server-id: (\d+)$/m.exec((await s.dm.getSourceFile(s.sb.source.id)) ?? "")?.[1] ?? "";
    assert.notEqual(serverId, "");
    await assertFieldsKept();
    const { r } = await s.upUnderLoad({ mode: "address", reads: "primary" });
    assert.match(r.output, /operate-source create .*from: host 127\.0\.0\.1, port \d+ \(primary\)/);
    assert.equal((await s.dm.getSource(s.sb.source.id))?.port, s.sb.primary.port);
    await assertFieldsKept();
});

test("a new user re-creates the source in place, under load: tasks run on from their checkpoints, fields kept, nothing lost", async () => {
    // The second user has the first one's grants and password; the first is locked, so DM can only read as the second.
    await s.sb.primary.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [USER2, s.sb.source.password]);
    await s.sb.primary.query(`GRANT ${SOURCE_GRANTS} ON *.* TO ?@'127.0.0.1'`, [USER2]);
    await s.sb.primary.query(`ALTER USER ?@'127.0.0.1' ACCOUNT LOCK`, [s.sb.source.user]);
    const { r, written } = await s.upUnderLoad({ mode: "address", reads: "primary", user: USER2 });
    assert.match(
        r.output,
        /DM source sandbox-source: new settings \(user\), the address procedure at the same address \(primary\)/,
    );
    assert.match(r.output, /stop-task sandbox_task_0/);
    assert.match(r.output, /operate-source stop sandbox-source/);
    assert.match(r.output, /start-task sandbox_task_0\.yaml {2}# meta binlog-gtid: gtid-S, from the checkpoint/);
    assert.doesNotMatch(r.output, /delete|replac/i, "an update, not a replacement");
    const source = await s.dm.getSource(s.sb.source.id);
    assert.deepEqual({ user: source?.user, port: source?.port }, { user: USER2, port: s.sb.primary.port });
    await assertFieldsKept();
    const { outputs } = await bindingOutputs();
    assert.equal(outputs.user, USER2);
    const stopped = /replication was stopped for (\d+) ms/.exec(r.output);
    console.log(
        `new user: replication stopped ${stopped?.[1] ?? "?"} ms; pulumi up took ${r.ms} ms; ${written} rows written during it`,
    );
});

test("a password rotation reaches DM: the preview shows it, pulumi up re-creates the source with it, the state never holds it", async () => {
    const rotated = `rot-${Date.now().toString(36)}-Pw`;
    await s.sb.primary.query(`ALTER USER ?@'127.0.0.1' IDENTIFIED BY ?`, [USER2, rotated]);
    await s.stack.setConfig(`dm-switch:passwords.${s.sb.source.id}`, rotated, { secret: true, path: true });
    const preview = await s.stack.run(["preview", "--diff"]);
    assert.equal(preview.code, 0, preview.output);
    assert.match(
        preview.output,
        /DM source sandbox-source: new settings \(password\), the address procedure at the same address \(primary\)/,
    );
    const { r, written } = await s.upUnderLoad({ mode: "address", reads: "primary", user: USER2 });
    assert.match(
        r.output,
        /DM source sandbox-source: new settings \(password\), the address procedure at the same address \(primary\)/,
    );
    assert.match(r.output, /operate-source create sandbox-source\.yaml/);
    await assertFieldsKept();
    const { state, outputs } = await bindingOutputs();
    assert.ok(!state.includes(rotated), "the new password is not in the state in plaintext");
    assert.ok(!state.includes(s.sb.source.password), "nor the old one");
    assert.ok(outputs.passwordDigest !== undefined, "the state holds the password's digest (a secret)");
    const stopped = /replication was stopped for (\d+) ms/.exec(r.output);
    console.log(
        `password rotation: replication stopped ${stopped?.[1] ?? "?"} ms; pulumi up took ${r.ms} ms; ${written} rows written during it`,
    );
});

for (const relay of [true, false]) {
    test(`turning relay ${relay ? "on" : "off"} re-creates the source in place${relay ? ", relay started once the tasks run and confirmed reading from the primary" : ""}`, async () => {
        const { r } = await s.upUnderLoad({ mode: "address", reads: "primary", user: USER2, enableRelay: relay });
        assert.match(
            r.output,
            /DM source sandbox-source: new settings \(enableRelay\), the address procedure at the same address \(primary\)/,
        );
        await assertFieldsKept();
        const source = await s.dm.getSource(s.sb.source.id);
        if (relay) {
            assert.match(r.output, /done in \d+ ms: dmctl --master-addr \S+ start-relay -s sandbox-source/);
            assert.equal(source?.relay?.stage, "Running");
            assert.match(source?.relay?.relaySubDir ?? "", /^0-1\.\d{6}$/, "relay reads from the primary");
        } else {
            // Relay started by start-relay (above) holds the source: DM stops no source with relay workers (46023).
            assert.match(r.output, /stop-relay -s sandbox-source worker1 \(relay runs for the worker/);
            assert.deepEqual(
                { enableRelay: source?.enableRelay, relay: source?.relay },
                { enableRelay: false, relay: undefined },
                "relay is off",
            );
        }
    });
}

test("a second pulumi up with nothing changed does nothing", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /stop-task|operate-source|pause-task/);
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
});
