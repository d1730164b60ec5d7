/**
 * A VIP switch run by the executor: its steps and reads, the waits and their timeouts, a VIP move or
 * verification that fails, a pause that fails, a switch continued after a hooked move.
 * Against the in-memory world of tests/support/switchWorld.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { executeSwitch, SwitchError } from "../../components/switch/execute";
import { resolveOptions, stagePollMs } from "../../components/switch/options";
import { sleep } from "../../components/util/poll";
import { opts, plan, World } from "../support/switchWorld";

test("a healthy VIP switch pauses, moves, verifies, resumes and reports gtid-S and the pause", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    const r = await executeSwitch(plan(w), w, opts);
    assert.deepEqual(w.calls, ["pause t1,t2", "move b", "verify b", "resume t1,t2"]);
    assert.deepEqual(r.gtidS, { t1: "90", t2: "90" });
    assert.equal(typeof r.pausedMs, "number");
    assert.equal(r.steps.length, 8);
    assert.equal(w.vipAt, "b");
    assert.ok(
        Number(w.gtid.get("t1")) > 90 && Number(w.gtid.get("t2")) > 90,
        "the switch ends once both syncers moved past gtid-S",
    );
});

test("check-rule reads every task again right before the move and takes gtid-S from that read", async () => {
    let readsBeforeMove: string[] = [];
    const w = new World(
        { t1: "Running", t2: "Running", t3: "Paused" },
        {
            afterMove: (w) => {
                readsBeforeMove = [...w.reads];
            },
        },
    );
    const r = await executeSwitch(plan(w), w, opts);
    // The plan's statuses (read by the run itself here: no statusBefore), t1 and t2 until Paused, then every task.
    assert.deepEqual(readsBeforeMove, ["t1", "t2", "t3", "t1", "t2", "t1", "t2", "t3"]);
    assert.deepEqual(r.gtidS, { t1: "90", t2: "90", t3: "90" });
    assert.deepEqual(
        w.decisions.map((d) => [d.tasks.join(","), d.from]),
        [
            ["t1,t2,t3", "a"],
            ["t1,t2,t3", "a"],
        ],
        "the shared decision before the pause and with the tasks paused, against the instance DM reads from",
    );
});

test("statuses handed in by the provider are used before the pause instead of reading the tasks again", async () => {
    let readsBeforePause: string[] | undefined;
    const w = new World({ t1: "Running" }, { beforePause: (w) => (readsBeforePause ??= [...w.reads]) });
    const before = await w.status(["t1"]);
    w.reads = [];
    await executeSwitch(plan(w), w, { ...opts, statusBefore: before });
    assert.deepEqual(readsBeforePause, []);
});

test("timeouts left unset (undefined) keep their defaults: the catch-up wait gets 10000 ms, not NaN", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.executed = 80;
    w.caughtUpOnWait = true;
    await executeSwitch(plan(w), w, {
        pollIntervalMs: 1,
        advancePollMs: 1,
        stageTimeoutMs: undefined,
        catchUpTimeoutMs: undefined,
        advanceTimeoutMs: undefined,
    });
    assert.equal(w.waits.length, 1);
    assert.ok(w.waits[0] > 9000 && w.waits[0] <= 10000, `waited up to ${w.waits[0]} ms`);
    assert.deepEqual(
        resolveOptions({ stageTimeoutMs: undefined, catchUpTimeoutMs: undefined, advanceTimeoutMs: undefined }),
        {
            pollIntervalMs: 10,
            stageTimeoutMs: 30000,
            catchUpTimeoutMs: 10000,
            advanceTimeoutMs: 60000,
            advancePollMs: 100,
        },
    );
    assert.throws(() => resolveOptions({ stageTimeoutMs: Number.NaN }), {
        name: "TypeError",
        message: "stageTimeoutMs must be a number of milliseconds ≥ 0, got NaN: set it or leave it out for 30000",
    });
});

test("a failed VIP move that left the VIP where it was resumes the tasks", async () => {
    const w = new World({ t1: "Running" }, { failMove: "throw" });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        (err: unknown) =>
            err instanceof SwitchError &&
            err.pausedTasks.length === 0 &&
            /socket gone\. Tasks t1 were resumed and read from a\./.test(err.message),
    );
    assert.equal(w.stages.get("t1"), "Running");
});

test("a VIP in an unknown state leaves the tasks paused and says how to continue", async () => {
    const w = new World({ t1: "Running", t2: "Running" }, { failMove: "throw-after-moving" });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, ["t1", "t2"]);
        assert.equal(err.now, undefined);
        assert.match(
            err.message,
            /Tasks t1, t2 stay paused because it is not known which server the VIP points at; point it at a or b, then run 'pulumi up' again \(or 'dmctl --master-addr dm:8261 resume-task <task> -s src'\)\./,
        );
        return true;
    });
    assert.equal(w.stages.get("t1"), "Paused");
});

test("a target that does not answer through the VIP is rolled back before resuming", async () => {
    const w = new World({ t1: "Running" }, { failVerify: true });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /server_id 2 expected, got 1\. Tasks t1 were resumed and read from a\./,
    );
    assert.deepEqual(w.calls, ["pause t1", "move b", "verify b", "move a", "verify a", "resume t1"]);
    assert.equal(w.vipAt, "a");
});

test("a task that never reaches Paused fails the switch with the stage seen, and nothing moves", async () => {
    const w = new World({ t1: "Running" }, { stageAfterPause: "Pausing" });
    await assert.rejects(executeSwitch(plan(w), w, opts), /timed out after 200 ms waiting for Paused: t1 is Pausing/);
    assert.equal(w.vipAt, "a");
});

test("a pause that fails changes nothing and resumes what may have been paused", async () => {
    const w = new World({ t1: "Running" }, { failPause: true });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /dm-master unreachable\. Tasks t1 were resumed and read from a\./,
    );
});

test("a switch continued after a hooked move confirms against the gtid-S its first half read", async () => {
    const w = new World({ t1: "Running" });
    const p = plan(w);
    const moveAt = p.steps.findIndex((s) => s.kind === "move-vip");
    const first = await executeSwitch({ ...p, steps: p.steps.slice(0, moveAt) }, w, opts);
    assert.deepEqual(first.gtidS, { t1: "90" });
    w.vipAt = "b";
    // The target moves ahead, and the syncer's first checkpoint after the resume is already past gtid-S.
    w.gtid.set("t1", "92");
    const second = await executeSwitch({ ...p, steps: p.steps.slice(moveAt + 1) }, w, {
        ...opts,
        continueAfterMove: true,
        gtidS: first.gtidS,
    });
    assert.deepEqual(second.gtidS, { t1: "90" });
    assert.equal(w.stages.get("t1"), "Running");
});

test("settleAll waits for every call before throwing the first failure", async () => {
    const { settleAll } = await import("../../components/providers/ports");
    const done: string[] = [];
    const err = await settleAll(["fails fast", "slow"], async (t) => {
        if (t === "fails fast") throw new Error(`${t} failed`);
        await sleep(30);
        done.push(t);
    }).then(
        () => undefined,
        (e: unknown) => e,
    );
    assert.ok(err instanceof Error && err.message === "fails fast failed");
    assert.deepEqual(done, ["slow"], "the slow call finished before the error was thrown");
});

test("await-paused and await-running read every pending task in one status read per round (one DM request for the source)", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const slow = new Set(["t3", "t7"]);
    let afterPause = 0;
    const w = new World(Object.fromEntries(names.map((t) => [t, "Running"])), {
        recordStatusReads: true,
        afterPause: (w) => slow.forEach((t) => w.stages.set(t, "Pausing")),
        afterStatusRead: (w) => {
            // t3 and t7 reach Paused after two rounds of await-paused.
            if (w.calls.some((c) => c.startsWith("pause")) && ++afterPause === 2) {
                slow.forEach((t) => w.stages.set(t, "Paused"));
            }
        },
    });
    const r = await executeSwitch(plan(w), w, opts);
    const all = names.join(",");
    const pausedAt = w.calls.indexOf(`pause ${all}`);
    assert.deepEqual(w.calls.slice(pausedAt, pausedAt + 5), [
        `pause ${all}`,
        `status ${all}`,
        "status t3,t7",
        "status t3,t7",
        `status ${all}`,
    ]);
    const resumedAt = w.calls.indexOf(`resume ${all}`);
    assert.deepEqual(w.calls[resumedAt + 1], `status ${all}`, "await-running: every task in one read");
    assert.deepEqual(Object.keys(r.gtidS), names, "gtid-S of every task, in the plan's order");
});

test("a stage wait of many tasks reads less often: 3 ms a task, at least pollIntervalMs, at most 30 ms", () => {
    assert.equal(stagePollMs(10, 2), 10);
    assert.equal(stagePollMs(10, 10), 30);
    assert.equal(stagePollMs(10, 50), 30);
    assert.equal(stagePollMs(1, 2), 6);
    assert.equal(stagePollMs(100, 50), 100, "a longer pause set by the caller stands");
});
