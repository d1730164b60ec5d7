/**
 * Bad stack configuration fails the program with the property, the problem and the remedy, before
 * anything changes: one change from a valid configuration per case; TLS keys only as secrets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { validateStackConfig } from "../../components/stackConfig";

const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHsecret\n-----END PRIVATE KEY-----\n";

const stack = {
    dm: { address: "127.0.0.1:8261" },
    instances: { primary: { host: "127.0.0.1", port: 13307 }, replica: { host: "127.0.0.1", port: 13308 } },
    sources: [
        {
            id: "mariadb-01",
            flavor: "mariadb",
            user: "dm",
            mode: "vip",
            reads: "primary",
            vip: {
                address: { host: "127.0.0.1", port: 13306 },
                haproxy: { socket: "/s", backend: "mysql", servers: {} },
            },
        },
    ],
};

test("stack configuration: valid passes", () => {
    assert.deepEqual(validateStackConfig(stack), []);
});

const stackCases: [string, (s: typeof stack) => unknown, RegExp][] = [
    [
        "no dm",
        (s) => ({ ...s, dm: undefined }),
        /^dm-switch:dm must be \{address: .*pulumi config set --path dm-switch:dm\.address/,
    ],
    [
        "reads an unknown instance",
        (s) => ({ ...s, sources: [{ ...s.sources[0], reads: "replica-9" }] }),
        /^dm-switch:sources\[0\]\.reads: "replica-9" is not an instance; use one of primary, replica/,
    ],
    [
        "unknown mode",
        (s) => ({ ...s, sources: [{ ...s.sources[0], mode: "dns" }] }),
        /^dm-switch:sources\[0\]\.mode must be "vip" .* or "address" .*got "dns"/,
    ],
    [
        "two VIP movers",
        (s) => ({
            ...s,
            sources: [{ ...s.sources[0], vip: { ...s.sources[0].vip, eni: { privateIp: "10.0.0.5", enis: {} } } }],
        }),
        /^dm-switch:sources\[0\]\.vip must be .*exactly one of haproxy, route53, eni, route53Record, command/,
    ],
    [
        "empty command script",
        (s) => ({
            ...s,
            sources: [{ ...s.sources[0], vip: { address: s.sources[0].vip.address, command: { script: " " } } }],
        }),
        /^dm-switch:sources\[0\]\.vip\.command\.script must be/,
    ],
    [
        "a source twice",
        (s) => ({ ...s, sources: [s.sources[0], s.sources[0]] }),
        /^dm-switch:sources\[1\]\.id: source mariadb-01 is listed twice/,
    ],
    [
        "a negative timeout",
        (s) => ({ ...s, sources: [{ ...s.sources[0], advanceTimeoutMs: -1 }] }),
        /^dm-switch:sources\[0\]\.advanceTimeoutMs must be a whole number of milliseconds ≥ 0, got -1/,
    ],
    [
        "a timeout as text",
        (s) => ({ ...s, sources: [{ ...s.sources[0], stageTimeoutMs: "30s" }] }),
        /^dm-switch:sources\[0\]\.stageTimeoutMs must be a whole number of milliseconds ≥ 0, got "30s"/,
    ],
    [
        "instance without port",
        (s) => ({ ...s, instances: { ...s.instances, replica: { host: "h" } } }),
        /^dm-switch:instances\.replica must be \{host, port\}/,
    ],
    // Issue 19 item 5.
    [
        "dm address with a port above 65535",
        (s) => ({ ...s, dm: { address: "127.0.0.1:99999" } }),
        /^dm-switch:dm\.address must be dm-master's host:port with a port from 1 to 65535 \(or several separated by commas, .*\), got "127\.0\.0\.1:99999"$/,
    ],
    [
        "instance port above 65535",
        (s) => ({ ...s, instances: { ...s.instances, replica: { host: "h", port: 70000 } } }),
        /^dm-switch:instances\.replica must be \{host, port\} with a port from 1 to 65535, got \{"host":"h","port":70000\}$/,
    ],
    [
        "VIP address port 0",
        (s) => ({
            ...s,
            sources: [{ ...s.sources[0], vip: { ...s.sources[0].vip, address: { host: "h", port: 0 } } }],
        }),
        /^dm-switch:sources\[0\]\.vip\.address must be \{host, port\} with a port from 1 to 65535/,
    ],
    [
        "source id read as a flag by dmctl",
        (s) => ({ ...s, sources: [{ ...s.sources[0], id: "-s" }] }),
        /^dm-switch:sources\[0\]\.id must be the DM source name \(.*not starting with '-', which dmctl would read as a flag\), got "-s"$/,
    ],
    [
        "task name read as a flag by dmctl",
        (s) => ({ ...s, sources: [{ ...s.sources[0], tasks: ["t1", "-t2"] }] }),
        /^dm-switch:sources\[0\]\.tasks must list DM task names \(none empty or starting with '-', which dmctl would read as a flag\), got \["t1","-t2"\]/,
    ],
    [
        "enableRelay as a string",
        (s) => ({ ...s, sources: [{ ...s.sources[0], enableRelay: "false" }] }),
        /^dm-switch:sources\[0\]\.enableRelay must be true or false \(a YAML boolean, not a string\), got "false"$/,
    ],
    [
        "dm.tls.key in plaintext",
        (s) => ({ ...s, dm: { ...s.dm, tls: { ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY } } }),
        /^dm-switch:dm\.tls\.key is a private key in plaintext in the stack configuration: run 'pulumi config rm --path dm-switch:dm\.tls\.key' and set it with 'pulumi config set --secret dm-switch:dmTlsKey < client-key\.pem'$/,
    ],
    [
        "an instance's TLS key in plaintext",
        (s) => ({
            ...s,
            instances: {
                ...s.instances,
                primary: { ...s.instances.primary, tls: { ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY } },
            },
        }),
        /^dm-switch:instances\.primary\.tls\.key is a private key in plaintext in the stack configuration: .*'pulumi config set --secret --path dm-switch:instances\.primary\.tls\.key -- "\$\(cat client-key\.pem\)"'$/,
    ],
    [
        "an instance's TLS CA as a path",
        (s) => ({
            ...s,
            instances: { ...s.instances, primary: { ...s.instances.primary, tls: { ca: "/etc/ca.pem" } } },
        }),
        /^dm-switch:instances\.primary\.tls\.ca must be a PEM certificate text/,
    ],
    [
        "address mode with TLS instances",
        (s) => ({
            ...s,
            instances: { ...s.instances, primary: { ...s.instances.primary, tls: { ca: PEM_CERT } } },
            sources: [{ ...s.sources[0], mode: "address", vip: undefined }],
        }),
        /^dm-switch:sources\[0\]: mode "address" cannot use instances with tls \(primary\) yet; use mode "vip", or remove tls from those instances$/,
    ],
];

test("stack configuration: TLS keys set with --secret, and a CA alone, pass", () => {
    const tls = { ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY };
    assert.deepEqual(validateStackConfig({ ...stack, dm: { ...stack.dm, tls } }, ["dm"]), []);
    assert.deepEqual(
        validateStackConfig(
            { ...stack, instances: { ...stack.instances, replica: { ...stack.instances.replica, tls } } },
            ["instances"],
        ),
        [],
    );
    assert.deepEqual(
        validateStackConfig({
            ...stack,
            instances: {
                ...stack.instances,
                replica: { ...stack.instances.replica, tls: { ca: PEM_CERT, servername: "db.local" } },
            },
        }),
        [],
    );
});

test("stack configuration: a hooked VIP refuses a MySQL TLS client key (its state would hold it in plaintext)", () => {
    const tls = { ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY };
    const errors = validateStackConfig(
        {
            ...stack,
            instances: { ...stack.instances, replica: { ...stack.instances.replica, tls } },
            sources: [
                { ...stack.sources[0], vip: { address: stack.sources[0].vip.address, command: { script: "true" } } },
            ],
        },
        ["instances"],
    );
    assert.deepEqual(errors, [
        "dm-switch:sources[0].vip: a hooked VIP (route53Record, command) cannot use a MySQL TLS client key yet (instances replica, vip.address); use a CA only (tls.ca), or the haproxy, route53 or eni backend",
    ]);
    assert.ok(errors.every((e) => !e.includes("MIGH")));
});

for (const [name, change, reason] of stackCases) {
    test(`stack configuration: ${name}`, () => {
        const errors = validateStackConfig(change(stack) as Parameters<typeof validateStackConfig>[0]);
        assert.equal(errors.length, 1, errors.join("\n"));
        assert.match(errors[0], reason);
    });
}
