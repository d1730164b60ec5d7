/**
 * Bad input fails `check` (and the program, for stack configuration) with the property, the problem and
 * the remedy, before anything changes. One change from a valid input per case.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { validateStackConfig } from "../../components/stackConfig";
import { checkSourceBindingInputs, checkVipInputs, SourceBindingInputs, VipInputs } from "../../components/providers/inputs";

const vip: VipInputs = {
    dm: { address: "127.0.0.1:8261" },
    sourceId: "mariadb-01",
    flavor: "mariadb",
    instances: { primary: { host: "127.0.0.1", port: 13307 }, replica: { host: "127.0.0.1", port: 13308 } },
    target: "replica",
    address: { host: "127.0.0.1", port: 13306 },
    user: "dm",
    password: "s3cret-value",
    backend: { kind: "haproxy", socket: "/tmp/haproxy.sock", backend: "mysql", servers: { primary: "primary", replica: "replica" } },
};

const binding: SourceBindingInputs = {
    dm: { address: "127.0.0.1:8261", transport: "dmctl" },
    sourceId: "mariadb-01",
    host: "127.0.0.1",
    port: 13307,
    user: "dm",
    password: "s3cret-value",
    flavor: "mariadb",
    enableGtid: true,
};

test("valid inputs pass", () => {
    assert.deepEqual(checkVipInputs(vip), []);
    assert.deepEqual(checkSourceBindingInputs(binding), []);
});

const vipCases: [string, Partial<VipInputs> | Record<string, unknown>, string, RegExp][] = [
    ["dm address without port", { dm: { address: "dm-master" } }, "dm", /dm\.address must be dm-master's host:port .*"dm-master"/],
    ["unknown transport", { dm: { address: "127.0.0.1:8261", transport: "grpc" } }, "dm", /dm\.transport must be "openapi" or "dmctl", got "grpc"/],
    ["source id with a space", { sourceId: "my source" }, "sourceId", /sourceId must be a DM source name/],
    ["flavor", { flavor: "postgres" }, "flavor", /flavor must be "mysql" or "mariadb", got "postgres"/],
    ["target not an instance", { target: "replica-2" }, "target", /target must be one of the instances \(primary, replica\), got "replica-2"/],
    ["port out of range", { address: { host: "127.0.0.1", port: 70000 } }, "address", /address must be \{host, port\} with a port from 1 to 65535/],
    ["backend without an instance", { backend: { kind: "haproxy", socket: "/s", backend: "mysql", servers: { primary: "p" } } }, "backend", /no entry for instance replica: add one per instance/],
    ["unknown backend", { backend: { kind: "f5" } }, "backend", /backend\.kind must be "haproxy", "route53" or "eni", got "f5"/],
    ["empty task name", { tasks: ["t1", ""] }, "tasks", /tasks must be a list of DM task names/],
    ["unknown verify", { verify: "tcp" }, "verify", /verify must be "connect" .* or "backend" .*got "tcp"/],
];

for (const [name, change, property, reason] of vipCases) {
    test(`Vip: ${name}`, () => {
        const failures = checkVipInputs({ ...vip, ...change } as VipInputs);
        assert.equal(failures.length, 1, JSON.stringify(failures));
        assert.equal(failures[0].property, property);
        assert.match(failures[0].reason, reason);
    });
}

test("a missing password is reported without echoing anything", () => {
    const failures = checkVipInputs({ ...vip, password: undefined as unknown as string });
    assert.deepEqual(failures, [{ property: "password", reason: "password must be a string (set it with 'pulumi config set --secret')" }]);
});

test("SourceBinding: enableGtid false fails with the seed's reason", () => {
    const failures = checkSourceBindingInputs({ ...binding, enableGtid: false });
    assert.equal(failures.length, 1);
    assert.equal(failures[0].property, "enableGtid");
    assert.match(failures[0].reason, /only in GTID mode .*set enableGtid: true/);
});

test("no failure text holds the password", () => {
    const all = [...checkVipInputs({ ...vip, dm: { address: "x" }, target: "nope" }), ...checkSourceBindingInputs({ ...binding, enableGtid: false, port: 0 })];
    assert.ok(all.length >= 4);
    assert.ok(all.every((f) => !f.reason.includes("s3cret-value")));
});

const stack = {
    dm: { address: "127.0.0.1:8261" },
    instances: { primary: { host: "127.0.0.1", port: 13307 }, replica: { host: "127.0.0.1", port: 13308 } },
    sources: [{ id: "mariadb-01", flavor: "mariadb", user: "dm", mode: "vip", reads: "primary", vip: { address: { host: "127.0.0.1", port: 13306 }, haproxy: { socket: "/s", backend: "mysql", servers: {} } } }],
};

test("stack configuration: valid passes", () => {
    assert.deepEqual(validateStackConfig(stack), []);
});

const stackCases: [string, (s: typeof stack) => unknown, RegExp][] = [
    ["no dm", (s) => ({ ...s, dm: undefined }), /^dm-switch:dm must be \{address: .*pulumi config set --path dm-switch:dm\.address/],
    ["reads an unknown instance", (s) => ({ ...s, sources: [{ ...s.sources[0], reads: "replica-9" }] }), /^dm-switch:sources\[0\]\.reads: "replica-9" is not an instance; use one of primary, replica/],
    ["unknown mode", (s) => ({ ...s, sources: [{ ...s.sources[0], mode: "dns" }] }), /^dm-switch:sources\[0\]\.mode must be "vip" .* or "address" .*got "dns"/],
    ["two VIP movers", (s) => ({ ...s, sources: [{ ...s.sources[0], vip: { ...s.sources[0].vip, eni: { privateIp: "10.0.0.5", enis: {} } } }] }), /^dm-switch:sources\[0\]\.vip must be .*exactly one of haproxy, route53, eni, route53Record, command/],
    ["empty command script", (s) => ({ ...s, sources: [{ ...s.sources[0], vip: { address: s.sources[0].vip.address, command: { script: " " } } }] }), /^dm-switch:sources\[0\]\.vip\.command\.script must be/],
    ["a source twice", (s) => ({ ...s, sources: [s.sources[0], s.sources[0]] }), /^dm-switch:sources\[1\]\.id: source mariadb-01 is listed twice/],
    ["a negative timeout", (s) => ({ ...s, sources: [{ ...s.sources[0], advanceTimeoutMs: -1 }] }), /^dm-switch:sources\[0\]\.advanceTimeoutMs must be a whole number of milliseconds ≥ 0, got -1/],
    ["a timeout as text", (s) => ({ ...s, sources: [{ ...s.sources[0], stageTimeoutMs: "30s" }] }), /^dm-switch:sources\[0\]\.stageTimeoutMs must be a whole number of milliseconds ≥ 0, got "30s"/],
    ["instance without port", (s) => ({ ...s, instances: { ...s.instances, replica: { host: "h" } } }), /^dm-switch:instances\.replica must be \{host, port\}/],
];

for (const [name, change, reason] of stackCases) {
    test(`stack configuration: ${name}`, () => {
        const errors = validateStackConfig(change(stack) as Parameters<typeof validateStackConfig>[0]);
        assert.equal(errors.length, 1, errors.join("\n"));
        assert.match(errors[0], reason);
    });
}
