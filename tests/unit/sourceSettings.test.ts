/**
 * A change of a SourceBinding's settings (user, password, enableRelay) is an update in place — the address
 * procedure at the same address — never a replacement (delete first, which DM refuses while tasks run);
 * a password rotation is seen through a salted digest; a flavor change is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SourceBindingInputs, SourceBindingOutputs } from "../../components/providers/inputs";
import { digestMatches, passwordDigest } from "../../components/providers/passwordDigest";
import { provider } from "../../components/providers/sourceBindingProvider";
import {
    flavorFailure,
    settingsChanges,
    settingsChangesOfInputs,
    settingsOfPartialState,
} from "../../components/providers/sourceSettings";
import { formatPlan, planAddressSwitch } from "../../components/switch/plan";
import { ADDRESS_SWITCH_STEPS } from "../support/switchWorld";

// Port 1 refuses at once: the preview notes that DM's stages could not be read, nothing waits.
const news: SourceBindingInputs = {
    dm: { address: "127.0.0.1:1", dmctlPath: "/usr/local/bin/dmctl" },
    sourceId: "s1",
    instance: "primary",
    host: "10.0.0.1",
    port: 3306,
    user: "dm",
    password: "pw-1",
    flavor: "mariadb",
    enableGtid: true,
    enableRelay: false,
    downstreamPassword: "down",
};

function outputsOf(i: SourceBindingInputs, extra: Partial<SourceBindingOutputs> = {}): SourceBindingOutputs {
    const { password: _p, downstreamPassword: _d, ...rest } = i;
    return { ...rest, pausedByUs: [], passwordDigest: passwordDigest(i.password), ...extra };
}

const settingCases: { name: string; change: Partial<SourceBindingInputs> }[] = [
    { name: "user", change: { user: "dm2" } },
    { name: "enableRelay", change: { enableRelay: true } },
];
for (const c of settingCases) {
    test(`diff: a new ${c.name} is an update in place, not a replacement`, async () => {
        const d = await provider.diff("s1", outputsOf(news), { ...news, ...c.change });
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, []);
    });
}

test("diff: a new password is an update in place; the same one (its digest salted anew) is no change", async () => {
    const olds = outputsOf(news);
    const rotated = await provider.diff("s1", olds, { ...news, password: "pw-2" });
    assert.deepEqual({ changes: rotated.changes, replaces: rotated.replaces }, { changes: true, replaces: [] });
    const same = await provider.diff("s1", olds, { ...news });
    assert.deepEqual({ changes: same.changes, replaces: same.replaces }, { changes: false, replaces: [] });
});

test("diff: only another source id replaces the binding", async () => {
    const d = await provider.diff("s1", outputsOf(news), { ...news, sourceId: "s2" });
    assert.deepEqual(d.replaces, ["sourceId"]);
});

test("diff: a state without a digest (written before digests were kept) is updated once to record one", async () => {
    const { passwordDigest: _d, ...old } = outputsOf(news);
    assert.equal((await provider.diff("s1", old, news)).changes, true);
});

test("the digest tells the password without holding it", () => {
    const d = passwordDigest("pw-1");
    assert.match(d, /^hmac-sha256:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    assert.ok(!d.includes("pw-1"));
    assert.equal(digestMatches(d, "pw-1"), true);
    assert.equal(digestMatches(d, "pw-2"), false);
    assert.notEqual(passwordDigest("pw-1"), d, "salted: the same password gives another digest");
    assert.equal(digestMatches(undefined, "pw-1"), undefined);
    assert.equal(digestMatches("md5:abc", "pw-1"), undefined);
});

test("check: the preview prints the address procedure at the same address for new settings", async () => {
    const r = await provider.check({ ...news }, { ...news, user: "dm2", password: "pw-2" });
    assert.deepEqual(r.failures, []);
    assert.equal(
        r.inputs.plan![0],
        "DM source s1: new settings (user, password), the address procedure at the same address (primary)",
    );
    const steps = r.inputs.plan!.join("\n");
    for (const step of [
        "pause-task <every task of s1> -s s1",
        "stop-task <every task of s1>",
        "operate-source stop s1",
        "operate-source create s1.yaml  # from: host 10.0.0.1, port 3306 (primary)",
        "start-task <every task of s1>.yaml",
    ]) {
        assert.ok(steps.includes(step), `${step} in\n${steps}`);
    }
});

test("check: no new settings, no plan", async () => {
    const r = await provider.check({ ...news }, { ...news });
    assert.deepEqual(r, { inputs: { ...news, plan: [] }, failures: [] });
});

test("check: new settings without the downstream password are refused with the remedy", async () => {
    const r = await provider.check({ ...news }, { ...news, user: "dm2", downstreamPassword: undefined });
    assert.deepEqual(r.failures, [
        {
            property: "downstreamPassword",
            reason: "downstreamPassword is required to change user: the source is re-created and its tasks started again, and start-task needs the downstream password, which DM returns masked; set it (as a secret)",
        },
    ]);
});

test("check: new settings or a new address without dm.dmctlPath are refused with the remedy", async () => {
    const dm = { address: "127.0.0.1:1" };
    const settings = await provider.check({ ...news, dm }, { ...news, dm, user: "dm2" });
    assert.deepEqual(settings.failures, [
        {
            property: "dm",
            reason: "dm.dmctlPath is required to change user: the source is re-created from DM's own configuration of it and its tasks are stopped and started, which only dmctl can do; set dm.dmctlPath to DM's dmctl binary",
        },
    ]);
    const moved = await provider.check({ ...news, dm }, { ...news, dm, host: "10.0.0.2" });
    assert.match(moved.failures.map((f) => f.reason).join("\n"), /^dm\.dmctlPath is required to change host\/port: /m);
});

test("check: a flavor change of a live source is refused, naming both flavors and the remedy", async () => {
    const r = await provider.check({ ...news }, { ...news, flavor: "mysql" });
    assert.deepEqual(r.failures, [
        {
            property: "flavor",
            reason:
                'flavor cannot change from "mariadb" to "mysql" on the live DM source s1: its tasks\' checkpoints hold GTID sets in the mariadb form and a server does not change its kind. ' +
                'Set flavor back to "mariadb"; to read from a server of the other kind, remove this source (and its tasks) from the stack and declare a new one',
        },
    ]);
    assert.equal(flavorFailure(undefined, news), undefined, "a new binding may have any flavor");
});

test("the plan of new settings runs every step of the address procedure at the same address", () => {
    const tasks = [
        { name: "t1", stage: "Running" },
        { name: "t2", stage: "Paused" },
    ];
    const input = {
        sourceId: "s1",
        dmAddress: "127.0.0.1:8261",
        tasks,
        from: "primary",
        to: "primary",
        toAddress: { host: "10.0.0.1", port: 3306 },
    };
    assert.deepEqual(planAddressSwitch(input).steps, [], "the same address and settings: nothing to do");
    const plan = planAddressSwitch({ ...input, reconfigure: "user" });
    assert.deepEqual(
        plan.steps.map((s) => s.kind),
        ADDRESS_SWITCH_STEPS,
    );
    assert.equal(plan.reconfigure, "user");
    assert.equal(
        formatPlan(plan)[0],
        "DM source s1: new settings (user), the address procedure at the same address (primary)",
    );
});

test("settings of DM's source: DM's user, the password through the last digest, relay through the last inputs", () => {
    const olds = outputsOf(news);
    assert.deepEqual(settingsChanges(news, { user: "dm" }, olds), []);
    assert.deepEqual(settingsChanges({ ...news, password: "pw-2", enableRelay: true }, { user: "dm" }, olds), [
        "password",
        "enableRelay",
    ]);
    assert.deepEqual(settingsChanges(news, { user: "changed-by-hand" }, olds), ["user"]);
    assert.deepEqual(
        settingsChanges({ ...news, password: "pw-2" }, { user: "dm" }, { ...olds, passwordDigest: undefined }),
        [],
        "no digest kept: not known to differ",
    );
    assert.deepEqual(
        settingsChanges(news, { user: "dm" }, undefined),
        [],
        "adopting a source: its relay is not compared",
    );
    assert.deepEqual(settingsChangesOfInputs(undefined, news), []);
    assert.deepEqual(
        settingsChangesOfInputs({ ...news, enableRelay: undefined }, news),
        [],
        "enableRelay unset is false",
    );
});

test("a failed run's state keeps the old settings until the source is created again, and DM's file while it is stopped", () => {
    const olds = outputsOf(news);
    const next = { ...news, user: "dm2", password: "pw-2", enableRelay: true };
    const before = settingsOfPartialState(next, olds, { user: "dm" }, { created: false });
    assert.deepEqual(before, { user: "dm", passwordDigest: olds.passwordDigest, enableRelay: false });
    const stoppedNotCreated = settingsOfPartialState(
        next,
        olds,
        { user: "dm" },
        { created: false, file: "source-id: s1\n" },
    );
    assert.equal(stoppedNotCreated.sourceFile, "source-id: s1\n");
    const created = settingsOfPartialState(next, olds, { user: "dm" }, { created: true, file: "source-id: s1\n" });
    assert.deepEqual(Object.keys(created), ["passwordDigest"]);
    assert.equal(digestMatches(created.passwordDigest, "pw-2"), true);
});
