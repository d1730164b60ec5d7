/**
 * Transactions written on the target while the tasks were paused for a switch: found, reported and
 * warned about (or not, for a target that is no replica or wrote before).
 * Against the in-memory world of tests/support/switchWorld.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { executeSwitch, warnWrittenOnTarget, writtenOnTargetWarning } from "../../components/switch/execute";
import { addressPlan, opts, plan, World } from "../support/switchWorld";

test("transactions written on the target between the check and the resume are reported", async () => {
    const w = new World(
        { t1: "Running", t2: "Running" },
        {
            afterMove: (w) => {
                w.ownFrom.b = 101;
                w.servers.b.executed = 103;
            },
        },
    );
    const r = await executeSwitch(plan(w), w, opts);
    assert.deepEqual(r.writtenOnTarget, { target: "b", gtids: "b:101-103", replica: true });
    assert.equal(r.executedAtCheck, "100");
    assert.deepEqual(w.calls, ["pause t1,t2", "move b", "verify b", "resume t1,t2"]);
    assert.match(
        writtenOnTargetWarning(r) ?? "",
        /^b replicates from another server and took writes of its own while the tasks were paused for the switch: b:101-103\. DM at this build has lost rows/,
    );
    const warned: string[] = [];
    assert.deepEqual(
        warnWrittenOnTarget(r, (l) => warned.push(l)),
        { writtenOnTarget: "b:101-103" },
    );
    assert.deepEqual(warned, [writtenOnTargetWarning(r)]);
});

test("writes on a target that is no replica are its normal stream: not reported; replication status unknown: reported only for a target that wrote nothing before", async () => {
    const written = () =>
        new World(
            { t1: "Running" },
            {
                afterMove: (w) => {
                    w.ownFrom.b ??= 101;
                    w.servers.b.executed = 103;
                },
            },
        );
    const primary = written();
    primary.replicas.b = false;
    primary.ownFrom.b = 1;
    assert.equal((await executeSwitch(plan(primary), primary, opts)).writtenOnTarget, undefined);
    const unknown = written();
    unknown.replicas.b = undefined;
    const r = await executeSwitch(plan(unknown), unknown, opts);
    assert.deepEqual(r.writtenOnTarget, { target: "b", gtids: "b:101-103", replica: undefined });
    assert.match(
        writtenOnTargetWarning(r) ?? "",
        /^b took writes of its own while the tasks were paused for the switch \(b:101-103\), after none before; whether it replicates/,
    );
    const wroteBefore = written();
    wroteBefore.replicas.b = undefined;
    wroteBefore.ownFrom.b = 50;
    assert.equal((await executeSwitch(plan(wroteBefore), wroteBefore, opts)).writtenOnTarget, undefined);
});

test("nothing written on the target: nothing reported; the target unreadable at the resume: said, and the switch stands", async () => {
    const quiet = new World({ t1: "Running" });
    const q = await executeSwitch(plan(quiet), quiet, opts);
    assert.equal(q.writtenOnTarget, undefined);
    assert.deepEqual(
        warnWrittenOnTarget(q, () => assert.fail("no warning when nothing was written")),
        {},
    );
    // Reads: before the pause, check-rule, at the resume (fails), confirm-reading.
    const w = new World({ t1: "Running" }, { failTargetRead: 3 });
    const r = await executeSwitch(plan(w), w, opts);
    assert.equal(r.writtenOnTarget, undefined);
    assert.equal(w.vipAt, "b");
    assert.ok(
        w.lines.includes(
            "b could not be read at the resume: transactions written on it during the switch were not looked for",
        ),
        w.lines.join("\n"),
    );
});

test("an address switch reports transactions written on the target before start-task", async () => {
    const w = new World(
        { t1: "Running" },
        {
            afterStopTasks: (w) => {
                w.ownFrom.b = 101;
                w.servers.b.executed = 101;
            },
        },
    );
    const p = addressPlan();
    const r = await executeSwitch(p, w, opts);
    assert.deepEqual(r.writtenOnTarget, { target: "b", gtids: "b:101-101", replica: true });
});
