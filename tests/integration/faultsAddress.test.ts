/**
 * Faults during an address switch of the real product (stop-task → operate-source stop → operate-source
 * create → start-task from the checkpoint), and a target that purged binary logs DM still needs: the real
 * Pulumi CLI runs this project's program against the sandbox while a write load runs on the primary.
 * Each case ends with a clear error, no task left paused or stopped that the error does not name, a
 * re-run of `pulumi up` that converges, and downstream equal to upstream with every row exactly once.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { waitForStage } from "../../components/dm";
import { sleep } from "../../components/util/poll";
import { verifyReplicated } from "../../sandbox/verify";
import { PROJECT_DIR } from "../../tools/sandboxStack";
import {
    assertConverges,
    assertFailedClearly,
    assertNoPassword,
    errorsIn,
    FaultRig,
    purgeAllBinlogs,
    report,
    stagesOf,
    startFaultRig,
    unlogged,
    upUnderLoad,
} from "../support/faultHelpers";

let rig: FaultRig;

before(async () => {
    rig = await startFaultRig("address");
});

after(async () => {
    await rig?.dispose();
});

const toReplica = { mode: "address", reads: "replica", stageTimeoutMs: 10_000 } as const;
const toPrimary = { ...toReplica, reads: "primary" } as const;
const taskNames = () => rig.sb.tasks.map((t) => t.name);
const sourcePort = async () => (await rig.dm.getSource(rig.sb.source.id))?.port;

test("binlogs DM still needs purged on the target between preview and up: pulumi up refuses, nothing changed; converges once DM has read past them", async () => {
    assert.equal(await sourcePort(), rig.sb.primary.port);
    const t0 = performance.now();
    rig.stack.configure(toReplica);
    const preview = await rig.stack.run(["preview", "--policy-pack", path.join(PROJECT_DIR, "policies")]);
    assert.equal(preview.code, 0, preview.output);
    console.log(`  pulumi preview --policy-pack passed in ${(performance.now() - t0).toFixed(0)} ms`);
    let purged = "";
    const { r, load } = await upUnderLoad(rig, toReplica, {
        before: async () => {
            // An operator pauses the tasks: gtid-S stays where it is while the load goes on and reaches the replica.
            await Promise.all(taskNames().map((t) => rig.dm.pauseTask(t, [rig.sb.source.id])));
            await waitForStage(rig.dm, taskNames(), rig.sb.source.id, ["Paused"], { timeoutMs: 30_000 });
            await sleep(1000);
            const t0 = performance.now();
            purged = await purgeAllBinlogs(rig.sb.replica, rig.sb.admin);
            console.log(`  the replica purged everything up to ${purged} (${(performance.now() - t0).toFixed(0)} ms)`);
        },
    });
    const left = await assertFailedClearly(
        rig,
        r,
        /switching DM source sandbox-source to replica is not allowed: task sandbox_task_0: /,
    );
    assert.deepEqual(left, taskNames(), "the operator's pause stays, and the error names the tasks");
    assert.equal(await sourcePort(), rig.sb.primary.port, "the source still reads from the primary");
    // The operator resumes the tasks. Once downstream has every row again, each syncer has read past what
    // the replica purged (the load wrote to both schemas after the purge), and the same up converges: its
    // pause flushes the checkpoints, so gtid-S then contains gtid-P. (The flushed checkpoint in query-status
    // was seen to lag 30 s behind for a task with nothing left to write, so it is not what is waited on.)
    await Promise.all(taskNames().map((t) => rig.dm.resumeTask(t, [rig.sb.source.id])));
    const caughtUp = await verifyReplicated(rig.sb, { upstream: "primary", timeoutMs: 60_000 });
    assert.ok(caughtUp.equal, `DM caught up after the resume: ${JSON.stringify(caughtUp)}`);
    console.log(
        `  tasks resumed by hand; downstream caught up with the primary after ${caughtUp.waitedMs.toFixed(0)} ms`,
    );
    const again = await assertConverges(rig, toReplica, [load]);
    report("binlogs purged on the target", { preview, "faulty up": r, "re-run": again }, load);
});

test("the dm-worker restarted between stop-task and start-task of an address switch: start-task fails, naming the tasks; pulumi up finishes the switch", async () => {
    assert.equal(await sourcePort(), rig.sb.replica.port);
    let downMs = 0;
    const { r, load } = await upUnderLoad(rig, toPrimary, {
        during: async () => {
            // Killed as soon as the tasks are stopped; started again once the switch has failed on it.
            await rig.watch.waitFor(/step \d+\/\d+ done in \d+ ms: [^\n]*stop-task/);
            const t0 = performance.now();
            await rig.sb.dm.worker.kill();
            await rig.watch.waitFor(/step \d+ failed after \d+ ms: [^\n]*start-task/);
            await rig.sb.dm.worker.start();
            downMs = performance.now() - t0;
        },
    });
    console.log(
        `  dm-worker down for ${downMs.toFixed(0)} ms; stages after the failed up: ${JSON.stringify(await stagesOf(rig))}`,
    );
    await assertFailedClearly(
        rig,
        r,
        /switching DM source sandbox-source to primary failed: start-task .*were stopped with their checkpoints kept and are not running yet .*; fix the cause and run 'pulumi up' again/,
    );
    // The preview prints the rest of the switch, the plan the next up runs, and changes nothing.
    const sourceBefore = await rig.dm.getSourceFile(rig.sb.source.id);
    const preview = await rig.stack.run(["preview"]);
    assert.equal(preview.code, 0, preview.output);
    assert.match(
        preview.output,
        /DM source sandbox-source: finishing an address switch to primary: tasks sandbox_task_0, sandbox_task_1 are stopped with their checkpoints kept/,
    );
    assert.match(preview.output, /1\. gtid-S of sandbox_task_0, sandbox_task_1 is the checkpoint each stopped at/);
    assert.match(preview.output, /query-status … until sandbox_task_0, sandbox_task_1 are Running/);
    // (The tasks' stages may change meanwhile: DM brings back on the restarted worker what start-task stored.)
    assert.doesNotMatch(preview.output, /step \d+\/\d+ done/, "the preview ran no step");
    assert.equal(await rig.dm.getSourceFile(rig.sb.source.id), sourceBefore, "the preview left DM's source as it was");
    const again = await assertConverges(rig, toPrimary, [load]);
    assert.match(again.output, /finishing an address switch to primary/);
    report("dm-worker restarted during an address switch", { "faulty up": r, preview, "re-run": again }, load);
});

test("a stopped address switch whose target then purged what the tasks need: the finish starts nothing; pointed back at the primary, pulumi up finishes there", async () => {
    assert.equal(await sourcePort(), rig.sb.primary.port);
    const lock = (what: "LOCK" | "UNLOCK") =>
        unlogged(rig.sb.replica, rig.sb.admin, [[`ALTER USER ?@'127.0.0.1' ACCOUNT ${what}`, [rig.sb.source.user]]]);
    const { r, load } = await upUnderLoad(rig, toReplica, {
        during: async () => {
            // Locked on the replica alone once the source is stopped: operate-source create connects to it and fails.
            await rig.watch.waitFor(/step \d+\/\d+ done in \d+ ms: [^\n]*operate-source stop/);
            await lock("LOCK");
        },
    });
    // The tasks are stopped (DM knows no task now): the error must name each.
    const failedClearly = (run: typeof r, expected: RegExp) => {
        assert.notEqual(run.code, 0, run.output);
        assertNoPassword(rig, run);
        assert.match(errorsIn(run.output), expected, run.output);
    };
    try {
        failedClearly(
            r,
            /switching DM source sandbox-source to replica failed: operate-source create .*The tasks sandbox_task_0, sandbox_task_1 of DM source sandbox-source were stopped with their checkpoints kept/,
        );
    } finally {
        await lock("UNLOCK");
    }
    // The replica then purges every binary log: past the gtid-S the tasks stopped at (the load went on).
    const purged = await purgeAllBinlogs(rig.sb.replica, rig.sb.admin);
    console.log(`  the replica purged everything up to ${purged}`);
    rig.watch.mark();
    const refused = await rig.stack.run(["up", "--yes", "--skip-preview"]);
    failedClearly(
        refused,
        /switching DM source sandbox-source to replica is not allowed: task sandbox_task_0: the target has purged binlogs DM still needs.*The tasks sandbox_task_0, sandbox_task_1 of DM source sandbox-source were stopped with their checkpoints kept/,
    );
    assert.match(refused.output, /finishing an address switch to replica/);
    assert.doesNotMatch(refused.output, /step \d+\/\d+ done in \d+ ms: [^\n]*(operate-source create|start-task)/);
    assert.equal(await rig.dm.getSource(rig.sb.source.id), undefined, "no source was created at the replica");
    for (const t of taskNames()) {
        await assert.rejects(rig.dm.taskStatus(t, rig.sb.source.id), /not exist/, `${t} was not started`);
    }
    // Pointed back at the primary: the preview prints the finish there, and the up runs it.
    rig.stack.configure(toPrimary);
    const preview = await rig.stack.run(["preview"]);
    assert.equal(preview.code, 0, preview.output);
    assert.match(
        preview.output,
        /finishing an address switch to primary: tasks sandbox_task_0, sandbox_task_1 are stopped/,
    );
    assert.match(
        preview.output,
        /2\. dmctl --master-addr \S+ operate-source create sandbox-source\.yaml {2}# from: host 127\.0\.0\.1, port \d+ \(primary\)/,
    );
    const again = await assertConverges(rig, toPrimary, [load]);
    assert.match(again.output, /finishing an address switch to primary/);
    report(
        "a stopped switch's target purged",
        { "faulty up": r, "refused finish": refused, preview, "re-run": again },
        load,
    );
});
