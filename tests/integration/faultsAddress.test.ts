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
    FaultRig,
    purgeAllBinlogs,
    report,
    stagesOf,
    startFaultRig,
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
    const again = await assertConverges(rig, toPrimary, [load]);
    assert.match(again.output, /finishing an address switch to primary/);
    report("dm-worker restarted during an address switch", { "faulty up": r, "re-run": again }, load);
});
