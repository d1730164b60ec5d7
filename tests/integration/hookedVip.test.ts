/**
 * A VIP moved by a site script in a `command.local.Command` (@pulumi/command, its real provider plugin)
 * carrying dm-switch's hooks: beforeUpdate pauses the source's tasks and checks the rule, the command
 * moves HAProxy, afterUpdate verifies through the VIP and resumes. Real Pulumi CLI, DM, MariaDB, HAProxy.
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
    stack = await createSandboxStack(sb, { mode: "vip", mover: "command", reads: "primary" });
});

after(async () => {
    await stack?.dispose();
    await sb?.stop();
});

const stages = async () => (await Promise.all(sb.tasks.map((t) => dm.taskStatus(t.name, sb.source.id)))).flat().map((s) => s.stage);

test("the first pulumi up runs the script for the current target; no task is paused", async () => {
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ +command:local:Command sandbox-source-vip created/);
    assert.match(r.output, /\+ +pulumi-nodejs:dynamic\/dm-switch:VipIntent sandbox-source-vip-intent created/);
    assert.doesNotMatch(r.output, /pause-task/);
    assert.equal(await sb.vipTarget(), "primary");
});

test("changing the target: the hooks pause, check, and resume around the command that moves HAProxy", async () => {
    const load = startLoad(sb, { rowsPerSec: 200, via: "primary" });
    await new Promise((r) => setTimeout(r, 1000));
    stack.configure({ mode: "vip", mover: "command", reads: "replica" });
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    const written = await load.stop();
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /~ +command:local:Command sandbox-source-vip updated/);
    // beforeUpdate ran the steps up to the move; afterUpdate verified and resumed.
    assert.match(r.output, /step 3\/\d+ done in \d+ ms: read syncerBinlogGtid/);
    assert.match(r.output, /connect through the VIP and check that replica answers/);
    assert.match(r.output, /switched to replica; resumed sandbox_task_0, sandbox_task_1/);
    assert.equal(await sb.vipTarget(), "replica");
    assert.deepEqual(await stages(), ["Running", "Running"]);
    assert.ok((await verifyReplicated(sb, { timeoutMs: 60_000 })).equal);
    const expectedLastSeq = Object.fromEntries(Object.entries(written.schemas).map(([schema, l]) => [schema, l.lastSeq]));
    assert.ok(Object.values(await checkSequences(sb, { expectedLastSeq })).every((s) => s.ok));
});

test("a lagging target is refused in beforeUpdate: the command does not run, the tasks run on; re-running converges", async () => {
    stack.configure({ mode: "vip", mover: "command", reads: "primary" });
    const back = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(back.code, 0, back.output);
    assert.equal(await sb.vipTarget(), "primary");
    await sb.replica.query("STOP SLAVE");
    try {
        await sb.primary.query(`INSERT INTO ${sb.tasks[0].schema}.t (id, seq, payload) VALUES (900000002, 900000002, 'only on the primary')`);
        stack.configure({ mode: "vip", mover: "command", reads: "replica", catchUpTimeoutMs: 500 });
        const r = await stack.run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, /switching DM source sandbox-source to replica is not allowed/);
        assert.match(r.output, /sandbox-source-vip-dm-pause/);
        assert.equal(await sb.vipTarget(), "primary", "the command did not run");
        assert.deepEqual(await stages(), ["Running", "Running"]);
    } finally {
        await sb.replica.query("START SLAVE");
    }
    const again = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.equal(await sb.vipTarget(), "replica");
    assert.deepEqual(await stages(), ["Running", "Running"]);
});
