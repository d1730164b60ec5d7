/**
 * The finish of an address switch a failed run left with the tasks stopped (components/switch/plan
 * `planFinishStopped`), run by the executor: the decision on the gtid-S the state recorded, never a start
 * against a target that fails it, and what a failure leaves for the next run. Against the in-memory world
 * of tests/support/switchWorld.ts, in which the stopped tasks have no subtask.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { executeSwitch, SwitchError } from "../../components/switch/execute";
import { FinishPlanInput, planFinishStopped } from "../../components/switch/plan";
import { opts, World } from "../support/switchWorld";

const finishPlan = (extra: Partial<FinishPlanInput> = {}) =>
    planFinishStopped({
        sourceId: "src",
        dmAddress: "dm:8261",
        stopped: ["t1", "t2"],
        to: "b",
        toAddress: { host: "b", port: 3306 },
        ...extra,
    });
/** The gtid-S each task stopped at, as the resource's state recorded it. */
const recorded = { ...opts, gtidS: { t1: "90", t2: "90" } };
/** A world in which DM's source is stopped and the tasks have no subtask. */
const stoppedWorld = (options: ConstructorParameters<typeof World>[1] = {}) => {
    const w = new World({}, options);
    w.sourceAt = undefined;
    return w;
};

test("a finish decides on the recorded gtid-S, creates the source at the target and starts every task from it", async () => {
    const w = stoppedWorld();
    const report = await executeSwitch(finishPlan(), w, recorded);
    assert.deepEqual(w.calls, ["create-source b:3306", "start-task t1@90,t2@90"]);
    assert.deepEqual(w.decisions, [{ target: "b", tasks: ["t1", "t2"], from: undefined, caughtUp: undefined }]);
    assert.equal(w.stages.get("t1"), "Running");
    assert.equal(w.stages.get("t2"), "Running");
    assert.deepEqual(report.gtidS, { t1: "90", t2: "90" });
    assert.equal(report.pausedMs, undefined, "nothing was paused by this run");
});

test("a finish against a target that purged what the tasks need starts nothing and says how to go on", async () => {
    const w = stoppedWorld();
    w.servers.b.purged = 95;
    await assert.rejects(executeSwitch(finishPlan(), w, recorded), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.match(
            err.message,
            /^switching DM source src to b is not allowed: task t1: purged 91-95 task t2: purged 91-95\. The tasks t1, t2 of DM source src were stopped with their checkpoints kept and are not running yet .*run 'pulumi up' again to finish the switch to b, or point the source at another instance of its replication set: the switch is finished there\.$/,
        );
        assert.doesNotMatch(err.message, /No task was paused/);
        assert.deepEqual(err.pausedTasks, []);
        return true;
    });
    assert.deepEqual(w.calls, [], "no source created, no task started");
});

test("a finish waits once for a lagging target, and starts nothing if it does not catch up", async () => {
    const lagging = stoppedWorld();
    lagging.servers.b.executed = 80;
    await assert.rejects(executeSwitch(finishPlan(), lagging, recorded), /task t1: lacks 81-90/);
    assert.ok(
        lagging.calls.every((c) => c.startsWith("wait b 90")),
        lagging.calls.join("; "),
    );
    assert.ok(lagging.waits.length > 0, "waited for the target");
    const caughtUp = stoppedWorld();
    caughtUp.servers.b.executed = 80;
    caughtUp.caughtUpOnWait = true;
    await executeSwitch(finishPlan(), caughtUp, recorded);
    assert.deepEqual(caughtUp.calls.slice(-2), ["create-source b:3306", "start-task t1@90,t2@90"]);
    assert.equal(caughtUp.decisions.at(-1)?.caughtUp, true);
});

test("a finish refused for a standing reason names it and leaves the tasks stopped", async () => {
    const w = stoppedWorld();
    w.standing = ["b is not in the replication set of the source's upstream."];
    await assert.rejects(
        executeSwitch(finishPlan(), w, recorded),
        /not allowed: b is not in the replication set of the source's upstream\. The tasks t1, t2 .* were stopped with their checkpoints kept/,
    );
    assert.deepEqual(w.calls, []);
});

test("a finish whose operate-source create fails keeps the tasks stopped for the next run", async () => {
    const w = stoppedWorld({ failCreateSource: true });
    await assert.rejects(executeSwitch(finishPlan(), w, recorded), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.match(err.message, /failed: worker refused the source\. The tasks t1, t2 of DM source src were stopped/);
        assert.deepEqual(err.pausedTasks, []);
        return true;
    });
    assert.deepEqual(w.calls, ["create-source b:3306"]);
});

test("a finish starts only the tasks a failed start-task did not create, and waits for every one", async () => {
    const w = stoppedWorld();
    w.sourceAt = "b";
    // t1's subtask was stored by the failed run's start-task: it runs from its checkpoint.
    w.stages.set("t1", "Running");
    w.gtid.set("t1", "90");
    w.resumed.add("t1");
    const plan = finishPlan({ live: "b", created: ["t1"] });
    await executeSwitch(plan, w, recorded);
    assert.deepEqual(w.calls, ["start-task t2@90"]);
    assert.equal(w.stages.get("t2"), "Running");
});

test("a finish at the old address stops DM's source there before creating it at the target", async () => {
    const w = stoppedWorld();
    w.sourceAt = "a";
    await executeSwitch(finishPlan({ live: "a" }), w, recorded);
    assert.deepEqual(w.calls, ["stop-source", "create-source b:3306", "start-task t1@90,t2@90"]);
    assert.equal(w.sourceAt, "b");
});
