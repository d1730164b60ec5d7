/**
 * A VIP moved by a site script in a `command.local.Command` (@pulumi/command, its real provider plugin)
 * carrying dm-switch's hooks: beforeUpdate pauses the source's tasks and checks the rule, the command
 * moves HAProxy, afterUpdate verifies through the VIP and resumes. Real Pulumi CLI, DM, MariaDB, HAProxy.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sandboxStackSuite } from "./sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", mover: "command", reads: "primary" });

test("the first pulumi up runs the script for the current target; no task is paused", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ +command:local:Command sandbox-source-vip created/);
    assert.match(r.output, /\+ +pulumi-nodejs:dynamic\/dm-switch:VipIntent sandbox-source-vip-intent created/);
    assert.doesNotMatch(r.output, /pause-task/);
    assert.equal(await s.sb.vipTarget(), "primary");
});

test("changing the target: the hooks pause, check, and resume around the command that moves HAProxy", async () => {
    const { r } = await s.upUnderLoad({ mode: "vip", mover: "command", reads: "replica" });
    assert.match(r.output, /~ +command:local:Command sandbox-source-vip updated/);
    // beforeUpdate ran the steps up to the move; afterUpdate verified and resumed.
    assert.match(r.output, /step 3\/\d+ done in \d+ ms: read syncerBinlogGtid/);
    assert.match(r.output, /connect through the VIP and check that replica answers/);
    assert.match(r.output, /switched to replica; resumed sandbox_task_0, sandbox_task_1/);
    assert.equal(await s.sb.vipTarget(), "replica");
});

test("a lagging target is refused in beforeUpdate: the command does not run, the tasks run on; re-running converges", async () => {
    s.stack.configure({ mode: "vip", mover: "command", reads: "primary" });
    const back = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(back.code, 0, back.output);
    assert.equal(await s.sb.vipTarget(), "primary");
    await s.sb.replica.query("STOP SLAVE");
    try {
        await s.sb.primary.query(`INSERT INTO ${s.sb.tasks[0].schema}.t (id, seq, payload) VALUES (900000002, 900000002, 'only on the primary')`);
        s.stack.configure({ mode: "vip", mover: "command", reads: "replica", catchUpTimeoutMs: 500 });
        const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, /switching DM source sandbox-source to replica is not allowed/);
        assert.match(r.output, /sandbox-source-vip-dm-pause/);
        assert.equal(await s.sb.vipTarget(), "primary", "the command did not run");
        assert.deepEqual(await s.stages(), ["Running", "Running"]);
    } finally {
        await s.sb.replica.query("START SLAVE");
    }
    const again = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.equal(await s.sb.vipTarget(), "replica");
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
});
