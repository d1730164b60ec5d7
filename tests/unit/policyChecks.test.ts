/**
 * The policy pack's pure parts: reading a resource's inputs as @pulumi/policy presents them (unknown
 * values, proxies, secrets), each policy's check with exact messages, and when a policy reports
 * (inline in an update, at the end of a preview). The pack's index.ts is never imported: it starts a server.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import type { ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { ServerFacts } from "../../components/mysql/types";
import { decide, PreflightFacts } from "../../components/preflight/decide";
import { checkEnableGtid } from "../../policies/enableGtid";
import { checkGtidContainment, gtidContainment } from "../../policies/gtidContainment";
import { Outcome, outcomeOfSubject, resetStartedChecks, scrub } from "../../policies/run";
import { DM_SWITCH_TYPES, isUnprovable, rawProps, Subject, subjectOf, unknownPaths } from "../../policies/subject";
import { checkTargetPrerequisites } from "../../policies/targetPrerequisites";
import { runningSubtask, sourceInfo } from "../support/dmFixtures";

// The SDK's own proxy and sentinel, so the tests read inputs exactly as a policy receives them.
const { unknownCheckingProxy, unknownStringValue } = require("@pulumi/policy/proxy");

const PASSWORD = "s3cret-Pw!";

function vipProps(over: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        dm: { address: "127.0.0.1:8261", transport: "openapi" },
        sourceId: "src",
        flavor: "mariadb",
        instances: { "mysql-a": { host: "127.0.0.1", port: 3306 }, "mysql-b": { host: "127.0.0.1", port: 3307 } },
        target: "mysql-b",
        address: { host: "127.0.0.1", port: 6033 },
        user: "dm",
        password: PASSWORD,
        backend: {
            kind: "haproxy",
            socket: "/tmp/h.sock",
            backend: "mysql",
            servers: { "mysql-a": "a", "mysql-b": "b" },
        },
        __provider: "serialized provider",
        ...over,
    };
}

function subjectFor(type: string, props: Record<string, unknown>, timeout?: number): Subject {
    const s = subjectOf(type, "v", props, timeout);
    assert.ok(s && !isUnprovable(s), "a subject");
    return s;
}

test("reads a Vip: the target's own address, the VIP as the server DM reads from now, the config's catch-up wait", () => {
    const s = subjectFor(DM_SWITCH_TYPES.Vip, vipProps({ catchUpTimeoutMs: 999 }), 1234);
    assert.equal(s.resource, "Vip v");
    assert.deepEqual(s.args, {
        dm: { address: "127.0.0.1:8261", transport: "openapi" },
        sourceId: "src",
        flavor: "mariadb",
        target: { name: "mysql-b", host: "127.0.0.1", port: 3307, user: "dm", password: PASSWORD },
        current: { name: "the VIP 127.0.0.1:6033", host: "127.0.0.1", port: 6033, user: "dm", password: PASSWORD },
        currentFromDm: false,
        requireSource: true,
        tasks: undefined,
        catchUpTimeoutMs: 1234,
    });
    assert.deepEqual(s.secrets, [PASSWORD]);
});

test("reads a SourceBinding: its host and port as the target, DM's registered address as the current one", () => {
    const s = subjectFor(DM_SWITCH_TYPES.SourceBinding, {
        ...vipProps(),
        instance: "mysql-a",
        host: "10.0.0.1",
        port: 3306,
        enableGtid: false,
        tasks: ["t1"],
        catchUpTimeoutMs: 777,
    });
    assert.equal(s.resource, "SourceBinding v");
    assert.equal(s.target, "mysql-a");
    assert.equal(s.enableGtidInput, false);
    assert.deepEqual(s.args.target, { name: "mysql-a", host: "10.0.0.1", port: 3306, user: "dm", password: PASSWORD });
    assert.equal(s.args.current, undefined);
    assert.equal(s.args.currentFromDm, true);
    assert.deepEqual(s.args.tasks, ["t1"]);
    assert.equal(s.args.catchUpTimeoutMs, 777, "the resource's own wait when the config sets none");
});

test("reads a VipIntent (the hooked Route53 or command VIPs declare one) like a Vip", () => {
    const { backend: _b, ...intent } = vipProps();
    const s = subjectFor(DM_SWITCH_TYPES.VipIntent, { ...intent, vipResource: "aws.route53.Record orders" });
    assert.equal(s.resource, "VipIntent v");
    assert.deepEqual([s.args.target.port, s.args.current?.port, s.args.currentFromDm], [3307, 6033, false]);
});

test("ignores resources that are not dm-switch's", () => {
    assert.equal(subjectOf("aws:route53/record:Record", "r", vipProps()), undefined);
});

test("reports values unknown at preview itself instead of letting the SDK downgrade them to advisory", () => {
    const props = vipProps({
        instances: {
            "mysql-a": { host: "127.0.0.1", port: 3306 },
            "mysql-b": { host: unknownStringValue, port: 3307 },
        },
    });
    const proxied = unknownCheckingProxy(props);
    assert.throws(
        () => proxied.instances["mysql-b"].host,
        /can't be known during preview/,
        "the SDK's proxy throws on the unknown value",
    );
    assert.deepEqual(unknownPaths(proxied), ["instances.mysql-b.host"]);
    const s = subjectOf(DM_SWITCH_TYPES.Vip, "v", rawProps(proxied));
    assert.ok(s && isUnprovable(s));
    assert.deepEqual(checkGtidContainment({ unprovable: s }), [
        "The safety of DM source src reading from mysql-b (Vip v) cannot be proven: instances.mysql-b.host is unknown until another resource is created. " +
            "Create that resource first (pulumi up --target <its URN>) or use values known at preview, then preview again.",
    ]);
});

test("cannot prove anything for a Vip whose target is not one of its instances", () => {
    const s = subjectOf(DM_SWITCH_TYPES.Vip, "v", vipProps({ target: "mysql-c" }));
    assert.ok(s && isUnprovable(s));
    assert.equal(s.why, "its inputs lack instances.mysql-c ({host, port} of the target)");
});

const facts: ServerFacts = {
    flavor: "mariadb",
    version: "10.11.6-MariaDB-log",
    serverId: 2,
    gtidExecuted: "0-1-90",
    gtidPurged: "",
    logReplicaUpdates: false,
    binlogFormat: "ROW",
    logBin: true,
    readOnly: true,
};
const source = sourceInfo("src", { port: 6033, enableGtid: false, taskNames: ["t1"] });

function outcome(over: Partial<PreflightFacts> = {}, type: string = DM_SWITCH_TYPES.Vip, props = vipProps()): Outcome {
    const subject = subjectFor(type, props);
    const report = decide({
        sourceId: "src",
        flavor: "mariadb",
        target: subject.target,
        targetAddress: "127.0.0.1:3307",
        source,
        tasks: [
            {
                task: "t1",
                status: runningSubtask("t1", "src", { worker: "w" }),
            },
        ],
        facts,
        prerequisites: [
            "log_slave_updates is OFF: the server does not log the transactions it replicates, so DM would miss them after a switch; enable it and restart.",
        ],
        ...over,
    });
    return { subject, report };
}

test("dm-gtid-containment names the source, the target, the task and the missing GTIDs", () => {
    assert.deepEqual(checkGtidContainment(outcome()), [
        "DM source src must not read from mysql-b (Vip v): task t1: the target lacks transactions DM has already replicated (gtid-E ⊉ gtid-S): " +
            "in domain 0 DM is at 0-1-100 while the target's binlog reaches only 0-1-90; wait for the target to catch up, or choose another target.",
    ]);
    assert.deepEqual(checkGtidContainment(outcome({ facts: { ...facts, gtidExecuted: "0-1-100" } })), []);
});

test("dm-enable-gtid reports DM's enable-gtid: false and a SourceBinding's own enableGtid input", () => {
    assert.deepEqual(checkEnableGtid(outcome()), [
        "DM source src runs with enable-gtid: false: DM can switch instances only in GTID mode; recreate the source with enable-gtid: true.",
    ]);
    const binding = outcome({ source: { ...source, enableGtid: true } }, DM_SWITCH_TYPES.SourceBinding, {
        ...vipProps(),
        host: "127.0.0.1",
        port: 3307,
        enableGtid: false,
    });
    assert.deepEqual(checkEnableGtid(binding), [
        "DM source src must run with enable-gtid: true (SourceBinding v sets enableGtid: false): DM can switch instances only in GTID mode; set enableGtid: true.",
    ]);
    assert.deepEqual(checkEnableGtid(outcome({ source: { ...source, enableGtid: true } })), []);
});

test("dm-target-prerequisites reports the target's unmet prerequisites and a foreign replication set", () => {
    assert.deepEqual(
        checkTargetPrerequisites(outcome({ sameReplicationSet: { same: false, current: "the VIP 127.0.0.1:6033" } })),
        [
            "DM source src must not read from mysql-b (Vip v): target mysql-b (127.0.0.1:3307): log_slave_updates is OFF: the server does not log the transactions it replicates, so DM would miss them after a switch; enable it and restart.",
            "DM source src must not read from mysql-b (Vip v): target mysql-b (127.0.0.1:3307) is not in the replication set of the VIP 127.0.0.1:6033: " +
                "DM can switch only between instances of one replication set; choose one of them.",
        ],
    );
    assert.deepEqual(checkTargetPrerequisites(outcome({ prerequisites: [] })), []);
});

test("every policy reports a resource whose safety cannot be proven", () => {
    const u: Outcome = {
        unprovable: {
            resource: "Vip v",
            sourceId: "src",
            target: "mysql-b",
            why: "DM at 127.0.0.1:1: cannot reach dm-master",
            remedy: "Make it reachable.",
        },
    };
    const message =
        "The safety of DM source src reading from mysql-b (Vip v) cannot be proven: DM at 127.0.0.1:1: cannot reach dm-master. Make it reachable.";
    for (const check of [checkGtidContainment, checkEnableGtid, checkTargetPrerequisites]) {
        assert.deepEqual(check(u), [message]);
    }
});

test("a failed check never carries the password into its message", async () => {
    const s = subjectFor(DM_SWITCH_TYPES.Vip, vipProps());
    const failingDm = {
        getSourceConfig: async () => {
            throw new Error(`dm-master said: bad password ${PASSWORD} for dm`);
        },
    } as never;
    const o = await outcomeOfSubject({
        ...s,
        args: {
            ...s.args,
            dmClient: failingDm,
            target: { ...s.args.target, port: 1, connectTimeoutMs: 2000 },
            current: undefined,
        },
    });
    assert.ok("unprovable" in o);
    assert.doesNotMatch(o.unprovable.why, new RegExp(PASSWORD.replace(/[!]/g, "\\$&")));
    assert.match(o.unprovable.why, /bad password \*\*\*\*\*\* for dm/);
    assert.match(o.unprovable.remedy, /^Make DM and mysql-b reachable from where the preview runs/);
    assert.equal(scrub(`a ${PASSWORD}\n b`, [PASSWORD]), "a ****** b");
});

afterEach(() => {
    delete process.env.PULUMI_NODEJS_DRY_RUN;
    resetStartedChecks();
});

function resourceArgs(props: Record<string, unknown>): ResourceValidationArgs {
    return {
        type: DM_SWITCH_TYPES.Vip,
        props: unknownCheckingProxy(props),
        urn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/dm-switch:Vip::v",
        name: "v",
        opts: {} as never,
        getConfig: () => ({}) as never,
        isType: () => false,
        asType: () => undefined,
        notApplicable: () => undefined as never,
    } as unknown as ResourceValidationArgs;
}

test("in an update the policy reports before the resource changes; in a preview it reports at the end, against the resource", async () => {
    const props = vipProps({ target: unknownStringValue });
    const inline: string[] = [];
    await gtidContainment.validateResource(resourceArgs(props), (m) => inline.push(m));
    assert.equal(inline.length, 1, "update: reported inline");
    assert.match(inline[0], /cannot be proven: target is unknown until another resource is created/);

    resetStartedChecks();
    process.env.PULUMI_NODEJS_DRY_RUN = "true";
    const early: string[] = [];
    await gtidContainment.validateResource(resourceArgs(props), (m) => early.push(m));
    assert.deepEqual(early, [], "preview: the check is only started");
    const late: { message: string; urn?: string }[] = [];
    const stackArgs = {
        resources: [{ ...resourceArgs(props), dependencies: [], propertyDependencies: {} }],
        getConfig: () => ({}),
    } as unknown as StackValidationArgs;
    await gtidContainment.validateStack(stackArgs, (message, urn) => late.push({ message, urn }));
    assert.equal(late.length, 1);
    assert.equal(late[0].urn, "urn:pulumi:s::p::pulumi-nodejs:dynamic/dm-switch:Vip::v");
    assert.equal(late[0].message, inline[0]);
});
