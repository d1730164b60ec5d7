/**
 * A VIP moved by a site script in a `command.local.Command` (@pulumi/command, its real provider plugin)
 * carrying dm-switch's hooks: the VipIntent pauses the source's tasks, checks the rule and records them,
 * the command moves HAProxy, the VipResume verifies through the VIP and resumes; a failed move is met by
 * the command's error hook and by the next `pulumi up`. Real Pulumi CLI, DM, MariaDB, HAProxy.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../../components/util/poll";
import * as path from "node:path";
import { test } from "node:test";
import { HaproxyVip } from "../../components/vipBackends/haproxy";
import { startLoad } from "../../sandbox/load";
import { verifyReplicated } from "../../sandbox/verify";
import { PROJECT_DIR, type SandboxSourceOptions } from "../../tools/sandboxStack";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", mover: "command", reads: "primary" });

test("the first pulumi up runs the script for the current target; no task is paused", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ +command:local:Command sandbox-source-vip created/);
    assert.match(r.output, /\+ +pulumi-nodejs:dynamic\/dm-switch:VipIntent sandbox-source-vip-intent created/);
    assert.match(r.output, /\+ +pulumi-nodejs:dynamic\/dm-switch:VipResume sandbox-source-vip-resume created/);
    assert.doesNotMatch(r.output, /pause-task/);
    assert.equal(await s.sb.vipTarget(), "primary");
});

test("the preview of a target change, with the policy pack, lists the VipIntent, the command and the VipResume as updates, and changes nothing", async () => {
    s.stack.configure({ mode: "vip", mover: "command", reads: "replica" });
    const p = await s.stack.run(["preview", "--policy-pack", path.join(PROJECT_DIR, "policies")]);
    s.stack.configure({ mode: "vip", mover: "command", reads: "primary" });
    assert.equal(p.code, 0, p.output);
    assert.match(p.output, /~ +pulumi-nodejs:dynamic\/dm-switch:VipIntent sandbox-source-vip-intent update/);
    assert.match(p.output, /~ +command:local:Command sandbox-source-vip update/);
    assert.match(p.output, /~ +pulumi-nodejs:dynamic\/dm-switch:VipResume sandbox-source-vip-resume update/);
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
});

test("changing the target: the VipIntent pauses and checks, the command moves HAProxy, the VipResume verifies and resumes", async () => {
    const { r } = await s.upUnderLoad({ mode: "vip", mover: "command", reads: "replica" });
    assert.match(r.output, /~ +command:local:Command sandbox-source-vip updated/);
    assert.match(r.output, /~ +pulumi-nodejs:dynamic\/dm-switch:VipResume sandbox-source-vip-resume updated/);
    // The intent ran the steps up to the move; the VipResume verified and resumed.
    assert.match(r.output, /step 3\/\d+ done in \d+ ms: read syncerBinlogGtid/);
    assert.match(r.output, /connect through the VIP and check that replica answers/);
    assert.match(r.output, /switched to replica; resumed sandbox_task_0, sandbox_task_1/);
    assert.equal(await s.sb.vipTarget(), "replica");
    // The next up finds the recorded tasks running, forgets them, and touches nothing else.
    const next = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(next.code, 0, next.output);
    assert.match(next.output, /task sandbox_task_1, paused by an earlier switch, is Running now: forgotten/);
    assert.match(next.output, /~ +pulumi-nodejs:dynamic\/dm-switch:VipIntent sandbox-source-vip-intent updated/);
    assert.doesNotMatch(
        next.output,
        /VipResume sandbox-source-vip-resume updated|command:local:Command sandbox-source-vip updated|pause-task/,
    );
    const quiet = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(quiet.code, 0, quiet.output);
    assert.doesNotMatch(quiet.output, /updated/);
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
});

test("a lagging target is refused by the VipIntent: the command does not run, the tasks run on; re-running converges", async () => {
    s.stack.configure({ mode: "vip", mover: "command", reads: "primary" });
    const back = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(back.code, 0, back.output);
    assert.equal(await s.sb.vipTarget(), "primary");
    await s.sb.replica.query("STOP SLAVE");
    try {
        await s.sb.primary.query(
            `INSERT INTO ${s.sb.tasks[0].schema}.t (id, seq, payload) VALUES (900000002, 900000002, 'only on the primary')`,
        );
        s.stack.configure({ mode: "vip", mover: "command", reads: "replica", catchUpTimeoutMs: 500 });
        const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, /switching DM source sandbox-source to replica is not allowed/);
        assert.match(r.output, /pulumi-nodejs:dynamic\/dm-switch:VipIntent \(sandbox-source-vip-intent\)/);
        assert.equal(await s.sb.vipTarget(), "primary", "the command did not run");
        assert.deepEqual(await s.stages(), ["Running", "Running"]);
    } finally {
        await s.sb.replica.query("START SLAVE");
        // The row only the primary had would break the load's sequence (seq 900000002) the later tests check.
        await s.sb.primary.query(`DELETE FROM ${s.sb.tasks[0].schema}.t WHERE id = 900000002`);
    }
    const again = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.equal(await s.sb.vipTarget(), "replica");
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
});

/** `pulumi up` (with `extra` arguments) on `o`; it must fail. */
async function upFails(o: SandboxSourceOptions, extra: string[] = []): Promise<string> {
    s.stack.configure(o);
    const r = await s.stack.run(["up", "--yes", "--skip-preview", ...extra]);
    assert.notEqual(r.code, 0, r.output);
    return r.output;
}

/** The VIP back at the primary with a working script and every task running. */
async function atPrimary(): Promise<void> {
    s.stack.configure({ mode: "vip", mover: "command", reads: "primary" });
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
}

test("the command fails before moving HAProxy: its error hook resumes the tasks at the primary, up fails; the next up converges", async () => {
    await atPrimary();
    const out = await upFails({
        mode: "vip",
        mover: "command",
        reads: "replica",
        scriptFault: { target: "replica", kind: "exit-before-move" },
    });
    assert.deepEqual(await s.stages(), ["Running", "Running"], "no task left paused");
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.match(out, /site script: cannot reach the load balancer/);
    assert.match(
        out,
        /command\.local\.Command sandbox-source-vip failed \(.*\); tasks sandbox_task_0, sandbox_task_1 were resumed reading from primary, where the VIP answers/,
    );
    const { r } = await s.upUnderLoad({ mode: "vip", mover: "command", reads: "replica" });
    assert.match(r.output, /task sandbox_task_0, paused by an earlier switch, is Running now: forgotten/);
    assert.match(r.output, /switched to replica; resumed sandbox_task_0, sandbox_task_1/);
    assert.equal(await s.sb.vipTarget(), "replica");
});

test("the command fails after moving HAProxy: its error hook checks the rule at the new target and resumes there; the next up converges", async () => {
    // The VIP is at the replica (previous test); back to the primary with a script that fails once HAProxy moved.
    const out = await upFails({
        mode: "vip",
        mover: "command",
        reads: "primary",
        scriptFault: { target: "primary", kind: "exit-after-move" },
    });
    assert.deepEqual(await s.stages(), ["Running", "Running"], "no task left paused");
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.match(out, /site script: the load balancer did not confirm/);
    assert.match(out, /tasks sandbox_task_0, sandbox_task_1 were resumed reading from primary, where the VIP answers/);
    const { r } = await s.upUnderLoad({ mode: "vip", mover: "command", reads: "primary" });
    assert.match(r.output, /~ +command:local:Command sandbox-source-vip updated/);
    assert.equal(await s.sb.vipTarget(), "primary");
});

test("the command succeeds but no server answers through the VIP: VipResume names the paused tasks, up fails; the next up resumes them and converges", async () => {
    await atPrimary();
    const out = await upFails({
        mode: "vip",
        mover: "command",
        reads: "replica",
        scriptFault: { target: "replica", kind: "no-server" },
    });
    assert.deepEqual(
        await s.stages(),
        ["Paused", "Paused"],
        "named, left paused: DM reads through a VIP nobody answers",
    );
    // As the error says: point the VIP at an instance (the old one, by hand), then run `pulumi up` with a
    // working script. The VipIntent's state lists the tasks: it pauses nothing more and finishes the switch.
    await new HaproxyVip({
        socket: s.sb.vip.haproxySocket,
        backend: s.sb.vip.backend,
        servers: { ...s.sb.vip.servers },
    }).moveTo("primary");
    const { r } = await s.upUnderLoad({ mode: "vip", mover: "command", reads: "replica" });
    assert.match(
        r.output,
        /DM source sandbox-source: vip switch primary → replica\n.*1\. dmctl --master-addr [^ ]+ query-status … until sandbox_task_0, sandbox_task_1 are Paused/,
    );
    assert.match(
        r.output,
        /paused sandbox_task_0, sandbox_task_1 for command\.local\.Command sandbox-source-vip to point the VIP at replica/,
    );
    assert.match(r.output, /switched to replica; resumed sandbox_task_0, sandbox_task_1/);
    assert.equal(await s.sb.vipTarget(), "replica");
    // The failed run named the tasks and how to resume them.
    assert.match(
        out,
        /command\.local\.Command sandbox-source-vip was to point the VIP at replica: switching DM source sandbox-source to replica failed/,
    );
    assert.match(
        out,
        /Tasks sandbox_task_0, sandbox_task_1 stay paused because it is not known which server the VIP points at/,
    );
    assert.match(
        out,
        /the next 'pulumi up' resumes them where the VIP points once the rule holds there, or 'dmctl --master-addr [^ ]+ resume-task sandbox_task_0 -s sandbox-source', 'dmctl --master-addr [^ ]+ resume-task sandbox_task_1 -s sandbox-source'/,
    );
});

test("the next up resumes only what dm-switch paused: a task someone resumed and paused again since stays paused", async () => {
    // The VIP is at the replica (previous test). A move to the primary that leaves no server answering.
    await upFails({
        mode: "vip",
        mover: "command",
        reads: "primary",
        scriptFault: { target: "primary", kind: "no-server" },
    });
    assert.deepEqual(await s.stages(), ["Paused", "Paused"]);
    const [ours, theirs] = s.sb.tasks.map((t) => t.name);
    const gtidOf = async (task: string) => (await s.dm.taskStatus(task, s.sb.source.id))[0].syncerBinlogGtid;
    const recorded = await gtidOf(theirs);
    // An operator points the VIP back at the replica, resumes one task, lets it apply new rows, and pauses it.
    await new HaproxyVip({
        socket: s.sb.vip.haproxySocket,
        backend: s.sb.vip.backend,
        servers: { ...s.sb.vip.servers },
    }).moveTo("replica");
    await s.dm.resumeTask(theirs, [s.sb.source.id]);
    const load = startLoad(s.sb, { rowsPerSec: 100, via: "primary" });
    await pollUntil(async () => (await gtidOf(theirs)) !== recorded || undefined, {
        intervalMs: 100,
        timeoutMs: 30_000,
    });
    await load.stop();
    await s.dm.pauseTask(theirs, [s.sb.source.id]);
    await pollUntil(async () => (await s.dm.taskStatus(theirs, s.sb.source.id))[0].stage === "Paused" || undefined, {
        intervalMs: 100,
        timeoutMs: 30_000,
    });
    assert.notEqual(await gtidOf(theirs), recorded, `${theirs} moved past the checkpoint dm-switch paused it at`);
    s.stack.configure({ mode: "vip", mover: "command", reads: "primary" });
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.deepEqual(
        await s.stages(),
        ["Running", "Paused"],
        `${ours} resumed by dm-switch; ${theirs} left to whoever paused it`,
    );
    assert.match(
        r.output,
        new RegExp(
            `task ${theirs} is Paused at [^ ]+, not at the checkpoint dm-switch paused it at \\(${recorded}\\): someone else paused it since; it stays as it is`,
        ),
    );
    assert.match(r.output, new RegExp(`switched to primary; resumed ${ours} \\(`));
    // Whoever paused it resumes it; nothing was lost.
    await s.dm.resumeTask(theirs, [s.sb.source.id]);
    const v = await verifyReplicated(s.sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
});

test("pulumi up --target on the command alone is refused by its guard: the VipIntent paused nothing for the move", async () => {
    const urn = (await s.stack.exportState()).deployment.resources?.find(
        (r) => r.type === "command:local:Command",
    )?.urn;
    assert.ok(urn);
    const out = await upFails({ mode: "vip", mover: "command", reads: "replica" }, ["--target", urn]);
    assert.equal(await s.sb.vipTarget(), "primary", "the command did not run");
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
    assert.match(
        out,
        /command\.local\.Command sandbox-source-vip would point the VIP at replica, which answers as primary now, but the tasks of DM source sandbox-source were not paused for it in this run \(its VipIntent was not updated: 'pulumi up --target'\?\): run 'pulumi up' without --target/,
    );
    await s.upUnderLoad({ mode: "vip", mover: "command", reads: "replica" });
    assert.equal(await s.sb.vipTarget(), "replica");
});
