/**
 * The product end to end in address mode: the real Pulumi CLI runs this project's program against the
 * sandbox; changing `reads` re-creates the DM source at the other instance's address (pause → check →
 * stop-task → operate-source stop → operate-source create → start-task from the checkpoint), under a
 * write load, and downstream ends equal to upstream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "address", reads: "primary" });

async function switchTo(to: "primary" | "replica") {
    const { r, written } = await s.upUnderLoad({ mode: "address", reads: to });
    const source = await s.dm.getSource(s.sb.source.id);
    assert.equal(source?.port, s.sb[to].port, `DM's source reads from ${to}`);
    const stopped = /replication was stopped for (\d+) ms/.exec(r.output);
    console.log(
        `address switch to ${to}: replication stopped ${stopped?.[1] ?? "?"} ms; pulumi up took ${r.ms} ms; ${written} rows written during it`,
    );
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
    const state = await s.stack.exportState();
    const binding = state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:SourceBinding");
    assert.equal(binding?.outputs?.port, s.sb.replica.port);
    assert.deepEqual(binding?.outputs?.pausedByUs, []);
    assert.equal((binding?.outputs?.lastSwitch as { to: string }).to, "replica");
    assert.ok(
        !JSON.stringify(state).includes(s.sb.admin.password),
        "the downstream password is not in the state in plaintext",
    );
});

test("a second pulumi up with nothing changed does nothing", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /stop-task|operate-source/);
});

test("pulumi destroy refuses to remove a source its tasks still use, and changes nothing", async () => {
    const r = await s.stack.run(["destroy", "--yes", "--skip-preview"]);
    assert.notEqual(r.code, 0, r.output);
    assert.match(
        r.output,
        /DM source sandbox-source is used by tasks sandbox_task_0, sandbox_task_1: stop them first .* or set deleteWithTasks: true/,
    );
    assert.equal((await s.dm.getSource(s.sb.source.id))?.port, s.sb.replica.port);
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
});
