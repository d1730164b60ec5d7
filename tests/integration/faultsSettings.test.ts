/**
 * Faults during a change of a source's settings (the address procedure at the same address), real Pulumi
 * CLI against the sandbox under write load: a password the server refuses is refused before anything is
 * paused; a source stopped and not created again (operate-source create failing) is created by the next
 * `pulumi up` from DM's own file of it, which the state kept (DM's server-id for the source survives).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SOURCE_GRANTS } from "../../sandbox/taskFile";
import {
    assertConverges,
    assertFailedClearly,
    assertNoPassword,
    errorsIn,
    FaultRig,
    report,
    stagesOf,
    startFaultRig,
    upUnderLoad,
} from "../support/faultHelpers";

let rig: FaultRig;
const USER2 = "dm_source2";
const asUser2 = { mode: "address", reads: "primary", user: USER2, stageTimeoutMs: 10_000 } as const;
const serverIdOf = async () => /^server-id: (\d+)$/m.exec((await rig.dm.getSourceFile(rig.sb.source.id)) ?? "")?.[1];
const running = () => Object.fromEntries(rig.sb.tasks.map((t) => [t.name, "Running"]));

before(async () => {
    rig = await startFaultRig("address");
    await rig.sb.primary.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [USER2, rig.sb.source.password]);
    await rig.sb.primary.query(`GRANT ${SOURCE_GRANTS} ON *.* TO ?@'127.0.0.1'`, [USER2]);
});

after(async () => {
    await rig?.dispose();
});

test("a new password the server refuses is refused before any task is paused; DM keeps its source as it was", async () => {
    const before = { file: await rig.dm.getSourceFile(rig.sb.source.id), serverId: await serverIdOf() };
    await rig.stack.setConfig(`dm-switch:passwords.${rig.sb.source.id}`, "not-the-password", {
        secret: true,
        path: true,
    });
    const { r } = await upUnderLoad(rig, { mode: "address", reads: "primary", stageTimeoutMs: 10_000 });
    const left = await assertFailedClearly(
        rig,
        r,
        /switching DM source sandbox-source to primary .*Access denied for user 'dm_source'.*No task was paused/,
    );
    assert.deepEqual(left, []);
    assert.doesNotMatch(r.output, /step \d+\/\d+ done in \d+ ms: [^\n]*pause-task/, "nothing was paused");
    assert.deepEqual(await stagesOf(rig), running());
    assert.equal(await rig.dm.getSourceFile(rig.sb.source.id), before.file, "DM's source is unchanged");
    await rig.stack.setConfig(`dm-switch:passwords.${rig.sb.source.id}`, rig.sb.source.password, {
        secret: true,
        path: true,
    });
});

test("operate-source create failing after operate-source stop: the next pulumi up creates the source from DM's file the state kept, and starts the tasks", async () => {
    const serverId = await serverIdOf();
    assert.ok(serverId);
    const { r, load } = await upUnderLoad(rig, asUser2, {
        during: async () => {
            // Locked once the source is stopped: dm-master's operate-source create connects with the new user and fails.
            await rig.watch.waitFor(/step \d+\/\d+ done in \d+ ms: [^\n]*operate-source stop/);
            await rig.sb.primary.query(`ALTER USER ?@'127.0.0.1' ACCOUNT LOCK`, [USER2]);
        },
    });
    // The tasks are stopped (DM lists no task now): the error must name each.
    assert.notEqual(r.code, 0, r.output);
    assertNoPassword(rig, r);
    const errors = errorsIn(r.output);
    assert.match(
        errors,
        /switching DM source sandbox-source to primary failed: operate-source create sandbox-source failed: .*The tasks sandbox_task_0, sandbox_task_1 of DM source sandbox-source were stopped with their checkpoints kept/,
        r.output,
    );
    assert.equal(await rig.dm.getSource(rig.sb.source.id), undefined, "the source is stopped and not created again");
    const state = await rig.stack.exportState();
    const binding = state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:SourceBinding");
    assert.ok(binding?.outputs?.sourceFile !== undefined, "the state keeps DM's file of the source");
    assert.equal(binding?.outputs?.user, rig.sb.source.user, "the state says DM's source still has the old user");
    await rig.sb.primary.query(`ALTER USER ?@'127.0.0.1' ACCOUNT UNLOCK`, [USER2]);
    // The preview prints what the next up runs: the source created at the target, then the tasks started.
    const preview = await rig.stack.run(["preview"]);
    assert.equal(preview.code, 0, preview.output);
    assert.match(
        preview.output,
        /finishing an address switch to primary: tasks sandbox_task_0, sandbox_task_1 are stopped/,
    );
    assert.match(preview.output, /2\. dmctl --master-addr \S+ operate-source create sandbox-source\.yaml/);
    assert.match(preview.output, /3\. dmctl --master-addr \S+ start-task sandbox_task_0\.yaml/);
    assert.equal(await rig.dm.getSource(rig.sb.source.id), undefined, "the preview created nothing");
    const again = await assertConverges(rig, asUser2, [load]);
    assert.match(again.output, /finishing an address switch to primary/);
    assert.match(
        again.output,
        /step 2\/5 done in \d+ ms: [^\n]*operate-source create sandbox-source\.yaml {2}# from: host 127\.0\.0\.1, port \d+ \(primary\)/,
    );
    assert.equal((await rig.dm.getSource(rig.sb.source.id))?.user, USER2);
    assert.equal(await serverIdOf(), serverId, "created from DM's own file: its server-id is kept");
    const last = await rig.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(last.code, 0, last.output);
    assert.doesNotMatch(last.output, /operate-source|stop-task/, "converged: nothing left to do");
    report("operate-source create failing during a change of user", { "faulty up": r, "re-run": again }, load);
});
