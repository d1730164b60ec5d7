import assert from "node:assert/strict";
import { test } from "node:test";
import { formatPlan, planAddressSwitch, planFinishStopped, planVipSwitch, Step } from "../../components/switch/plan";
import { ADDRESS_SWITCH_STEPS } from "../support/switchWorld";

const base = { sourceId: "mysql-01", dmAddress: "dm:8261", from: "mysql-a", to: "mysql-b" };
const running = (...names: string[]) => names.map((name) => ({ name, stage: "Running" }));
const kinds = (steps: Step[]) => steps.map((s) => s.kind);

test("a VIP switch pauses every running task, checks, moves, verifies and resumes", () => {
    const plan = planVipSwitch({ ...base, tasks: running("t1", "t2") });
    assert.deepEqual(kinds(plan.steps), [
        "pause",
        "await-paused",
        "check-rule",
        "move-vip",
        "verify-vip",
        "resume",
        "await-running",
        "confirm-reading",
    ]);
    assert.deepEqual(plan.steps.at(-1), { kind: "confirm-reading", tasks: ["t1", "t2"], target: "mysql-b" });
    assert.deepEqual(plan.steps[0], { kind: "pause", tasks: ["t1", "t2"] });
    assert.deepEqual(plan.steps[2], { kind: "check-rule", tasks: ["t1", "t2"], target: "mysql-b" });
    assert.deepEqual(plan.steps[3], { kind: "move-vip", from: "mysql-a", to: "mysql-b" });
    assert.deepEqual(plan.switched, ["t1", "t2"]);
    assert.deepEqual(plan.leftPaused, []);
});

test("a task paused by someone else is checked but left paused", () => {
    const plan = planVipSwitch({ ...base, tasks: [...running("t1"), { name: "t2", stage: "Paused" }] });
    assert.deepEqual(plan.steps[0], { kind: "pause", tasks: ["t1"] });
    assert.deepEqual(plan.steps[2], { kind: "check-rule", tasks: ["t1", "t2"], target: "mysql-b" });
    assert.deepEqual(plan.steps.at(-3), { kind: "resume", tasks: ["t1"] });
    assert.deepEqual(
        plan.steps.at(-1),
        { kind: "confirm-reading", tasks: ["t1"], target: "mysql-b" },
        "only the resumed task is confirmed",
    );
    assert.deepEqual(plan.leftPaused, ["t2"]);
    assert.match(formatPlan(plan).at(-1)!, /tasks not running before the switch stay as they are: t2/);
});

test("tasks a failed run paused are ours: awaited, resumed, not paused again", () => {
    const plan = planVipSwitch({
        ...base,
        tasks: [{ name: "t1", stage: "Paused" }, ...running("t2")],
        pausedByUs: ["t1"],
    });
    assert.deepEqual(plan.steps[0], { kind: "pause", tasks: ["t2"] });
    assert.deepEqual(plan.steps[1], { kind: "await-paused", tasks: ["t1", "t2"] });
    assert.deepEqual(plan.steps.at(-3), { kind: "resume", tasks: ["t1", "t2"] });
    assert.deepEqual(plan.leftPaused, []);
});

test("a VIP already at the target needs nothing, or only the resumption of our paused tasks", () => {
    assert.deepEqual(planVipSwitch({ ...base, from: "mysql-b", tasks: running("t1") }).steps, []);
    const resume = planVipSwitch({
        ...base,
        from: "mysql-b",
        tasks: [
            { name: "t1", stage: "Paused" },
            { name: "t2", stage: "Paused" },
        ],
        pausedByUs: ["t1", "gone"],
    });
    assert.deepEqual(kinds(resume.steps), ["check-rule", "resume", "await-running", "confirm-reading"]);
    assert.deepEqual(resume.steps[1], { kind: "resume", tasks: ["t1"] });
    assert.deepEqual(resume.leftPaused, ["t2"]);
    assert.deepEqual(formatPlan(planVipSwitch({ ...base, from: "mysql-b", tasks: [] })), [
        "DM source mysql-01 already reads from mysql-b: nothing to do.",
    ]);
});

test("a source without tasks still checks the rule and moves the VIP", () => {
    assert.deepEqual(kinds(planVipSwitch({ ...base, tasks: [] }).steps), [
        "check-rule",
        "move-vip",
        "verify-vip",
        "confirm-reading",
    ]);
});

test("an address switch stops tasks, recreates the source at the new address and starts the tasks", () => {
    const plan = planAddressSwitch({
        ...base,
        tasks: [...running("t1"), { name: "t2", stage: "Paused" }],
        toAddress: { host: "10.0.0.2", port: 3306 },
    });
    assert.deepEqual(kinds(plan.steps), ADDRESS_SWITCH_STEPS);
    assert.deepEqual(plan.steps[3], { kind: "stop-tasks", tasks: ["t1", "t2"] });
    assert.deepEqual(plan.steps[5], {
        kind: "create-source",
        to: "mysql-b",
        address: { host: "10.0.0.2", port: 3306 },
    });
    assert.deepEqual(plan.steps[7], { kind: "pause", tasks: ["t2"] }, "a task paused before is paused again");
    assert.deepEqual(plan.steps[8], { kind: "await-running", tasks: ["t1"] });
    assert.equal(plan.mode, "address");
});

test("an address switch to where the source already reads is a no-op in address mode", () => {
    const plan = planAddressSwitch({
        ...base,
        from: "mysql-b",
        tasks: running("t1"),
        toAddress: { host: "h", port: 1 },
    });
    assert.equal(plan.mode, "address");
    assert.deepEqual(plan.steps, []);
});

test("the plan reads as the manual procedure in dmctl words", () => {
    assert.deepEqual(formatPlan(planVipSwitch({ ...base, tasks: running("t1") })), [
        "DM source mysql-01: vip switch mysql-a → mysql-b",
        "  1. dmctl --master-addr dm:8261 pause-task t1 -s mysql-01",
        "  2. dmctl --master-addr dm:8261 query-status … until t1 are Paused (checkpoint flushed)",
        "  3. read syncerBinlogGtid (gtid-S) of t1; on mysql-b read gtid_purged (gtid-P) and gtid_executed (gtid-E); require gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S",
        "  4. point the VIP at mysql-b (was mysql-a)",
        "  5. connect through the VIP and check that mysql-b answers (server_id)",
        "  6. dmctl --master-addr dm:8261 resume-task t1 -s mysql-01",
        "  7. dmctl --master-addr dm:8261 query-status … until t1 are Running",
        "  8. dmctl --master-addr dm:8261 query-status … until the syncers of t1 read from mysql-b (binlog bytes received since the pause, or a checkpoint past gtid-S) and the relay log, if enabled, is read from mysql-b without errors",
    ]);
    const addr = formatPlan(
        planAddressSwitch({ ...base, tasks: running("t1"), toAddress: { host: "10.0.0.2", port: 3306 } }),
    );
    assert.ok(addr.includes("  4. dmctl --master-addr dm:8261 stop-task t1"));
    assert.ok(addr.includes("  5. dmctl --master-addr dm:8261 operate-source stop mysql-01"));
    assert.ok(
        addr.includes(
            "  6. dmctl --master-addr dm:8261 operate-source create mysql-01.yaml  # from: host 10.0.0.2, port 3306 (mysql-b)",
        ),
    );
    assert.ok(
        addr.includes(
            "  7. dmctl --master-addr dm:8261 start-task t1.yaml  # meta binlog-gtid: gtid-S, from the checkpoint",
        ),
    );
});

test("an address switch of a relay-enabled source re-creates it without relay and starts relay after the tasks", () => {
    const plan = planAddressSwitch({
        ...base,
        tasks: running("t1"),
        toAddress: { host: "10.0.0.2", port: 3306 },
        relay: true,
    });
    assert.deepEqual(kinds(plan.steps), [
        "pause",
        "await-paused",
        "check-rule",
        "stop-tasks",
        "stop-source",
        "create-source",
        "start-tasks",
        "await-running",
        "start-relay",
        "confirm-reading",
    ]);
    const lines = formatPlan(plan);
    assert.match(
        lines[6],
        /operate-source create mysql-01\.yaml {2}# from: host 10\.0\.0\.2, port 3306 \(mysql-b\), enable-relay: false until the tasks run$/,
    );
    assert.match(lines[9], /dmctl --master-addr dm:8261 start-relay -s mysql-01 <its worker>/);
});

const finish = {
    sourceId: "mysql-01",
    dmAddress: "dm:8261",
    stopped: ["t1", "t2"],
    to: "mysql-b",
    toAddress: { host: "10.0.0.2", port: 3306 },
};

test("finishing a stopped address switch: decide on the recorded gtid-S, then whatever of the procedure is left", () => {
    // The source was stopped and not created again.
    const gone = planFinishStopped(finish);
    assert.deepEqual(kinds(gone.steps), [
        "check-rule",
        "create-source",
        "start-tasks",
        "await-running",
        "confirm-reading",
    ]);
    assert.equal(gone.finish, true);
    assert.equal(gone.from, undefined, "the decision compares with no previous upstream");
    assert.deepEqual(gone.steps[0], { kind: "check-rule", tasks: ["t1", "t2"], target: "mysql-b" });
    // Still at the old address: stopped there first.
    const elsewhere = planFinishStopped({ ...finish, live: "mysql-a" });
    assert.deepEqual(kinds(elsewhere.steps).slice(0, 3), ["check-rule", "stop-source", "create-source"]);
    // Already at the target: only the tasks are left.
    const here = planFinishStopped({ ...finish, live: "mysql-b" });
    assert.deepEqual(kinds(here.steps), ["check-rule", "start-tasks", "await-running", "confirm-reading"]);
    // At the target with settings the failed run did not get to: re-created with them.
    const settings = planFinishStopped({ ...finish, live: "mysql-b", reconfigure: "user" });
    assert.deepEqual(kinds(settings.steps).slice(0, 3), ["check-rule", "stop-source", "create-source"]);
    assert.equal(settings.reconfigure, "user");
});

test("finishing a stopped address switch starts no task a failed start-task created, but waits for every one", () => {
    const some = planFinishStopped({ ...finish, live: "mysql-b", created: ["t1"] });
    assert.deepEqual(some.steps[1], { kind: "start-tasks", tasks: ["t2"] });
    assert.deepEqual(some.steps[2], { kind: "await-running", tasks: ["t1", "t2"] });
    const all = planFinishStopped({ ...finish, live: "mysql-b", created: ["t1", "t2"] });
    assert.deepEqual(kinds(all.steps), ["check-rule", "await-running", "confirm-reading"]);
});

test("finishing a stopped address switch starts relay after the tasks unless it runs already", () => {
    const created = planFinishStopped({ ...finish, relay: true });
    assert.deepEqual(kinds(created.steps).slice(-2), ["start-relay", "confirm-reading"]);
    assert.equal(created.relay, true);
    const running = planFinishStopped({ ...finish, relay: true, live: "mysql-b", liveRelay: true });
    assert.ok(!kinds(running.steps).includes("start-relay"));
    const off = planFinishStopped({ ...finish, relay: true, live: "mysql-b", liveRelay: false });
    assert.ok(kinds(off.steps).includes("start-relay"));
});

test("the finish reads as the rest of the manual procedure, gtid-S taken from the state", () => {
    const lines = formatPlan(planFinishStopped({ ...finish, live: "mysql-a" }));
    assert.equal(
        lines[0],
        "DM source mysql-01: finishing an address switch to mysql-b: tasks t1, t2 are stopped with their checkpoints kept",
    );
    assert.match(
        lines[1],
        /^ {2}1\. gtid-S of t1, t2 is the checkpoint each stopped at \(recorded in the state\); on mysql-b read gtid_purged/,
    );
    assert.equal(lines[2], "  2. dmctl --master-addr dm:8261 operate-source stop mysql-01");
    assert.match(
        lines[3],
        /^ {2}3\. dmctl --master-addr dm:8261 operate-source create mysql-01\.yaml {2}# from: host 10\.0\.0\.2, port 3306/,
    );
    assert.match(
        lines[4],
        /start-task t1\.yaml {2}# meta binlog-gtid: gtid-S, from the checkpoint; .*start-task t2\.yaml/,
    );
});

test("at the same address, relay on in the inputs but off in DM (a switch stopped before start-relay) is a start-relay step", () => {
    const at = { ...base, from: "mysql-b", toAddress: { host: "10.0.0.2", port: 3306 }, tasks: running("t1") };
    const relayOnly = planAddressSwitch({ ...at, relay: true, liveRelay: false });
    assert.deepEqual(kinds(relayOnly.steps), ["start-relay"]);
    assert.deepEqual(formatPlan(relayOnly), [
        "DM source mysql-01 already reads from mysql-b; what an earlier switch left to do:",
        "  1. dmctl --master-addr dm:8261 start-relay -s mysql-01 <its worker>  # relay takes over from the running tasks",
    ]);
    assert.deepEqual(planAddressSwitch({ ...at, relay: true, liveRelay: true }).steps, []);
    assert.deepEqual(planAddressSwitch({ ...at, relay: true }).steps, [], "not known: nothing added");
    assert.deepEqual(planAddressSwitch({ ...at, liveRelay: false }).steps, [], "relay off in the inputs");
    // With tasks of ours to resume, relay starts before the confirmation, which then checks it.
    const resumed = planAddressSwitch({ ...at, relay: true, liveRelay: false, pausedByUs: ["t1"] });
    assert.deepEqual(kinds(resumed.steps), ["check-rule", "resume", "await-running", "start-relay", "confirm-reading"]);
});
