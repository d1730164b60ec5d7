/**
 * The diffs that make a hooked VIP's durable record work (components/providers/hookedSwitch.ts): the
 * VipIntent differs from its desired state while its state lists a pause, and the VipResume is updated in
 * every run whose VipIntent recorded a new pending switch — and only then.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PendingSwitch } from "../../components/providers/hookedSwitch";
import { IntentInputs, IntentOutputs, provider as intent } from "../../components/providers/vipIntentProvider";
import { provider as resume, ResumeInputs, ResumeOutputs } from "../../components/providers/vipResumeProvider";

const inputs: IntentInputs = {
    dm: { address: "127.0.0.1:8261" },
    sourceId: "orders",
    flavor: "mariadb",
    instances: { a: { host: "10.0.0.1", port: 3306 }, b: { host: "10.0.0.2", port: 3306 } },
    target: "b",
    address: { host: "10.0.0.9", port: 3306 },
    user: "dm",
    password: "pw",
    vipResource: "command.local.Command orders-vip",
};
const { password: _pw, ...stored } = inputs;
const pending: PendingSwitch = {
    id: "p1",
    from: "a",
    to: "b",
    tasks: ["t1"],
    gtidS: { t1: "0-1-5" },
    dumpIoBytes: { t1: 10 },
    at: "2026-12-06T20:00:00.000Z",
};

test("VipIntent: no change when the state matches and lists no pause", async () => {
    const d = await intent.diff("orders-intent", { ...stored, pausedByUs: [] }, inputs);
    assert.deepEqual(d, { changes: false, replaces: [] });
});

test("VipIntent: a recorded pause or pending switch is a change, so the next pulumi up reconciles it with DM", async () => {
    assert.equal((await intent.diff("orders-intent", { ...stored, pausedByUs: ["t1"] }, inputs)).changes, true);
    assert.equal(
        (await intent.diff("orders-intent", { ...stored, pausedByUs: [], pending: { ...pending, tasks: [] } }, inputs))
            .changes,
        true,
    );
});

test("VipIntent: a new target is a change; a new source replaces it", async () => {
    const olds: IntentOutputs = { ...stored, target: "a", pausedByUs: [] };
    assert.deepEqual(await intent.diff("orders-intent", olds, inputs), { changes: true, replaces: [] });
    assert.deepEqual((await intent.diff("orders-intent", olds, { ...inputs, sourceId: "billing" })).replaces, [
        "sourceId",
    ]);
});

test("VipIntent: an update with nothing recorded and the same target touches nothing (no DM call) and keeps no password", async () => {
    const { outs } = await intent.update("orders-intent", { ...stored, pausedByUs: [] }, inputs);
    assert.deepEqual(outs, { ...stored, pausedByUs: [] });
});

const resumeInputs = (p?: unknown): ResumeInputs => ({
    ...inputs,
    ...(p !== undefined ? { pending: p as PendingSwitch } : {}),
});
const resumeState: ResumeOutputs = { sourceId: "orders", vipResource: inputs.vipResource, finished: "p0" };

test("VipResume: updated for a pending switch it has not finished, whether or not the hooked resource changed", async () => {
    assert.equal((await resume.diff("orders-resume", resumeState, resumeInputs(pending))).changes, true);
});

test("VipResume: no change without a pending switch, or for the one it finished", async () => {
    assert.equal((await resume.diff("orders-resume", resumeState, resumeInputs())).changes, false);
    assert.equal(
        (await resume.diff("orders-resume", { ...resumeState, finished: "p1" }, resumeInputs(pending))).changes,
        false,
    );
});

test("VipResume: a pending switch not known yet (a preview while the VipIntent will update) is a change", async () => {
    assert.equal(
        (await resume.diff("orders-resume", resumeState, resumeInputs("04da6b54-80e4-46f7-96ec-b56ff0331ba9"))).changes,
        true,
    );
});

test("VipResume: with nothing pending, create and update change nothing and record nothing", async () => {
    assert.deepEqual((await resume.create(resumeInputs())).outs, {
        sourceId: "orders",
        vipResource: inputs.vipResource,
        finished: undefined,
        lastSwitch: undefined,
    });
    assert.deepEqual(
        (await resume.update("orders-resume", { ...resumeState, finished: "p1" }, resumeInputs(pending))).outs,
        {
            sourceId: "orders",
            vipResource: inputs.vipResource,
            finished: "p1",
            lastSwitch: undefined,
        },
    );
});
