/**
 * The executor's refusals: the rule (gtid-S against the target's GTID sets) and the shared decision,
 * before the pause and with the tasks paused, a lagging target's catch-up wait, another switch under way.
 * Against the in-memory world of tests/support/switchWorld.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { executeSwitch, RuleViolationError, SwitchError } from "../../components/switch/execute";
import { opts, plan, World } from "../support/switchWorld";

test("a refusal pausing cannot change is made before any task is paused, as the policy pack makes it", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    w.standing = [
        "target b (b:3306) is not in the replication set of a (a:3306) (both servers have server_id 1): DM can switch only between instances of one replication set; choose one of them.",
    ];
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof RuleViolationError);
        assert.equal(
            err.message,
            "switching DM source src to b is not allowed: target b (b:3306) is not in the replication set of a (a:3306) (both servers have server_id 1): DM can switch only between instances of one replication set; choose one of them. No task was paused.",
        );
        return true;
    });
    assert.deepEqual(w.calls, [], "nothing paused, moved or resumed");
    assert.equal(w.vipAt, "a");
});

test("a refusal that appears while the tasks are paused resumes them and moves nothing", async () => {
    const w = new World(
        { t1: "Running" },
        { afterPause: (w) => (w.standing = ["target b (b:3306): binlog_format is STATEMENT; DM needs ROW."]) },
    );
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /^RuleViolationError: switching DM source src to b is not allowed: target b \(b:3306\): binlog_format is STATEMENT; DM needs ROW\. Tasks t1 were resumed and read from a\.$/,
    );
    assert.deepEqual(w.calls, ["pause t1", "resume t1"]);
    assert.equal(w.vipAt, "a");
});

const concurrent: { name: string; tasks: Record<string, string>; meddle: (w: World) => void; says: RegExp }[] = [
    {
        name: "someone resumes a task dm-switch paused",
        tasks: { t1: "Running", t2: "Running" },
        meddle: (w) => w.stages.set("t1", "Running"),
        says: /t1 is Running, not Paused as dm-switch left it/,
    },
    {
        name: "someone resumes a task that was paused before the switch",
        tasks: { t1: "Running", t2: "Paused" },
        meddle: (w) => w.stages.set("t2", "Running"),
        says: /t2 is Running, although it was Paused when the switch began/,
    },
    {
        name: "someone resumes and pauses again a task dm-switch paused",
        tasks: { t1: "Running" },
        meddle: (w) => w.gtid.set("t1", "95"),
        says: /t1 was resumed and paused again \(its checkpoint moved from 90 to 95\)/,
    },
];

for (const c of concurrent) {
    test(`another switch under way is refused before the move: ${c.name}`, async () => {
        // Right after await-paused has seen every task Paused: one read of every task before the pause,
        // then one of every awaited task (all Paused at once).
        const w = new World(c.tasks, { afterStatusRead: (w, n) => n === 2 && c.meddle(w) });
        await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
            assert.ok(err instanceof SwitchError);
            assert.match(
                err.message,
                /^switching DM source src to b failed: another switch of DM source src is under way \(another stack, or dmctl\): /,
            );
            assert.match(err.message, c.says);
            assert.match(err.message, /Tasks .* were resumed and read from a\.$/);
            assert.deepEqual(err.pausedTasks, []);
            return true;
        });
        assert.ok(!w.calls.some((x) => x.startsWith("move")), w.calls.join(", "));
        assert.equal(w.vipAt, "a");
    });
}

test("a source re-bound to another dm-worker during the pause (its tasks Stopped at the checkpoint they paused at) is no other switch: it goes on", async () => {
    const w = new World(
        { t1: "Running", t2: "Running" },
        {
            // After await-paused: DM brings the subtasks back on a spare worker, Stopped, checkpoint unchanged.
            afterStatusRead: (w, n) => n === 2 && ["t1", "t2"].forEach((t) => w.stages.set(t, "Stopped")),
        },
    );
    await executeSwitch(plan(w), w, opts);
    assert.equal(w.vipAt, "b");
    assert.deepEqual([w.stages.get("t1"), w.stages.get("t2")], ["Running", "Running"]);
});

test("a task resumed by someone else during the catch-up wait is found by the read after the wait: no move", async () => {
    const w = new World(
        { t1: "Running", t2: "Running" },
        {
            beforeCatchUpWait: (w) => {
                w.stages.set("t2", "Running");
                w.servers.b.executed = 100;
            },
        },
    );
    w.servers.b.executed = 80;
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /another switch of DM source src is under way \(another stack, or dmctl\): t2 is Running, not Paused as dm-switch left it\. Let it finish, then run 'pulumi up' again\. Tasks t1, t2 were resumed and read from a\.$/,
    );
    assert.equal(w.vipAt, "a");
});

test("a target missing replicated GTIDs is refused, the VIP unmoved and the tasks resumed", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.executed = 80;
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof RuleViolationError);
        assert.equal(
            err.message,
            "switching DM source src to b is not allowed: task t1: lacks 81-90. Tasks t1 were resumed and read from a.",
        );
        return true;
    });
    assert.deepEqual(w.calls, ["pause t1", "wait b 90", "resume t1"]);
    assert.equal(w.vipAt, "a");
    assert.equal(w.stages.get("t1"), "Running");
});

test("a lagging target that catches up within the wait is accepted", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.executed = 80;
    w.caughtUpOnWait = true;
    await executeSwitch(plan(w), w, opts);
    assert.equal(w.vipAt, "b");
});

test("a target that purged binlogs DM still needs is refused without waiting", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.purged = 95;
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /task t1: purged 91-95\. Tasks t1 were resumed and read from a\./,
    );
    assert.ok(!w.calls.some((c) => c.startsWith("wait")));
});

test("a target that cannot be read is refused before any task is paused", async () => {
    const w = new World({ t1: "Running" }, { targetUnreadable: "connect ECONNREFUSED 127.0.0.1:3307" });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.match(
            err.message,
            /^switching DM source src to b failed: connect ECONNREFUSED 127\.0\.0\.1:3307\. No task was paused/,
        );
        assert.deepEqual(err.pausedTasks, []);
        return true;
    });
    assert.deepEqual(w.calls, [], "nothing was paused, moved or resumed");
    assert.equal(w.vipAt, "a");
});

test("a task whose subtask is Offline cannot prove gtid-S: the switch is refused and the VIP stays", async () => {
    // t2's worker is gone: DM reports no stage for it. Not running, it is not paused or awaited, and
    // check-rule, reading it, finds nothing to check.
    const w = new World({ t1: "Running", t2: "" });
    w.gtid.set("t2", "");
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, /gtid-S cannot be read: t2 is Offline/);
        return true;
    });
    assert.ok(!w.calls.some((c) => c.startsWith("move")), `the VIP did not move: ${w.calls.join(", ")}`);
    assert.equal(w.vipAt, "a");
    assert.equal(w.stages.get("t1"), "Running", "t1 was resumed");
});
