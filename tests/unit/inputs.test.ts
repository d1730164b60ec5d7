/**
 * Bad input fails `check` with the property, the problem and the remedy, before anything changes: the
 * Vip's and the SourceBinding's inputs, one change from a valid input per case. The stack configuration's
 * checks: stackConfigInputs.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
    checkSourceBindingInputs,
    checkVipInputs,
    SourceBindingInputs,
    VipInputs,
} from "../../components/providers/inputs";

const vip: VipInputs = {
    dm: { address: "127.0.0.1:8261" },
    sourceId: "mariadb-01",
    flavor: "mariadb",
    instances: { primary: { host: "127.0.0.1", port: 13307 }, replica: { host: "127.0.0.1", port: 13308 } },
    target: "replica",
    address: { host: "127.0.0.1", port: 13306 },
    user: "dm",
    password: "s3cret-value",
    backend: {
        kind: "haproxy",
        socket: "/tmp/haproxy.sock",
        backend: "mysql",
        servers: { primary: "primary", replica: "replica" },
    },
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
    [
        "dm address without port",
        { dm: { address: "dm-master" } },
        "dm",
        /dm\.address must be dm-master's host:port .*"dm-master"/,
    ],
    [
        "unknown transport",
        { dm: { address: "127.0.0.1:8261", transport: "grpc" } },
        "dm",
        /dm\.transport must be "openapi" or "dmctl", got "grpc"/,
    ],
    ["source id with a space", { sourceId: "my source" }, "sourceId", /sourceId must be a DM source name/],
    ["flavor", { flavor: "postgres" }, "flavor", /flavor must be "mysql" or "mariadb", got "postgres"/],
    [
        "target not an instance",
        { target: "replica-2" },
        "target",
        /target must be one of the instances \(primary, replica\), got "replica-2"/,
    ],
    [
        "port out of range",
        { address: { host: "127.0.0.1", port: 70000 } },
        "address",
        /address must be \{host, port\} with a port from 1 to 65535/,
    ],
    [
        "backend without an instance",
        { backend: { kind: "haproxy", socket: "/s", backend: "mysql", servers: { primary: "p" } } },
        "backend",
        /no entry for instance replica: add one per instance/,
    ],
    [
        "unknown backend",
        { backend: { kind: "f5" } },
        "backend",
        /backend\.kind must be "haproxy", "route53" or "eni", got "f5"/,
    ],
    ["empty task name", { tasks: ["t1", ""] }, "tasks", /tasks must be a list of DM task names/],
    [
        "an empty tasks list (it would pause and check no task)",
        { tasks: [] },
        "tasks",
        /^tasks is empty: DM's procedure pauses every task of the source; list every task, or leave tasks out$/,
    ],
    ["unknown verify", { verify: "tcp" }, "verify", /verify must be "connect" .* or "backend" .*got "tcp"/],
    // Issue 19 item 5: names that reach another system's command line, and mappings that must be exact.
    [
        "dm address with a port above 65535",
        { dm: { address: "127.0.0.1:99999" } },
        "dm",
        /^dm\.address must be dm-master's host:port with a port from 1 to 65535 .*got "127\.0\.0\.1:99999"$/,
    ],
    ["dm address with port 0", { dm: { address: "127.0.0.1:0" } }, "dm", /with a port from 1 to 65535/],
    [
        "source id read as a flag by dmctl",
        { sourceId: "-s" },
        "sourceId",
        /^sourceId must be a DM source name .*not starting with '-', which dmctl would read as a flag\), got "-s"$/,
    ],
    [
        "task name read as a flag by dmctl",
        { tasks: ["t1", "--master-addr=evil:8261"] },
        "tasks",
        /^tasks "--master-addr=evil:8261": a DM task name may not start with '-' \(dmctl would read it as a flag\)/,
    ],
    [
        "task name with a line break",
        { tasks: ["t1\nt2"] },
        "tasks",
        /^tasks "t1\\nt2": .*nor hold control characters; rename the task$/,
    ],
    [
        "HAProxy server name that would run another runtime API command",
        {
            backend: {
                kind: "haproxy",
                socket: "/s",
                backend: "mysql",
                servers: { primary: "primary", replica: "replica\nshutdown sessions server mysql/primary" },
            },
        },
        "backend.servers.replica",
        /^backend\.servers\.replica must be an HAProxy name \(letters, digits, '-', '_', '\.', ':'\), as in the configuration's backend and server lines, got "replica\\nshutdown/,
    ],
    [
        "HAProxy backend name with ';'",
        {
            backend: {
                kind: "haproxy",
                socket: "/s",
                backend: "mysql;disable server mysql/primary",
                servers: { primary: "p", replica: "r" },
            },
        },
        "backend.backend",
        /^backend\.backend must be an HAProxy name/,
    ],
    [
        "HAProxy server name with a space",
        { backend: { kind: "haproxy", socket: "/s", backend: "mysql", servers: { primary: "p", replica: "r x" } } },
        "backend.servers.replica",
        /must be an HAProxy name/,
    ],
    [
        "two instances on one HAProxy server",
        { backend: { kind: "haproxy", socket: "/s", backend: "mysql", servers: { primary: "srv", replica: "srv" } } },
        "backend.servers",
        /^backend\.servers: instances primary and replica share "srv", so dm-switch could not tell which one the VIP points at/,
    ],
    [
        "a mapping entry that is not an instance",
        {
            backend: {
                kind: "haproxy",
                socket: "/s",
                backend: "mysql",
                servers: { primary: "p", replica: "r", old: "o" },
            },
        },
        "backend",
        /^the haproxy backend has an entry for old, which is not an instance \(primary, replica\): remove it, or add it to instances$/,
    ],
    [
        "a Route53 mapping entry that is not an instance",
        {
            backend: {
                kind: "route53",
                zoneId: "Z1",
                recordName: "db.x.internal",
                values: { primary: "10.0.0.1", replica: "10.0.0.2", spare: "10.0.0.3" },
            },
        },
        "backend",
        /^the route53 backend has an entry for spare, which is not an instance/,
    ],
    [
        "verify backend with HAProxy: the mapping cannot be proved",
        { verify: "backend" },
        "verify",
        /^verify "backend" with the haproxy backend would trust the mapping of instances to HAProxy server names without proof .*use verify "connect" \(run where 127\.0\.0\.1:13306 is reachable\); set backend\.trustMapping: true only where no proof can exist \(moto\)$/,
    ],
    [
        "verify backend with an ENI: the mapping cannot be proved",
        {
            verify: "backend",
            backend: { kind: "eni", privateIp: "10.0.0.9", enis: { primary: "eni-00000001", replica: "eni-00000002" } },
        },
        "verify",
        /^verify "backend" with the eni backend would trust the mapping of instances to ENI ids without proof/,
    ],
    [
        "verify backend with a Route53 value that is not its instance's address",
        {
            verify: "backend",
            instances: { primary: { host: "10.0.0.1", port: 3306 }, replica: { host: "10.0.0.2", port: 3306 } },
            backend: {
                kind: "route53",
                zoneId: "Z1",
                recordName: "db.x.internal",
                values: { primary: "10.0.0.9", replica: "10.0.0.2" },
            },
        },
        "backend.values.primary",
        /^backend\.values\.primary is "10\.0\.0\.9" but instances\.primary is at "10\.0\.0\.1": with verify "backend" nothing connects through the VIP/,
    ],
    [
        "TLS client key without its certificate",
        {
            instances: {
                primary: {
                    host: "h",
                    port: 1,
                    tls: { key: `-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----` },
                },
                replica: vip.instances.replica,
            },
        },
        "instances.primary.tls",
        /^instances\.primary\.tls: key is set without cert; set both/,
    ],
    [
        "TLS CA given as a path",
        { address: { host: "h", port: 1, tls: { ca: "/etc/ssl/ca.pem" } } },
        "address.tls.ca",
        /^address\.tls\.ca must be a PEM certificate text .*not a path; got "\/etc\/ssl\/ca\.pem"$/,
    ],
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
    assert.deepEqual(failures, [
        { property: "password", reason: "password must be a string (set it with 'pulumi config set --secret')" },
    ]);
});

test("verify backend passes with Route53 values equal to the instances' addresses, or with trustMapping", () => {
    const instances = { primary: { host: "10.0.0.1", port: 3306 }, replica: { host: "10.0.0.2", port: 3306 } };
    const r53 = {
        kind: "route53" as const,
        zoneId: "Z1",
        recordName: "db.x.internal",
        values: { primary: "10.0.0.1", replica: "10.0.0.2" },
    };
    assert.deepEqual(checkVipInputs({ ...vip, verify: "backend", instances, backend: r53 }), []);
    assert.deepEqual(
        checkVipInputs({
            ...vip,
            verify: "backend",
            backend: { ...vip.backend, trustMapping: true } as VipInputs["backend"],
        }),
        [],
    );
    assert.deepEqual(
        checkVipInputs({
            ...vip,
            verify: "backend",
            instances,
            backend: { ...r53, values: { primary: "10.0.1.1", replica: "10.0.1.2" }, trustMapping: true },
        }),
        [],
    );
});

test("a TLS key is never echoed, even when malformed", () => {
    const key = "not-a-pem-but-secret-material";
    const failures = checkVipInputs({ ...vip, address: { ...vip.address, tls: { cert: "x", key } } });
    assert.deepEqual(
        failures.map((f) => f.property),
        ["address.tls.cert", "address.tls.key"],
    );
    assert.ok(
        failures.every((f) => !f.reason.includes(key)),
        JSON.stringify(failures),
    );
    const port = checkVipInputs({ ...vip, address: { host: "h", port: 0, tls: { key } } });
    assert.ok(
        port.every((f) => !f.reason.includes(key)),
        JSON.stringify(port),
    );
});

const bindingCases: [string, Partial<SourceBindingInputs> | Record<string, unknown>, string, RegExp][] = [
    [
        "enableRelay as text",
        { enableRelay: "true" },
        "enableRelay",
        /^enableRelay must be true or false \(a boolean, not a string\), got "true"$/,
    ],
    [
        "task name read as a flag by dmctl",
        { tasks: ["-h"] },
        "tasks",
        /^tasks "-h": a DM task name may not start with '-'/,
    ],
    ["an empty tasks list", { tasks: [] }, "tasks", /^tasks is empty: /],
    ["source id read as a flag by dmctl", { sourceId: "--help" }, "sourceId", /not starting with '-'/],
    ["port above 65535", { port: 99999 }, "address", /^address must be \{host, port\} with a port from 1 to 65535/],
];

for (const [name, change, property, reason] of bindingCases) {
    test(`SourceBinding: ${name}`, () => {
        const failures = checkSourceBindingInputs({ ...binding, ...change } as SourceBindingInputs);
        assert.equal(failures.length, 1, JSON.stringify(failures));
        assert.equal(failures[0].property, property);
        assert.match(failures[0].reason, reason);
    });
}

test("SourceBinding: enableGtid false fails with the seed's reason", () => {
    const failures = checkSourceBindingInputs({ ...binding, enableGtid: false });
    assert.equal(failures.length, 1);
    assert.equal(failures[0].property, "enableGtid");
    assert.match(failures[0].reason, /only in GTID mode .*set enableGtid: true/);
});

test("no failure text holds the password", () => {
    const all = [
        ...checkVipInputs({ ...vip, dm: { address: "x" }, target: "nope" }),
        ...checkSourceBindingInputs({ ...binding, enableGtid: false, port: 0 }),
    ];
    assert.ok(all.length >= 4);
    assert.ok(all.every((f) => !f.reason.includes("s3cret-value")));
});
