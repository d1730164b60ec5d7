/**
 * The program (index.ts) under the real Pulumi CLI refuses a TLS private key kept in plaintext in the
 * stack configuration, and accepts it set with `pulumi config set --secret --path` (issue 19 item 5):
 * which keys are secret is known only to the engine, so this is proved through it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTempStack, TempStack } from "../../tools/pulumiCli";
import { PROJECT_DIR } from "../../tools/sandboxStack";

// A made-up PEM: the program checks its shape and where it is kept, never uses it here.
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBfakecert\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIGHplaintextkeymaterial\n-----END PRIVATE KEY-----\n";

let stack: TempStack;

const plain = (tls?: Record<string, string>) => ({
    "dm-switch:dm": { address: "127.0.0.1:1", transport: "openapi" },
    "dm-switch:instances": {
        a: { host: "127.0.0.1", port: 1, ...(tls ? { tls } : {}) },
        b: { host: "127.0.0.1", port: 2 },
    },
    "dm-switch:sources": [
        {
            id: "s",
            flavor: "mariadb",
            user: "dm",
            mode: "vip",
            reads: "a",
            vip: {
                address: { host: "127.0.0.1", port: 3 },
                haproxy: { socket: "/nonexistent.sock", backend: "mysql", servers: { a: "a", b: "b" } },
            },
        },
    ],
});

before(async () => {
    stack = await createTempStack({ projectDir: PROJECT_DIR });
    await stack.setConfig("dm-switch:passwords.s", "pw-1", { path: true, secret: true });
});

after(async () => {
    await stack?.dispose();
});

test("an instance's TLS key in plaintext fails the preview with the key and the remedy, without showing it", async () => {
    stack.writeConfig(plain({ ca: CERT, cert: CERT, key: KEY }));
    const r = await stack.run(["preview"], { timeoutMs: 120_000 });
    assert.notEqual(r.code, 0);
    assert.match(
        r.output,
        /dm-switch:instances\.a\.tls\.key is a private key in plaintext in the stack configuration: run 'pulumi config rm --path dm-switch:instances\.a\.tls\.key' and set it again with 'pulumi config set --secret --path dm-switch:instances\.a\.tls\.key -- "\$\(cat client-key\.pem\)"'/,
    );
    assert.equal(r.output.includes("MIGHplaintextkeymaterial"), false);
});

test("the same key set with --secret --path is accepted (the instances are then a secret key)", async () => {
    stack.writeConfig(plain({ ca: CERT, cert: CERT }));
    await stack.setConfig("dm-switch:instances.a.tls.key", KEY, { path: true, secret: true });
    const r = await stack.run(["preview", "--json"], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.output.includes("MIGHplaintextkeymaterial"), false);
    // The Vip's instances (holding the key) are a secret input as a whole.
    const steps = (
        JSON.parse(r.stdout) as { steps: { newState?: { type: string; inputs: Record<string, unknown> } }[] }
    ).steps;
    const vip = steps.find((s) => s.newState?.type === "pulumi-nodejs:dynamic/dm-switch:Vip");
    assert.equal(vip?.newState?.inputs.instances, "[secret]", JSON.stringify(vip?.newState?.inputs));
});

test("dm.tls.key in plaintext fails the preview naming dmTlsKey as the remedy", async () => {
    stack.writeConfig({
        ...plain(),
        "dm-switch:dm": { address: "127.0.0.1:1", transport: "openapi", tls: { ca: CERT, cert: CERT, key: KEY } },
    });
    const r = await stack.run(["preview"], { timeoutMs: 120_000 });
    assert.notEqual(r.code, 0);
    assert.match(
        r.output,
        /dm-switch:dm\.tls\.key is a private key in plaintext in the stack configuration: run 'pulumi config rm --path dm-switch:dm\.tls\.key' and set it with 'pulumi config set --secret dm-switch:dmTlsKey < client-key\.pem'/,
    );
    assert.equal(r.output.includes("MIGHplaintextkeymaterial"), false);
});
