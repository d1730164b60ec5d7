/**
 * An address switch run by the executor: stop-task, operate-source stop and create, start-task from
 * gtid-S, relay started after the tasks, and what a failure at each point leaves for the next run.
 * Against the in-memory world of tests/support/switchWorld.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { executeSwitch, RuleViolationError, SwitchError } from "../../components/switch/execute";
import { addressPlan, opts, World } from "../support/switchWorld";

test("a change of settings at the same address refused before stop-task resumes the tasks: DM's source is untouched", async () => {
    const w = new World({ t1: "Running" });
    w.servers.a.purged = 95;
    const p = addressPlan({ to: "a", toAddress: { host: "a", port: 3306 }, reconfigure: "user" });
    await assert.rejects(executeSwitch(p, w, opts), (err: unknown) => {
        assert.ok(err instanceof RuleViolationError);
        assert.match(err.message, /task t1: purged 91-95\. Tasks t1 were resumed and read from a\.$/);
        return true;
    });
    assert.deepEqual(w.calls, ["pause t1", "resume t1"]);
    assert.equal(w.stages.get("t1"), "Running");
});

test("an address switch restarts the tasks from gtid-S at the new address", async () => {
    const w = new World({ t1: "Running", t2: "Paused" });
    const p = addressPlan({ tasks: [...w.stages].map(([name, stage]) => ({ name, stage })) });
    await executeSwitch(p, w, opts);
    assert.deepEqual(w.calls, [
        "pause t1",
        "stop-task t1,t2",
        "stop-source",
        "create-source b:3306",
        "start-task t1@90,t2@90",
        "pause t2",
    ]);
    assert.equal(w.stages.get("t1"), "Running");
    assert.equal(w.stages.get("t2"), "Paused");
});

test("an address switch failing after stop-task tells the next pulumi up to finish", async () => {
    const w = new World({ t1: "Running" }, { failCreateSource: true });
    const p = addressPlan();
    await assert.rejects(
        executeSwitch(p, w, opts),
        /worker refused the source\. The tasks t1 of DM source src were stopped with their checkpoints kept and are not running yet \(a failed start-task may have created some\); fix the cause and run 'pulumi up' again to finish the switch to b\./,
    );
});

test("an address switch whose syncer does not move says the switch is done, not that tasks are stopped", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    const p = addressPlan();
    await assert.rejects(executeSwitch(p, w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.equal(err.now, "b");
        assert.match(
            err.message,
            /^DM source src now reads from b and tasks t1 run again, but replication from b is not confirmed/,
        );
        assert.doesNotMatch(err.message, /stopped/);
        return true;
    });
});

test("an address switch of a relay-enabled source starts relay once the tasks run, and confirms it reads from the target", async () => {
    const w = new World({ t1: "Running" });
    const p = addressPlan({ relay: true });
    await executeSwitch(p, w, opts);
    assert.deepEqual(w.calls, [
        "pause t1",
        "stop-task t1",
        "stop-source",
        "create-source b:3306",
        "start-task t1@90",
        "start-relay",
    ]);
    assert.equal(w.relayState?.subDir, "0-b.000002");
});

test("a start-relay that fails after the tasks run says the switch is done and the next pulumi up starts relay", async () => {
    const w = new World({ t1: "Running" }, { failStartRelay: true });
    const p = addressPlan({ relay: true });
    await assert.rejects(executeSwitch(p, w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, []);
        assert.equal(
            err.message,
            "DM source src now reads from b and tasks t1 run again, but relay could not be started (worker1 is offline); run 'pulumi up' again to start it.",
        );
        return true;
    });
    assert.equal(w.stages.get("t1"), "Running");
});

test("an address switch counts a restarted task's bytes from 0, not from the old subtask's count", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.reportBytes = true;
    const p = addressPlan();
    await executeSwitch(p, w, opts);
    assert.equal(w.bytes.get("t1"), 108, "fewer bytes than the old subtask had, and still confirmed");
});
