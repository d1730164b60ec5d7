/**
 * What the dynamic providers share (components/providers/common.ts): the diff of a recorded state and the
 * inputs, and the end of a switch (run → log → written-on-target warning → `lastSwitch`, or a
 * PartialStateError). The switch runs in the in-memory world of tests/support/switchWorld.ts.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { diffState, leftPaused, runSwitch, throwPartial } from "../../components/providers/common";
import { PartialStateError } from "../../components/providers/load";
import { RuleViolationError, SwitchError } from "../../components/switch/execute";
import { plan, World } from "../support/switchWorld";

/** The engine's log as the providers write it, one entry a call. */
let logged: string[] = [];
const original = { info: pulumi.log.info, warn: pulumi.log.warn };
beforeEach(() => {
    logged = [];
    pulumi.log.info = async (m: string) => void logged.push(`info ${m}`);
    pulumi.log.warn = async (m: string) => void logged.push(`warn ${m}`);
});
afterEach(() => {
    pulumi.log.info = original.info;
    pulumi.log.warn = original.warn;
});

/** The inputs runSwitch reads: the source, and short timeouts (the world answers at once). */
const inputs = { sourceId: "src", stageTimeoutMs: 200, catchUpTimeoutMs: 50, advanceTimeoutMs: 200 };
const previous = { from: "b", to: "a", gtidS: { t1: "80" }, at: "2026-12-01T10:00:00.000Z" };
const never = (): Record<string, unknown> => assert.fail("no partial state after a successful switch");

test("diffState: a field of the desired state differs; what records a switch, secrets and the provider text do not", () => {
    const olds = { sourceId: "src", target: "a", lastSwitch: previous, pausedByUs: [], __provider: "old", plan: ["x"] };
    const news = { sourceId: "src", target: "a", password: "pw", __provider: "new", plan: [] };
    assert.deepEqual(diffState(olds, news), { changes: false, replaces: [] });
    assert.deepEqual(diffState(olds, { ...news, target: "b" }), { changes: true, replaces: [] });
    assert.deepEqual(diffState({ ...olds, secretFile: "f" }, news, { notDesired: ["secretFile"] }), {
        changes: false,
        replaces: [],
    });
    assert.deepEqual(logged, [], "an empty plan is not logged");
});

test("diffState: a recorded pause or a reason of `also` is a change; replacing needs a recorded field that differs", () => {
    const olds = { sourceId: "src", target: "a", pausedByUs: ["t1"] };
    const news = { sourceId: "src", target: "a" };
    assert.deepEqual(diffState(olds, news), { changes: true, replaces: [] });
    assert.deepEqual(diffState({ ...olds, pausedByUs: [] }, news, { also: ["password"] }), {
        changes: true,
        replaces: [],
    });
    assert.deepEqual(diffState({ ...olds, pausedByUs: [] }, { ...news, sourceId: "other" }), {
        changes: true,
        replaces: ["sourceId"],
    });
    assert.deepEqual(
        diffState({ target: "a" }, { sourceId: "src", target: "a" }, { deleteBeforeReplace: true }),
        { changes: true, replaces: [], deleteBeforeReplace: true },
        "a field the state never recorded is a change, not a replacement",
    );
});

test("diffState logs the preview's plan as one message", () => {
    diffState({ sourceId: "src" }, { sourceId: "src", plan: ["1. pause-task t1", "2. check-rule"] });
    assert.deepEqual(logged, ["info 1. pause-task t1\n2. check-rule"]);
});

test("runSwitch: a switch to another instance becomes the new lastSwitch, logged with how long replication was held", async () => {
    const w = new World({ t1: "Running" });
    const statusBefore = await w.status(["t1"]);
    const last = await runSwitch("src-vip", inputs, w, {
        plan: plan(w),
        statusBefore,
        from: "a",
        to: "b",
        previous,
        held: "paused",
        partialState: never,
    });
    assert.ok(last);
    const { at, pausedMs, ...rest } = last;
    assert.deepEqual(rest, { from: "a", to: "b", gtidS: { t1: "90" } });
    assert.ok(!Number.isNaN(Date.parse(at)));
    assert.equal(typeof pausedMs, "number");
    assert.deepEqual(logged, [`info dm-switch src: replication was paused for ${pausedMs} ms`]);
    assert.equal(w.vipAt, "b");
});

test("runSwitch: the same instance with other settings keeps the last switch", async () => {
    const w = new World({ t1: "Running" });
    const last = await runSwitch("src", inputs, w, {
        plan: plan(w),
        statusBefore: await w.status(["t1"]),
        from: "a",
        to: "a",
        previous,
        held: "stopped",
        partialState: never,
    });
    assert.deepEqual(last, previous);
    assert.match(logged[0], /^info dm-switch src: replication was stopped for \d+ ms$/);
});

test("runSwitch: a failed switch is a PartialStateError holding what it left paused", async () => {
    const w = new World({ t1: "Running" }, { failResume: 2 });
    const run = runSwitch("src-vip", inputs, w, {
        plan: plan(w),
        statusBefore: await w.status(["t1"]),
        from: "a",
        to: "b",
        previous,
        held: "paused",
        partialState: (paused, err) => ({ pausedByUs: paused, target: err instanceof SwitchError ? err.now : "?" }),
    });
    await assert.rejects(run, (err: unknown) => {
        assert.ok(err instanceof PartialStateError);
        assert.equal(err.id, "src-vip");
        assert.deepEqual(err.properties, { pausedByUs: ["t1"], target: "b" });
        assert.match(err.message, /Resuming t1 failed too/);
        return true;
    });
});

test("throwPartial: the executor's errors become partial state (a refusal leaves nothing paused); others pass through", () => {
    const props = (paused: string[]) => ({ pausedByUs: paused });
    assert.throws(
        () => throwPartial(new SwitchError("the move failed", ["t1"], "a"), "id", props, (p) => ` (${p} stay paused)`),
        (err: unknown) =>
            err instanceof PartialStateError &&
            err.message === "the move failed (t1 stay paused)" &&
            JSON.stringify(err.properties) === '{"pausedByUs":["t1"]}',
    );
    assert.throws(
        () => throwPartial(new RuleViolationError("gtid-P is not covered"), "id", props),
        (err: unknown) => err instanceof PartialStateError && JSON.stringify(err.properties) === '{"pausedByUs":[]}',
    );
    const other = new Error("dm-master unreachable");
    assert.throws(
        () => throwPartial(other, "id", props),
        (err: unknown) => err === other,
    );
    assert.equal(leftPaused(other), undefined);
});
