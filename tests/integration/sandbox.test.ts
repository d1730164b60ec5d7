/**
 * The sandbox for real: DM (dm-master + dm-worker) replicating a MariaDB primary reached through an
 * HAProxy VIP into a MariaDB downstream, with a MariaDB replica to switch to. Also its failure paths:
 * a part that cannot start, a test process that dies half-way, and the npm scripts from nothing to
 * nothing. Prints timings; asserts none.
 */
import assert from "node:assert/strict";
import { sleep } from "../../components/util/poll";
import { within } from "../support/wait";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { haproxyCommand, HaproxyVip } from "../../components/vipBackends/haproxy";
import { Sandbox, startSandbox } from "../../sandbox";
import { startLoad } from "../../sandbox/load";
import { alive, portFree, processesIn } from "../../sandbox/proc";
import { query } from "../../sandbox/sql";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";

const repoRoot = path.resolve(__dirname, "..", "..");
let sb: Sandbox;
const scratch: string[] = [];

before(async () => {
    const t0 = performance.now();
    sb = await startSandbox({ tasks: 2 });
    console.log(`startSandbox: ${(performance.now() - t0).toFixed(0)} ms (2 tasks)`);
});

after(async () => {
    await sb?.stop();
    for (const d of scratch) {
        fs.rmSync(d, { recursive: true, force: true });
    }
});

/** OpenAPI call straight to dm-master (not through the DM client, so this checks DM itself). */
async function api(
    method: string,
    urlPath: string,
    body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await fetch(`${sb.dm.openapiUrl}${urlPath}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function stages(task: string): Promise<string[]> {
    const r = await api("GET", `/tasks/${task}/status`);
    return ((r.json.data ?? []) as { stage: string }[]).map((s) => s.stage);
}

async function waitStage(tasks: string[], stage: string, timeoutMs = 10_000): Promise<void> {
    let now: string[][] = [];
    await within(
        () => `tasks ${tasks.join(", ")} did not reach ${stage}: ${JSON.stringify(now)}`,
        async () => {
            now = await Promise.all(tasks.map(stages));
            return now.every((s) => s.length > 0 && s.every((x) => x === stage)) || undefined;
        },
        { intervalMs: 10, timeoutMs },
    );
}

const names = () => sb.tasks.map((t) => t.name);
const expected = (r: { schemas: Record<string, { lastSeq: number }> }) =>
    Object.fromEntries(Object.entries(r.schemas).map(([s, v]) => [s, v.lastSeq]));

test("starts every part: the VIP reaches the primary, the source is bound to the worker, every task runs", async () => {
    assert.equal(await sb.vipTarget(), "primary");
    const viaVip = await query({ host: sb.vip.host, port: sb.vip.port, ...sb.admin }, "SELECT @@server_id AS id");
    assert.equal(Number(viaVip[0].id), sb.primary.serverId);
    const src = await api("GET", `/sources/${sb.source.id}?with_status=true`);
    assert.equal(src.json.port, sb.vip.port, "the source reads through the VIP");
    assert.deepEqual(
        (src.json.status_list as { worker_name: string }[]).map((s) => s.worker_name),
        [sb.dm.workerName],
    );
    for (const t of names()) {
        assert.deepEqual(await stages(t), ["Running"]);
    }
    for (const f of [...sb.tasks.map((t) => t.taskFile), path.join(sb.dir, "sandbox.json")]) {
        assert.equal(fs.statSync(f).mode & 0o777, 0o600, `${f} is private`);
    }
});

test("rows written to the primary arrive downstream through real DM, none lost or duplicated", async () => {
    const load = startLoad(sb, { rowsPerSec: 300, via: "primary" });
    await sleep(1500);
    const r = await load.stop();
    assert.ok(r.written > 100, `the load wrote ${r.written} rows`);
    assert.equal(r.errors, 0);
    const v = await verifyReplicated(sb, { timeoutMs: 30_000 });
    console.log(
        `load: ${r.written} rows in ${r.elapsedMs.toFixed(0)} ms; downstream equal after ${v.waitedMs.toFixed(0)} ms`,
    );
    assert.equal(v.upstream, "primary");
    for (const [schema, s] of Object.entries(v.schemas)) {
        assert.equal(s.equal, true, `${schema}: ${JSON.stringify(s)}`);
        assert.equal(s.downstreamRows, r.schemas[schema].written);
    }
    for (const [schema, s] of Object.entries(await checkSequences(sb, { expectedLastSeq: expected(r) }))) {
        assert.equal(s.ok, true, `${schema}: ${JSON.stringify(s)}`);
    }
});

test("the replica's GTID state follows the primary", async () => {
    await sb.primary.query(`INSERT INTO ${sb.tasks[0].schema}.t (id, seq, payload) VALUES (-1, -1, 'gtid probe')`);
    const pos = String((await sb.primary.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g);
    assert.match(pos, /^0-1-\d+$/);
    assert.equal(Number((await sb.replica.query("SELECT MASTER_GTID_WAIT(?, 10) AS w", [pos]))[0].w), 0);
    const [r] = await sb.replica.query(
        "SELECT @@GLOBAL.gtid_slave_pos AS slave, @@GLOBAL.gtid_binlog_pos AS binlog, @@GLOBAL.gtid_strict_mode AS strict",
    );
    assert.deepEqual(
        { slave: r.slave, binlog: r.binlog, strict: Number(r.strict) },
        { slave: pos, binlog: pos, strict: 1 },
    );
    const [status] = await sb.replica.query("SHOW SLAVE STATUS");
    assert.deepEqual(
        [status.Using_Gtid, status.Slave_IO_Running, status.Slave_SQL_Running, status.Master_Port],
        ["Slave_Pos", "Yes", "Yes", sb.primary.port],
    );
    await sb.primary.query(`DELETE FROM ${sb.tasks[0].schema}.t WHERE id = -1`);
});

test("pausing a task over the OpenAPI (POST /api/v1/tasks/{t}/stop) reaches Paused; POST …/start resumes it", async () => {
    const task = names()[0];
    const t0 = performance.now();
    const paused = await api("POST", `/tasks/${task}/stop`, { source_name_list: [sb.source.id] });
    assert.equal(paused.status, 200, JSON.stringify(paused.json));
    await waitStage([task], "Paused");
    const pauseMs = performance.now() - t0;
    assert.deepEqual(await stages(names()[1]), ["Running"], "the other task keeps running");
    const t1 = performance.now();
    assert.equal(
        (await api("POST", `/tasks/${task}/start`, { source_name_list: [sb.source.id], remove_meta: false })).status,
        200,
    );
    await waitStage([task], "Running");
    console.log(
        `OpenAPI stop→Paused ${pauseMs.toFixed(0)} ms, start→Running ${(performance.now() - t1).toFixed(0)} ms`,
    );
});

test("the load survives cut connections: unknown outcomes are read back, no gap and no duplicate", async () => {
    const load = startLoad(sb, { rowsPerSec: 300, via: "vip" });
    for (let i = 0; i < 5; i++) {
        await sleep(300);
        // What a VIP move does to open sessions, without moving: in-flight writes end in an unknown outcome.
        await haproxyCommand(
            sb.vip.haproxySocket,
            `shutdown sessions server ${sb.vip.backend}/${sb.vip.servers.primary}`,
        );
    }
    await sleep(300);
    const r = await load.stop();
    console.log(
        `load with 5 cuts: ${r.written} rows, ${r.errors} errors, ${r.resolved} outcomes resolved by reading back, ${r.unresolved} unresolved`,
    );
    assert.ok(r.errors > 0, "the cuts broke connections");
    assert.equal(r.unresolved, 0);
    for (const on of ["primary", "downstream"] as const) {
        if (on === "downstream") {
            assert.equal((await verifyReplicated(sb, { timeoutMs: 30_000 })).equal, true);
        }
        for (const [schema, s] of Object.entries(await checkSequences(sb, { on, expectedLastSeq: expected(r) }))) {
            assert.equal(s.ok, true, `${on} ${schema}: ${JSON.stringify(s)}`);
        }
    }
});

test("a VIP switch under load: DM reads from the replica afterwards and the downstream equals it", async () => {
    // Writes stay on the primary (DM moves to a replica of it): with this DM, rows written on the *new*
    // server between the pause and the resume are skipped (see the sandbox's notes), so they are not part of this test.
    const load = startLoad(sb, { rowsPerSec: 300, via: "primary" });
    await sleep(800);
    const vip = new HaproxyVip({ socket: sb.vip.haproxySocket, backend: sb.vip.backend, servers: sb.vip.servers });
    const t0 = performance.now();
    await Promise.all(names().map((t) => api("POST", `/tasks/${t}/stop`, { source_name_list: [sb.source.id] })));
    await waitStage(names(), "Paused");
    await vip.moveTo("replica");
    const pos = String((await sb.primary.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g);
    assert.equal(Number((await sb.replica.query("SELECT MASTER_GTID_WAIT(?, 10) AS w", [pos]))[0].w), 0);
    await Promise.all(
        names().map((t) => api("POST", `/tasks/${t}/start`, { source_name_list: [sb.source.id], remove_meta: false })),
    );
    await waitStage(names(), "Running");
    const pausedMs = performance.now() - t0;
    await sleep(800);
    const r = await load.stop();
    assert.equal(await sb.vipTarget(), "replica");
    const viaVip = await query({ host: sb.vip.host, port: sb.vip.port, ...sb.admin }, "SELECT @@server_id AS id");
    assert.equal(Number(viaVip[0].id), sb.replica.serverId);
    const v = await verifyReplicated(sb, { timeoutMs: 30_000 });
    console.log(
        `VIP switch: tasks paused ${pausedMs.toFixed(0)} ms; ${r.written} rows; downstream equal to the replica after ${v.waitedMs.toFixed(0)} ms`,
    );
    assert.equal(v.upstream, "replica");
    assert.equal(v.equal, true, JSON.stringify(v.schemas));
    for (const [schema, s] of Object.entries(await checkSequences(sb, { expectedLastSeq: expected(r) }))) {
        assert.equal(s.ok, true, `${schema}: ${JSON.stringify(s)}`);
    }
    for (const t of names()) {
        assert.deepEqual(await stages(t), ["Running"]);
    }
});

test("no password in any log or configuration file of the sandbox", () => {
    const secrets = [sb.admin.password, sb.source.password];
    const files: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const f = path.join(d, e.name);
            if (e.isDirectory() && e.name !== "data") {
                walk(f);
            } else if (e.isFile() && /\.(log|toml|cfg|cnf|state)$/.test(e.name)) {
                files.push(f);
            }
        }
    };
    walk(sb.dir);
    assert.ok(
        files.some((f) => f.endsWith("dm-worker.log")) && files.some((f) => f.endsWith("dm-master.log")),
        files.join(", "),
    );
    for (const f of files) {
        const text = fs.readFileSync(f, "utf8");
        assert.equal(
            secrets.some((s) => text.includes(s)),
            false,
            `a password is in ${f}`,
        );
    }
});

test("stop() leaves no process and no port behind and removes the directory", async () => {
    const pids = processesIn(sb.dir);
    assert.equal(pids.length, 6, `six daemons run from ${sb.dir}: ${pids.join(", ")}`);
    const t0 = performance.now();
    await sb.stop();
    console.log(`stop: ${(performance.now() - t0).toFixed(0)} ms`);
    for (const port of Object.values(sb.ports)) {
        assert.equal(await portFree(port), true, `port ${port} is free`);
    }
    assert.deepEqual(pids.filter(alive), []);
    assert.equal(fs.existsSync(sb.dir), false);
});

test("a part that cannot start fails startSandbox with its log, and leaves no process or port behind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-fail-"));
    scratch.push(dir);
    const busy = net.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => busy.once("listening", r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
        await assert.rejects(startSandbox({ dir, ports: { dmWorker: port } }), (e: Error) => {
            assert.match(e.message, /^dm-worker (exited|was not ready|is gone).*\n--- last lines of .*dm-worker/);
            assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
            return true;
        });
    } finally {
        busy.close();
    }
    assert.deepEqual(processesIn(dir), []);
    // Every port the parts were configured with (their files stay in a caller's dir) is free again.
    const configs = [
        "dm-master/dm-master.toml",
        "haproxy/haproxy.cfg",
        "primary/my.cnf",
        "replica/my.cnf",
        "downstream/my.cnf",
    ].map((f) => fs.readFileSync(path.join(dir, f), "utf8"));
    const used = [...configs.join("\n").matchAll(/(?:127\.0\.0\.1:|^port=)(\d+)/gm)].map((m) => Number(m[1]));
    assert.ok(used.length >= 8, `ports found in the configuration files: ${used.join(", ")}`);
    for (const p of used) {
        assert.equal(await portFree(p), true, `port ${p} is free`);
    }
});

test("a test process that dies half-way leaves no sandbox process behind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-crash-"));
    scratch.push(dir);
    const script =
        `require(${JSON.stringify(path.join(repoRoot, "sandbox"))}).startSandbox({ dir: ${JSON.stringify(dir)}, tasks: 1 })` +
        `.then(() => { console.log("up"); throw new Error("test failed half-way"); });`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script], {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    assert.match(out, /^up$/m, out);
    assert.match(out, /test failed half-way/);
    assert.notEqual(code, 0);
    await sleep(200);
    assert.deepEqual(processesIn(dir), [], "every daemon was killed when the process died");
});

test("npm run sandbox:up brings everything up from nothing; sandbox:status reports it; sandbox:down leaves nothing", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-cli-")), "state");
    scratch.push(path.dirname(dir));
    const npm = (script: string, ...args: string[]) => {
        const t0 = performance.now();
        const r = spawnSync("npm", ["run", "-s", script, "--", "--dir", dir, ...args], {
            cwd: repoRoot,
            encoding: "utf8",
            timeout: 120_000,
        });
        console.log(`${script}: exit ${r.status} in ${(performance.now() - t0).toFixed(0)} ms`);
        return r;
    };
    // With relay on, so that the relay path of the sandbox is exercised too.
    const upRun = npm("sandbox:up", "--free-ports", "--relay");
    assert.equal(upRun.status, 0, upRun.stdout + upRun.stderr);
    assert.match(upRun.stdout, /sandbox: up in [\d.]+ s/);
    const d = JSON.parse(fs.readFileSync(path.join(dir, "sandbox.json"), "utf8")) as { ports: Record<string, number> };
    const pids = processesIn(dir);
    assert.equal(pids.length, 6, "the daemons outlive sandbox:up");
    const st = npm("sandbox:status");
    assert.equal(st.status, 0, st.stdout + st.stderr);
    const lines = st.stdout.trim().split("\n");
    assert.deepEqual(
        lines.map((l) => l.split(/\s+/).slice(0, 3).join(" ")),
        [
            "up mariadb primary",
            "up mariadb replica",
            "up mariadb downstream",
            "up haproxy VIP",
            "up dm-master 127.0.0.1:" + d.ports.dmMaster,
            "up dm-worker 127.0.0.1:" + d.ports.dmWorker,
            "up source sandbox-source",
            "up task sandbox_task_0",
            "up task sandbox_task_1",
        ],
    );
    assert.match(st.stdout, /points at primary/);
    assert.match(
        st.stdout,
        new RegExp(`source sandbox-source +from 127\\.0\\.0\\.1:${d.ports.vip} on worker1, relay Running`),
    );
    const downRun = npm("sandbox:down");
    assert.equal(downRun.status, 0, downRun.stdout + downRun.stderr);
    assert.deepEqual(pids.filter(alive), []);
    assert.equal(fs.existsSync(dir), false);
    for (const port of Object.values(d.ports)) {
        assert.equal(await portFree(port), true, `port ${port} is free`);
    }
    const gone = npm("sandbox:status");
    assert.equal(gone.status, 1);
    assert.match(gone.stdout, /sandbox: none in/);
});
