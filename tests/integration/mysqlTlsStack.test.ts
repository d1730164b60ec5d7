/**
 * MySQL/MariaDB TLS through the real product (issue 19 item 5): this project's program under the real
 * Pulumi CLI against a sandbox whose primary and replica serve TLS (`startSandbox({ mysqlTls: true })`),
 * the instances and the VIP's address configured with `tls.ca`. `pulumi preview --policy-pack` and
 * `pulumi up` (a VIP switch verified through HAProxy) connect with TLS, as the servers' own TLS counters
 * show; with a CA that did not sign the servers' certificates both refuse, naming the CA, and nothing moves.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { createDmClient } from "../../components/dm";
import { MariadbInstance } from "../../sandbox/mariadb";
import { Sandbox, startSandbox } from "../../sandbox";
import { generateTls } from "../../sandbox/tls";
import {
    createSandboxStack,
    PROJECT_DIR,
    SandboxSourceOptions,
    SandboxStack,
    sandboxConfig,
} from "../../tools/sandboxStack";

const PACK = path.join(PROJECT_DIR, "policies");
let sb: Sandbox;
let stack: SandboxStack;
let otherCa: string;
const outputs: string[] = [];

/** The stack's configuration for `o` with every instance and the VIP's address on TLS verified by `ca`. */
function configure(o: SandboxSourceOptions, ca: string): void {
    const c = sandboxConfig(sb, o) as Record<string, unknown>;
    const withTls = (a: { host: string; port: number }) => ({ ...a, tls: { ca } });
    const instances = c["dm-switch:instances"] as Record<string, { host: string; port: number }>;
    const [source] = c["dm-switch:sources"] as { vip: { address: { host: string; port: number } } }[];
    stack.writeConfig({
        ...c,
        "dm-switch:instances": Object.fromEntries(Object.entries(instances).map(([n, a]) => [n, withTls(a)])),
        "dm-switch:sources": [{ ...source, vip: { ...source.vip, address: withTls(source.vip.address) } }],
    });
}

/** Connections the server accepted over TLS so far. */
const sslAccepts = async (i: MariadbInstance) =>
    Number((await i.query("SHOW GLOBAL STATUS LIKE 'Ssl_accepts'"))[0]?.Value);

async function pulumi(args: string[]) {
    const r = await stack.run(args);
    outputs.push(r.output);
    console.log(`  pulumi ${args.join(" ")}: exit ${r.code} in ${r.ms} ms`);
    return r;
}

async function stages(): Promise<string[]> {
    const dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr });
    const all = await Promise.all(sb.tasks.map((t) => dm.taskStatus(t.name, sb.source.id)));
    return all.flat().map((s) => `${s.task}:${s.stage}`);
}

before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-other-ca-"));
    try {
        otherCa = (await generateTls(dir)).client.ca;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    sb = await startSandbox({ tasks: 2, mysqlTls: true });
    stack = await createSandboxStack(sb, { mode: "vip", reads: "primary" });
    configure({ mode: "vip", reads: "primary" }, sb.mysqlTls!.ca);
    const r = await pulumi(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
});

after(async () => {
    try {
        await stack?.dispose();
    } finally {
        await sb?.stop();
    }
    for (const o of outputs) {
        assert.equal(o.includes(sb.source.password), false, "the password never appears in Pulumi's output");
    }
});

test("preview with the policy pack and a switch by pulumi up connect to the servers with TLS, verified by the CA", async () => {
    const before = { primary: await sslAccepts(sb.primary), replica: await sslAccepts(sb.replica) };
    configure({ mode: "vip", reads: "replica" }, sb.mysqlTls!.ca);
    const preview = await pulumi(["preview", "--policy-pack", PACK]);
    assert.equal(preview.code, 0, preview.output);
    const afterPreview = await sslAccepts(sb.replica);
    assert.ok(
        afterPreview > before.replica,
        `the pack probed the replica over TLS (Ssl_accepts ${before.replica} → ${afterPreview})`,
    );
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    assert.equal(up.code, 0, up.output);
    assert.equal(await sb.vipTarget(), "replica");
    assert.ok((await sslAccepts(sb.replica)) > afterPreview, "pulumi up probed the replica over TLS");
    assert.deepEqual(
        await stages(),
        sb.tasks.map((t) => `${t.name}:Running`),
    );
});

test("a CA that did not sign the servers' certificates: the pack and pulumi up refuse, naming tls.ca; nothing moves", async () => {
    assert.equal(await sb.vipTarget(), "replica");
    configure({ mode: "vip", reads: "primary" }, otherCa);
    const preview = await pulumi(["preview", "--policy-pack", PACK]);
    assert.notEqual(preview.code, 0);
    assert.match(preview.output, /The server's certificate is not signed by tls\.ca/);
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    assert.notEqual(up.code, 0);
    assert.match(up.output, /The server's certificate is not signed by tls\.ca/);
    assert.equal(await sb.vipTarget(), "replica", "the VIP did not move");
    assert.deepEqual(
        await stages(),
        sb.tasks.map((t) => `${t.name}:Running`),
        "no task left paused",
    );
});
