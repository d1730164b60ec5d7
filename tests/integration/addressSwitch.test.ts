/**
 * The product end to end in address mode: the real Pulumi CLI runs this project's program against the
 * sandbox; changing `reads` re-creates the DM source at the other instance's address (pause → check →
 * stop-task → operate-source stop → operate-source create → start-task from the checkpoint), under a
 * write load, and downstream ends equal to upstream.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createDmClient, DmClient } from "../../components/dm";
import { Sandbox, startSandbox } from "../../sandbox";
import { startLoad } from "../../sandbox/load";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { createSandboxStack, SandboxStack } from "../../tools/sandboxStack";

let sb: Sandbox;
let stack: SandboxStack;
let dm: DmClient;

before(async () => {
    sb = await startSandbox({ tasks: 2 });
    dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    stack = await createSandboxStack(sb, { mode: "address", reads: "primary" });
});

after(async () => {
    await stack?.dispose();
    await sb?.stop();
});

async function switchTo(to: "primary" | "replica") {
    const load = startLoad(sb, { rowsPerSec: 200, via: "primary" });
    await new Promise((r) => setTimeout(r, 1000));
    stack.configure({ mode: "address", reads: to });
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    const written = await load.stop();
    assert.equal(r.code, 0, r.output);
    const source = await dm.getSource(sb.source.id);
    assert.equal(source?.port, sb[to].port, `DM's source reads from ${to}`);
    const subtasks = (await Promise.all(sb.tasks.map((t) => dm.taskStatus(t.name, sb.source.id)))).flat();
    assert.deepEqual(
        subtasks.map((s) => s.stage),
        sb.tasks.map(() => "Running"),
    );
    const v = await verifyReplicated(sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
    const expectedLastSeq = Object.fromEntries(Object.entries(written.schemas).map(([schema, l]) => [schema, l.lastSeq]));
    const seqs = await checkSequences(sb, { expectedLastSeq });
    assert.ok(Object.values(seqs).every((s) => s.ok), `no row lost or duplicated downstream: ${JSON.stringify(seqs)}`);
    const stopped = /replication was stopped for (\d+) ms/.exec(r.output);
    console.log(`address switch to ${to}: replication stopped ${stopped?.[1] ?? "?"} ms; pulumi up took ${r.ms} ms; ${written.written} rows written during it`);
    return r;
}

test("the first pulumi up moves the source from the VIP's address to the primary's own address", async () => {
    const r = await switchTo("primary");
    assert.match(r.output, /operate-source create/);
});

test("changing reads to the replica re-creates the source there and starts the tasks from their checkpoints", async () => {
    const r = await switchTo("replica");
    assert.match(r.output, /stop-task/);
    assert.match(r.output, /start-task/);
    const state = await stack.exportState();
    const binding = state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:SourceBinding");
    assert.equal(binding?.outputs?.port, sb.replica.port);
    assert.deepEqual(binding?.outputs?.pausedByUs, []);
    assert.equal((binding?.outputs?.lastSwitch as { to: string }).to, "replica");
    assert.ok(!JSON.stringify(state).includes(sb.admin.password), "the downstream password is not in the state in plaintext");
});

test("a second pulumi up with nothing changed does nothing", async () => {
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /stop-task|operate-source/);
});
