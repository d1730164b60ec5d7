/**
 * The DM client against a real dm-master and dm-worker running with TLS (`ssl-ca`, `ssl-cert`,
 * `ssl-key`; the OpenAPI is HTTPS on master-addr and a client certificate is required): both transports,
 * refusals that name TLS, the client key never on an argument list, `dm-switch preflight` with its
 * --tls-* flags, and a VIP switch by `pulumi up` with `dm-switch:dm.tls`. One TLS sandbox for the file.
 * Prints latencies; asserts no times.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { EXIT, PASSWORD_ENV, preflightCommand } from "../../components/cli/preflight";
import { createDmClient, DmClient, DmEndpoint, DmError, Stage, waitForStage } from "../../components/dm";
import { Sandbox, startSandbox } from "../../sandbox";
import { dmGet } from "../../sandbox/dm";
import { createSandboxStack, sandboxConfig } from "../../tools/sandboxStack";

let sb: Sandbox;
let dir: string;
let pems: { ca: string; cert: string; key: string };
let wrapper: string;
/** Lines of the client key's and certificate's PEM bodies: none may appear in an error or an argument list. */
let pemLines: string[];
/** Lines of the client key's PEM body: secret, so not in the state or the config file either. */
let keyLines: string[];
/** Where the pulumi up test found the client key in the stack's state in plaintext. */
let stateKeyPaths: string[] | undefined;

before(async () => {
    const t0 = performance.now();
    sb = await startSandbox({ tasks: 1, tls: true });
    console.log(`TLS sandbox up in ${(performance.now() - t0).toFixed(0)} ms`);
    assert.ok(sb.dm.tls, "startSandbox({ tls: true }) exposes dm.tls");
    pems = sb.dm.tls;
    const body = (pem: string) => pem.split("\n").filter((l) => l.length >= 40 && !l.startsWith("-----"));
    keyLines = body(pems.key);
    pemLines = [...keyLines, ...body(pems.cert)];
    assert.ok(keyLines.length >= 2);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-tls-test-"));
    // dmctl runs through a wrapper that records the argument list it was given (its own /proc cmdline)
    // and the mode of the key file passed with --ssl-key, then becomes dmctl (same process, same arguments).
    wrapper = path.join(dir, "dmctl");
    const script = [
        "#!/bin/sh",
        // One write per run (a line of a few hundred bytes is appended whole): runs at once cannot interleave.
        `line=$(tr '\\000' ' ' < /proc/$$/cmdline); printf '%s\\n' "$line" >> ${dir}/argv.log`,
        'prev=""; for a in "$@"; do [ "$prev" = "--ssl-key" ] && stat -c %a "$a" >> ' +
            `${dir}/keymode.log; prev="$a"; done`,
        `exec ${sb.dm.dmctlPath} "$@"`,
        "",
    ].join("\n");
    fs.writeFileSync(wrapper, script, { mode: 0o700 });
});

after(async () => {
    await sb?.stop();
    if (dir) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

const task = () => sb.tasks[0].name;
const endpoint = (transport: "openapi" | "dmctl", tls: DmEndpoint["tls"]): DmEndpoint => ({
    transport,
    address: sb.dm.masterAddr,
    dmctlPath: wrapper,
    tls,
    requestTimeoutMs: 15_000,
});

/** Every process's argument list now, from /proc (processes that end while read are skipped). */
function allCmdlines(): string[] {
    const out: string[] = [];
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            out.push(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "));
        } catch {
            // gone
        }
    }
    return out;
}

/** Samples every process's argument list every few ms while `fn` runs: dmctl processes seen, and any holding PEM text. */
async function watchArgv<T>(fn: () => Promise<T>): Promise<{ value: T; dmctlSeen: number; leaks: string[] }> {
    let dmctlSeen = 0;
    const leaks: string[] = [];
    const timer = setInterval(() => {
        for (const c of allCmdlines()) {
            if (c.includes(sb.dm.dmctlPath) || c.includes(wrapper)) {
                dmctlSeen++;
            }
            if (c.includes("PRIVATE KEY") || pemLines.some((l) => c.includes(l))) {
                leaks.push(c.slice(0, 200));
            }
        }
    }, 5);
    try {
        return { value: await fn(), dmctlSeen, leaks };
    } finally {
        clearInterval(timer);
    }
}

/** A one-line error with no PEM text and no stack frames. */
function assertClean(message: string): void {
    assert.doesNotMatch(message, /\n/);
    assert.doesNotMatch(message, /-----BEGIN/);
    for (const l of pemLines) {
        assert.equal(message.includes(l), false, `PEM text in: ${message}`);
    }
}

async function dmError(p: Promise<unknown>): Promise<DmError> {
    const err = await p.then(
        () => undefined,
        (e: unknown) => e,
    );
    assert.ok(err instanceof DmError, `expected a DmError, got ${String(err)}`);
    assertClean(err.message);
    return err;
}

/** JSON paths of `value` whose string holds a line of the client key. */
function keyPaths(value: unknown, at = "$"): string[] {
    if (typeof value === "string") {
        return keyLines.some((l) => value.includes(l)) ? [at] : [];
    }
    if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => keyPaths(v, `${at}.${k}`));
    }
    return [];
}

async function cycle(c: DmClient): Promise<{ pauseMs: number; resumeMs: number; gtid: string }> {
    const wait = (want: Stage[]) =>
        waitForStage(c, [task()], sb.source.id, want, { intervalMs: 20, timeoutMs: 30_000 });
    const t0 = performance.now();
    await c.pauseTask(task(), [sb.source.id]);
    const [paused] = await wait(["Paused"]);
    const pauseMs = performance.now() - t0;
    const t1 = performance.now();
    await c.resumeTask(task(), [sb.source.id]);
    await wait(["Running"]);
    return { pauseMs, resumeMs: performance.now() - t1, gtid: paused.syncerBinlogGtid };
}

test("DM serves only TLS: the OpenAPI answers over HTTPS with a client certificate, not over plain HTTP", async () => {
    assert.match(sb.dm.openapiUrl, /^https:\/\//);
    const master = fs.readFileSync(path.join(sb.dir, "dm-master", "dm-master.toml"), "utf8");
    const worker = fs.readFileSync(path.join(sb.dir, "dm-worker", "dm-worker.toml"), "utf8");
    for (const cfg of [master, worker]) {
        assert.match(cfg, /^ssl-ca = ".+ca\.pem"$/m);
        assert.match(cfg, /^ssl-key = ".+\.key"$/m);
    }
    const ok = await dmGet(sb.dm.masterAddr, "/api/v1/cluster/masters", 5000, pems);
    assert.equal(ok.status, 200);
    await assert.rejects(dmGet(sb.dm.masterAddr, "/api/v1/cluster/masters", 5000));
});

for (const transport of ["openapi", "dmctl"] as const) {
    test(`${transport} over TLS: lists sources, task status, pause → Paused, resume → Running`, async () => {
        const c = createDmClient(endpoint(transport, pems));
        const { value, dmctlSeen, leaks } = await watchArgv(async () => {
            const t0 = performance.now();
            const sources = await c.listSources();
            const listMs = performance.now() - t0;
            assert.deepEqual(
                sources.map((s) => [s.id, s.worker]),
                [[sb.source.id, sb.dm.workerName]],
            );
            const [st] = await c.taskStatus(task(), sb.source.id);
            assert.equal(st.stage, "Running");
            assert.equal(st.unit, "Sync");
            return { listMs, ...(await cycle(c)) };
        });
        assert.notEqual(value.gtid, "", "the paused syncer's GTID is read");
        console.log(
            `${transport} over TLS: list sources ${value.listMs.toFixed(0)} ms, pause→Paused ${value.pauseMs.toFixed(0)} ms, resume→Running ${value.resumeMs.toFixed(0)} ms; /proc samples showing dmctl: ${dmctlSeen}`,
        );
        assert.deepEqual(leaks, [], "no process's argument list holds PEM text");
        if (transport === "dmctl") {
            assert.ok(dmctlSeen > 0, "the sampler saw dmctl running");
        }
    });
}

test("dmctl gets the client key only as the path of a 0600 file, never its text", () => {
    const argv = fs.readFileSync(path.join(dir, "argv.log"), "utf8").trim().split("\n");
    assert.ok(argv.length >= 4, "dmctl ran for list, status, pause and resume");
    for (const line of argv) {
        assert.match(line, /--ssl-ca \S+\/tls-ca\.pem --ssl-cert \S+\/tls-cert\.pem --ssl-key \S+\/tls-key\.pem /);
        assert.equal(line.includes("PRIVATE KEY") || pemLines.some((l) => line.includes(l)), false, line);
        // The private folder is removed after each run.
        const keyFile = /--ssl-key (\S+)/.exec(line)![1];
        assert.equal(fs.existsSync(path.dirname(keyFile)), false, `${path.dirname(keyFile)} is left behind`);
    }
    const modes = fs.readFileSync(path.join(dir, "keymode.log"), "utf8").trim().split("\n");
    assert.deepEqual([...new Set(modes)], ["600"]);
});

test("clients without the CA, without a client certificate or without TLS are refused in one line naming TLS", async () => {
    const { ca, cert, key } = pems;
    const noCa = await dmError(createDmClient(endpoint("openapi", { cert, key })).listSources());
    assert.match(
        noCa.message,
        /^list sources \S+ failed: TLS handshake with dm-master at \S+ failed: its certificate is not trusted \(\w+\)\. Set tls\.ca /,
    );
    const noCert = await dmError(createDmClient(endpoint("openapi", { ca })).taskStatus(task()));
    assert.match(
        noCert.message,
        /^query-status \S+ failed: TLS handshake .* failed \(ERR_SSL_\w+\): dm-master refused the client\. Set tls\.cert and tls\.key /,
    );
    const plain = await dmError(createDmClient(endpoint("openapi", undefined)).taskStatus(task()));
    assert.match(
        plain.message,
        /cannot reach dm-master at \S+ \(ECONNRESET\)\..*a dm-master with TLS \(ssl-ca\) needs tls/,
    );

    // dmctl does not verify dm-master's certificate without --ssl-ca (tidb util.NewTLSConfig skips
    // verification unless given a CA): refused before dmctl runs, by either transport.
    assert.throws(
        () => createDmClient(endpoint("dmctl", { cert, key })),
        (e: Error) => {
            assert.ok(e instanceof TypeError);
            assert.match(
                e.message,
                /tls\.ca is missing, and without it dmctl does not verify dm-master's certificate\. Set tls\.ca /,
            );
            assertClean(e.message);
            return true;
        },
    );
    const before = fs.readFileSync(path.join(dir, "argv.log"), "utf8");
    const viaApi = await dmError(createDmClient(endpoint("openapi", { cert, key })).stopTask(task()));
    assert.match(viaApi.message, /^stop-task \S+: TLS settings incomplete: tls\.ca is missing/);
    assert.equal(fs.readFileSync(path.join(dir, "argv.log"), "utf8"), before, "dmctl did not run");
    assert.throws(
        () => createDmClient(endpoint("dmctl", { ca, cert })),
        /tls\.key is missing\. Set both tls\.cert and tls\.key/,
    );

    // dmctl with the CA but no client certificate: DM closes the handshake, dmctl times out connecting.
    const t0 = performance.now();
    const ctlNoCert = await dmError(createDmClient(endpoint("dmctl", { ca })).taskStatus(task()));
    console.log(
        `dmctl without a client certificate failed after ${(performance.now() - t0).toFixed(0)} ms: ${ctlNoCert.message}`,
    );
    assert.match(
        ctlNoCert.message,
        /can't connect to \S+.*Check that dm-master runs at \S+ and that the address and TLS settings are right\./,
    );
    // Still Running: nothing was changed by the refused clients.
    assert.equal((await createDmClient(endpoint("openapi", pems)).taskStatus(task()))[0].stage, "Running");
});

test("dm-switch preflight over TLS: allowed with --tls-ca/--tls-cert/--tls-key, one clear line without the CA", async () => {
    const files = {
        ca: path.join(dir, "ca.pem"),
        cert: path.join(dir, "client.pem"),
        key: path.join(dir, "client.key"),
    };
    for (const [k, f] of Object.entries(files)) {
        fs.writeFileSync(f, pems[k as keyof typeof pems], { mode: 0o600 });
    }
    const base = ["--dm", sb.dm.masterAddr, "--source", sb.source.id, "--flavor", "mariadb"].concat([
        "--target",
        `127.0.0.1:${sb.replica.port}`,
        "--name",
        "replica",
        "--user",
        sb.admin.user,
    ]);
    const run = async (argv: string[]) => {
        let out = "";
        let err = "";
        const code = await preflightCommand(argv, {
            out: (t) => (out += t),
            err: (t) => (err += t),
            env: { [PASSWORD_ENV]: sb.admin.password },
        });
        return { code, out, err };
    };
    for (const transport of ["openapi", "dmctl"]) {
        const t0 = performance.now();
        const tlsArgs = ["--tls-ca", files.ca, "--tls-cert", files.cert, "--tls-key", files.key];
        const ok = await run([...base, ...tlsArgs, "--transport", transport, "--dmctl", sb.dm.dmctlPath, "--json"]);
        console.log(`preflight over TLS (${transport}): ${(performance.now() - t0).toFixed(0)} ms`);
        assert.equal(ok.code, EXIT.ok, ok.err);
        assert.equal(JSON.parse(ok.out).ok, true);
    }
    const bad = await run([...base, "--tls-cert", files.cert, "--tls-key", files.key]);
    console.log(`preflight without the CA: exit ${bad.code}: ${bad.err.trim()}`);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /TLS handshake with dm-master at \S+ failed: its certificate is not trusted/);
    assert.equal(bad.err.trim().split("\n").length, 1, bad.err);
    assertClean(bad.err.trim() + bad.out);
});

test("pulumi up with dm-switch:dm.tls (key as a secret) switches the VIP over TLS", async () => {
    const stack = await createSandboxStack(sb, { mode: "vip", reads: "primary" });
    try {
        stack.writeConfig({
            "dm-switch:dm": {
                address: sb.dm.masterAddr,
                transport: "openapi",
                dmctlPath: sb.dm.dmctlPath,
                tls: { ca: pems.ca, cert: pems.cert },
            },
        });
        await stack.setConfig("dm-switch:dm.tls.key", pems.key, { secret: true, path: true });
        const first = await stack.run(["up", "--yes", "--skip-preview"]);
        assert.equal(first.code, 0, first.output);
        // Only the sources change: rewriting dm-switch:dm would drop its secret key.
        stack.writeConfig({
            "dm-switch:sources": sandboxConfig(sb, { mode: "vip", reads: "replica" })["dm-switch:sources"],
        });
        const up = await stack.run(["up", "--yes", "--skip-preview"]);
        console.log(
            `pulumi up (VIP switch over TLS): ${up.ms} ms; ${/replication was paused for \d+ ms/.exec(up.output)?.[0] ?? ""}`,
        );
        const warnings = up.output
            .split("\n")
            .filter((l) => /warning/i.test(l) && !/using pulumi-\S+ from \$PATH/.test(l));
        console.log(`pulumi warnings: ${warnings.length === 0 ? "none" : warnings.join(" | ")}`);
        assert.equal(up.code, 0, up.output);
        assert.equal(await sb.vipTarget(), "replica");
        const api = createDmClient(endpoint("openapi", pems));
        assert.equal((await api.taskStatus(task(), sb.source.id))[0].stage, "Running");
        const exported = await stack.exportState();
        const resources = exported.deployment.resources ?? [];
        stateKeyPaths = keyPaths(exported).map((p) => {
            const i = /^\$\.deployment\.resources\.(\d+)\./.exec(p)?.[1];
            return i === undefined ? p : `${p} (${resources[Number(i)].type})`;
        });
        console.log(`client key in plaintext in the state at: ${stateKeyPaths.join(", ") || "nowhere"}`);
        const config = fs.readFileSync(path.join(stack.stateDir, `Pulumi.${stack.stackName}.yaml`), "utf8");
        for (const [where, text] of [
            ["the stack's config file", config],
            ["pulumi's output", first.output + up.output],
        ]) {
            assert.equal(
                keyLines.some((l) => text.includes(l)) || text.includes("PRIVATE KEY"),
                false,
                `the client key is in ${where} in plaintext`,
            );
        }
    } finally {
        await stack.dispose();
    }
});

test("the client key set as a secret stays encrypted in the stack's state", () => {
    assert.ok(stateKeyPaths, "the pulumi up test ran and read the state");
    assert.deepEqual(stateKeyPaths, []);
});
