/**
 * After the move: resuming the tasks (and retrying a failed resume), and confirming that replication
 * flows from the target (checkpoints, received bytes, relay), or saying loudly that it is not confirmed.
 * Against the in-memory world of tests/support/switchWorld.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { executeSwitch, SwitchError } from "../../components/switch/execute";
import { planVipSwitch } from "../../components/switch/plan";
import { opts, plan, World } from "../support/switchWorld";

test("a resume that keeps failing leaves the tasks paused, recorded for the next run", async () => {
    const w = new World({ t1: "Running" }, { failResume: 2 });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, ["t1"]);
        assert.equal(err.now, "b");
        assert.match(
            err.message,
            /Resuming t1 failed too \(resume rejected: worker offline\): they stay paused or are not Running yet; run 'pulumi up' again/,
        );
        return true;
    });
    // The next run: the VIP is at the target, the task is ours to resume.
    const again = planVipSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: w.vipAt,
        to: "b",
        tasks: [{ name: "t1", stage: "Paused" }],
        pausedByUs: ["t1"],
    });
    await executeSwitch(again, w, opts);
    assert.equal(w.stages.get("t1"), "Running");
});

test("a resume failing once is retried by the recovery and succeeds", async () => {
    const w = new World({ t1: "Running" }, { failResume: 1 });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        (err: unknown) => err instanceof SwitchError && err.pausedTasks.length === 0 && err.now === "b",
    );
    assert.equal(w.stages.get("t1"), "Running");
});

test("a worker lost after the tasks were seen Paused: gtid-S was read then; the failed resume names the tasks", async () => {
    const w = new World({ t1: "Running", t2: "Running" }, { afterMove: (w) => (w.options.failResume = 10) });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, ["t1", "t2"]);
        return true;
    });
    assert.equal(w.vipAt, "b");
});

test("a syncer that never moves past gtid-S while the target has newer transactions fails loudly; the switch stands", async () => {
    const w = new World({ t1: "Running", t2: "Running" }, { stuck: true });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, []);
        assert.equal(err.now, "b");
        assert.match(
            err.message,
            /^DM source src now reads from b and tasks t1, t2 run again, but replication from b is not confirmed: within 200 ms the syncer of task t1 received nothing from b and did not move past gtid-S 90 although b has newer transactions: it is Running with checkpoint 90 \(also unconfirmed: t2\)\. DM flushes the checkpoint every checkpoint-flush-interval \(30 s by default\): check 'query-status t1'/,
        );
        return true;
    });
    assert.equal(w.vipAt, "b", "nothing is undone: the rule held and the tasks run");
    assert.deepEqual(w.calls, ["pause t1,t2", "move b", "verify b", "resume t1,t2"]);
});

test("a target with nothing newer than gtid-S confirms a Running task without waiting for its checkpoint", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.servers.b.executed = 90;
    await executeSwitch(plan(w), w, opts);
    assert.ok(
        w.lines.some((l) => l === "b had nothing newer than gtid-S of t1: Running without errors confirms them"),
        w.lines.join("\n"),
    );
});

test("a task that pauses with an error after the resume is reported with DM's error", async () => {
    // Running for the stage wait, then DM's binlog reader fails.
    const w = new World(
        { t1: "Running" },
        { pausedWithErrorAfterResume: "ERROR 1236 (HY000): could not find GTID state" },
    );
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /not confirmed: .*task t1 .*it is Paused \(ERROR 1236 \(HY000\): could not find GTID state\) with checkpoint 90/,
    );
});

test("relay, when enabled, must read from the target without errors", async () => {
    const onA = { stage: "Running", subDir: "0-a.000001", errors: [] };
    const w = new World(
        { t1: "Running" },
        { relayAnswers: [onA, onA, { stage: "Running", subDir: "0-b.000002", errors: [] }] },
    );
    w.relayState = onA;
    await executeSwitch(plan(w), w, opts);
    assert.equal(w.relayReads, 3, "polled until relay read from b");

    const stuck = new World({ t1: "Running" });
    stuck.relayState = { stage: "Paused", subDir: "0-a.000001", errors: ["[code=30044] fake rotate event"] };
    await assert.rejects(
        executeSwitch(plan(stuck), stuck, opts),
        /within 200 ms the relay log did not read from b \(0-b\.\*\) without errors: relay is Paused in 0-a\.000001 \(\[code=30044\] fake rotate event\)/,
    );
});

test("advanceTimeoutMs 0 skips the confirmation and says so", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    const r = await executeSwitch(plan(w), w, { ...opts, advanceTimeoutMs: 0 });
    assert.equal(r.steps.length, 8);
    assert.ok(w.lines.includes("not confirming that replication flows from b (advanceTimeoutMs is 0)"));
});

test("a task whose gtid-S this run did not read is confirmed by its first checkpoint when the target has nothing newer", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.servers.b.executed = 90;
    w.vipAt = "b";
    const p = plan(w);
    const afterMove = p.steps.slice(p.steps.findIndex((s) => s.kind === "move-vip") + 1);
    w.stages.set("t1", "Paused");
    await executeSwitch({ ...p, steps: afterMove }, w, { ...opts, continueAfterMove: true });
    assert.equal(w.stages.get("t1"), "Running");
});

test("a syncer that streams from the target since the resume is confirmed even while DM has not flushed its checkpoint", async () => {
    // DM flushes the checkpoint only when an event arrives after checkpoint-flush-interval: after a short
    // backlog and silence it stays at gtid-S. The bytes the reader received show the stream instead.
    const w = new World({ t1: "Running", t2: "Running" }, { stuck: true });
    w.reportBytes = true;
    const r = await executeSwitch(plan(w), w, opts);
    assert.deepEqual(r.dumpIoBytes, { t1: 3595, t2: 3595 }, "read with gtid-S, while paused");
    assert.equal(w.vipAt, "b");

    const silent = new World({ t1: "Running" }, { stuck: true, silent: true });
    silent.reportBytes = true;
    await assert.rejects(
        executeSwitch(plan(silent), silent, opts),
        /received nothing from b and did not move past gtid-S 90/,
    );
});

test("relay on: the syncers read relay files, so Running without errors and relay reading from the target confirm them", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.relayState = { stage: "Running", subDir: "0-b.000002", errors: [] };
    await executeSwitch(plan(w), w, opts);
    assert.equal(w.stages.get("t1"), "Running");
});
