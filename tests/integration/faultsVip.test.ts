/**
 * Faults during a VIP switch of the real product: this project's program run by the real Pulumi CLI
 * against the sandbox (real dm-master/dm-worker, MariaDB, HAProxy) while a write load runs on the
 * primary. Each case injects one fault into `pulumi up`, then checks the four promises: a clear error in
 * the output; no task left paused that the error does not name; a re-run of `pulumi up` converges; and
 * downstream equals upstream with every written row exactly once.
 *
 * Faults that must land between the pause and the resume are made deterministic by holding the switch
 * there: replication to the replica is stopped before the up, so the apply-time check finds the target
 * behind gtid-S and waits for it ("… lags behind gtid-S; waiting"); the fault is injected on that line
 * (or on the "… are Paused" line), and only then is replication started again and the switch let go.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, test } from "node:test";
import { pollUntil } from "../../components/util/poll";
import {
    assertConverges,
    assertFailedClearly,
    FaultRig,
    report,
    stagesOf,
    startFaultRig,
    unlogged,
    upUnderLoad,
} from "../support/faultHelpers";
import {
    dmMasterKilledCase,
    targetKilledAfterPreviewCase,
    toPrimary,
    toReplica,
    vipAt as vipAtOf,
} from "../support/vipFaultCases";

let rig: FaultRig;

before(async () => {
    rig = await startFaultRig("vip");
});

after(async () => {
    await rig?.dispose();
});

const HELD = /replica lags behind gtid-S; waiting/;

/** Stops replication to the replica: the next switch to it waits in its apply-time check until {@link release}. */
const hold = () => rig.sb.replica.query("STOP SLAVE");
const release = () => rig.sb.replica.query("START SLAVE");

const vipAt = (at: "primary" | "replica") => vipAtOf(rig, at);

test("dm-master killed between pause and resume: the error names the paused tasks; after a restart pulumi up resumes them", () =>
    dmMasterKilledCase(rig, hold, release, "dm-master killed"));

test("a wrong password for the target (the source user's changed on the primary): a clear error before any task is paused, nothing changed", async () => {
    // The VIP is on the replica after the case before: this switch goes to the primary.
    await vipAt("replica");
    const { user, password } = rig.sb.source;
    const setPassword = (p: string) =>
        unlogged(rig.sb.primary, rig.sb.admin, [[`ALTER USER ?@'127.0.0.1' IDENTIFIED BY ?`, [user, p]]]);
    await setPassword(`${password}-changed`);
    try {
        const { r, load } = await upUnderLoad(rig, toPrimary);
        const paused = await assertFailedClearly(
            rig,
            r,
            /switching DM source sandbox-source to primary failed: .*Access denied for user 'dm_source'.*No task was paused/,
        );
        assert.deepEqual(paused, []);
        assert.doesNotMatch(
            r.output,
            /step \d+\/\d+ done in \d+ ms: \S+ --master-addr \S+ pause-task/,
            "no task was paused",
        );
        assert.equal(await rig.sb.vipTarget(), "replica");
        await setPassword(password);
        const again = await assertConverges(rig, toPrimary, [load]);
        report("wrong target password", { "faulty up": r, "re-run": again }, load);
    } finally {
        await setPassword(password);
    }
});

test("resume fails because the dm-worker was stopped after the pause: the tasks are named; with the worker back pulumi up converges", async () => {
    await vipAt("primary");
    await hold();
    const { r, load } = await upUnderLoad(rig, toReplica, {
        during: async () => {
            await rig.watch.waitFor(HELD);
            await rig.sb.dm.worker.stop();
            await release();
        },
    });
    await release();
    await rig.sb.dm.worker.start();
    const paused = await assertFailedClearly(rig, r, /switching DM source sandbox-source to replica failed/);
    console.log(`  tasks not Running after the failed up, named in the error: ${paused.join(", ") || "none"}`);
    const again = await assertConverges(rig, toReplica, [load]);
    report("dm-worker stopped after the pause", { "faulty up": r, "re-run": again }, load);
});

test("the dm-worker offline when pulumi up starts: the switch is refused before anything is paused (the tasks are Offline), nothing changed; converges once it is back", async () => {
    await vipAt("replica");
    await rig.sb.dm.worker.stop();
    try {
        // The case is dm-master knowing the worker offline; it learns of the stop a moment later (before
        // that, a status query is forwarded to the stopped worker and fails otherwise).
        let stages: Record<string, string> | { error: string } = {};
        const offline = await pollUntil(
            async () => {
                stages = await stagesOf(rig).catch((e: Error) => ({ error: e.message }));
                return rig.sb.tasks.every((t) => (stages as Record<string, string>)[t.name] === "Offline") || undefined;
            },
            { intervalMs: 100, timeoutMs: 15_000 },
        );
        assert.ok(offline, `dm-master did not list the tasks Offline within 15 s: ${JSON.stringify(stages)}`);
        const { r, load } = await upUnderLoad(rig, toPrimary);
        // The decision the pack makes, before the first pause: an Offline subtask has no gtid-S to check.
        const left = await assertFailedClearly(
            rig,
            r,
            /switching DM source sandbox-source to primary is not allowed: [^\n]*task sandbox_task_0 is Offline: its dm-worker cannot be reached[^\n]*task sandbox_task_1 is Offline[^\n]*No task was paused/,
        );
        assert.deepEqual(
            left,
            rig.sb.tasks.map((t) => t.name),
            "the subtasks are Offline, and named",
        );
        assert.equal(await rig.sb.vipTarget(), "replica", "the VIP did not move");
        await rig.sb.dm.worker.start();
        const again = await assertConverges(rig, toPrimary, [load]);
        report("dm-worker offline at the start", { "faulty up": r, "re-run": again }, load);
    } finally {
        if (rig.sb.dm.worker.pid === undefined) {
            await rig.sb.dm.worker.start();
        }
    }
});

test("the VIP cannot be moved (HAProxy's runtime socket gone) after the pause: the tasks stay paused, named; pulumi up converges once it is back", async () => {
    await vipAt("primary");
    const socket = rig.sb.vip.haproxySocket;
    const moved = `${socket}.gone`;
    await hold();
    try {
        const { r, load } = await upUnderLoad(rig, toReplica, {
            during: async () => {
                await rig.watch.waitFor(HELD);
                fs.renameSync(socket, moved);
                await release();
            },
        });
        fs.renameSync(moved, socket);
        const paused = await assertFailedClearly(
            rig,
            r,
            /switching DM source sandbox-source to replica failed: .*HAProxy runtime API/,
        );
        assert.deepEqual(
            paused,
            rig.sb.tasks.map((t) => t.name),
            "the tasks stay paused: the VIP's target is unknown",
        );
        assert.equal(await rig.sb.vipTarget(), "primary");
        const again = await assertConverges(rig, toReplica, [load]);
        report("HAProxy runtime socket gone", { "faulty up": r, "re-run": again }, load);
    } finally {
        await release();
        if (fs.existsSync(moved)) {
            fs.renameSync(moved, socket);
        }
    }
});

test("the target killed after pulumi preview passed: pulumi up refuses it before pausing anything; converges after a restart", () =>
    targetKilledAfterPreviewCase(rig, "target killed after preview"));
