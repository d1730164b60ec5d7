/**
 * The DM client against a real dm-master, dm-worker and MariaDB (the local sandbox): both transports,
 * pause/resume, stop/start from the checkpoint, sources, errors. Prints latencies; asserts no times.
 * `DM_SWITCH_SANDBOX_MODULE` may point at another module with the sandbox's API.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../../components/util/poll";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import {
    configOf,
    createDmClient,
    DmClient,
    DmError,
    readCheckpointGtid,
    SubtaskStatus,
    waitForStage,
} from "../../components/dm";

/** The part of sandbox/index.ts this test uses. */
interface Sandbox {
    primary: { host: string; port: number };
    downstream: { host: string; port: number };
    admin: { user: string; password: string };
    dm: { masterAddr: string; dmctlPath: string };
    source: { id: string; user: string; password: string; flavor: "mysql" | "mariadb" };
    tasks: { name: string; schema: string; taskFile: string }[];
    stop(): Promise<void>;
}

let sb: Sandbox;
let api: DmClient;
let ctl: DmClient;
let dir: string;
const errors: string[] = [];
const repoRoot = path.resolve(__dirname, "..", "..");

async function sql(server: { host: string; port: number }, text: string): Promise<Record<string, unknown>[]> {
    const mysql = await import("mysql2/promise");
    const conn = await mysql.createConnection({
        host: server.host,
        port: server.port,
        user: sb.admin.user,
        password: sb.admin.password,
    });
    try {
        return (await conn.query(text))[0] as Record<string, unknown>[];
    } finally {
        await conn.end();
    }
}

/** Expects a DmError, keeps its text for the password check at the end. */
async function dmError(p: Promise<unknown>): Promise<DmError> {
    const err = await p.then(
        () => undefined,
        (e: unknown) => e,
    );
    assert.ok(err instanceof DmError, `expected a DmError, got ${String(err)}`);
    errors.push(err.message);
    assert.doesNotMatch(err.message, /\n/);
    return err;
}

before(async () => {
    const mod = process.env.DM_SWITCH_SANDBOX_MODULE ?? path.join(repoRoot, "sandbox");
    const { startSandbox } = (await import(mod)) as { startSandbox(o: object): Promise<Sandbox> };
    sb = await startSandbox({ tasks: 2, relay: false, createSource: true, createTasks: true });
    // dmctl runs through a wrapper that logs its arguments: no password may ever be among them.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-client-test-"));
    const wrapper = path.join(dir, "dmctl");
    fs.writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${dir}/argv.log\nexec ${sb.dm.dmctlPath} "$@"\n`, {
        mode: 0o755,
    });
    api = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: wrapper });
    ctl = createDmClient({ transport: "dmctl", address: sb.dm.masterAddr, dmctlPath: wrapper });
});

after(async () => {
    await sb?.stop();
    if (dir) {
        const argv = fs.existsSync(path.join(dir, "argv.log"))
            ? fs.readFileSync(path.join(dir, "argv.log"), "utf8")
            : "";
        fs.rmSync(dir, { recursive: true, force: true });
        for (const secret of [sb.source.password, sb.admin.password]) {
            assert.equal(argv.includes(secret), false, "a password appeared in dmctl's argument list");
            for (const e of errors) {
                assert.equal(e.includes(secret), false, `a password appeared in an error: ${e}`);
            }
        }
    }
});

const names = () => sb.tasks.map((t) => t.name);
const comparable = (s: SubtaskStatus[]) =>
    s.map(({ task, source, worker, stage, unit, errors }) => ({ task, source, worker, stage, unit, errors }));

test("both transports list the source, its tasks and the same statuses", async () => {
    assert.deepEqual(await api.tasksOfSource(sb.source.id), [...names()].sort());
    assert.deepEqual(await ctl.tasksOfSource(sb.source.id), [...names()].sort());
    assert.deepEqual(await ctl.getSource(sb.source.id), await api.getSource(sb.source.id));
    for (const t of names()) {
        assert.deepEqual(
            comparable(await ctl.taskStatus(t, sb.source.id)),
            comparable(await api.taskStatus(t, sb.source.id)),
        );
        assert.equal((await api.taskStatus(t))[0].stage, "Running");
    }
});

test("both transports read a source's configuration and tasks without its status, alone and in the listing", async () => {
    const full = await api.getSource(sb.source.id);
    assert.ok(full, "the sandbox's source");
    const want = configOf(full);
    assert.deepEqual(want.taskNames, [...names()].sort());
    for (const c of [api, ctl]) {
        const t0 = performance.now();
        const all = await c.listSourceConfigs();
        console.log(`${c.endpoint.transport}: listSourceConfigs ${(performance.now() - t0).toFixed(0)} ms`);
        assert.deepEqual(
            all.find((s) => s.id === sb.source.id),
            want,
            c.endpoint.transport,
        );
        assert.deepEqual(await c.getSourceConfig(sb.source.id), want, c.endpoint.transport);
        assert.equal(await c.getSourceConfig("no-such-source"), undefined, c.endpoint.transport);
    }
});

test("pause reaches Paused with the syncer GTID flushed; resume reaches Running", async () => {
    // A fresh write, applied downstream before the pause: the flushed checkpoint must include it.
    const table = `\`${sb.tasks[0].schema}\`.\`dm_client_pause\``;
    await sql(sb.primary, `CREATE TABLE IF NOT EXISTS ${table} (id INT AUTO_INCREMENT PRIMARY KEY)`);
    await sql(sb.primary, `INSERT INTO ${table} () VALUES ()`);
    const want = Number((await sql(sb.primary, `SELECT MAX(id) AS m FROM ${table}`))[0].m);
    await pollUntil(
        async () => {
            const got = await sql(sb.downstream, `SELECT MAX(id) AS m FROM ${table}`).then(
                (r) => Number(r[0].m),
                () => 0,
            );
            return got === want || undefined;
        },
        { intervalMs: 50, timeoutMs: 10_000 },
    );
    const t0 = performance.now();
    await Promise.all(names().map((t) => api.pauseTask(t, [sb.source.id])));
    const paused = await waitForStage(api, names(), sb.source.id, ["Paused"], { intervalMs: 5, timeoutMs: 10_000 });
    const pauseMs = performance.now() - t0;
    const executed = String((await sql(sb.primary, "SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g);
    for (const s of paused) {
        assert.equal(s.syncerBinlogGtid, executed, `${s.task}: the paused syncer's GTID is the primary's`);
    }
    // Stable while paused: both transports agree on everything, GTIDs included.
    for (const t of names()) {
        assert.deepEqual(await ctl.taskStatus(t, sb.source.id), await api.taskStatus(t, sb.source.id));
    }
    const t1 = performance.now();
    await Promise.all(names().map((t) => api.resumeTask(t, [sb.source.id])));
    await waitForStage(api, names(), sb.source.id, ["Running"], { intervalMs: 5, timeoutMs: 10_000 });
    console.log(
        `OpenAPI: pause→Paused ${pauseMs.toFixed(0)} ms, resume→Running ${(performance.now() - t1).toFixed(0)} ms (${names().length} tasks)`,
    );
});

test("stop-task keeps the checkpoint and start-task resumes from it", async () => {
    const task = sb.tasks[0];
    await api.pauseTask(task.name, [sb.source.id]);
    const [paused] = await waitForStage(api, [task.name], sb.source.id, ["Paused"], { intervalMs: 5 });
    await api.stopTask(task.name);
    assert.deepEqual(
        await api.tasksOfSource(sb.source.id),
        names()
            .filter((n) => n !== task.name)
            .sort(),
    );
    const down = {
        host: sb.downstream.host,
        port: sb.downstream.port,
        user: sb.admin.user,
        password: sb.admin.password,
    };
    const gtidS = await readCheckpointGtid(down, task.name, sb.source.id);
    assert.equal(gtidS, paused.syncerBinlogGtid);
    // Rows written while the task is stopped arrive downstream once it starts again.
    const table = `\`${task.schema}\`.\`dm_client_test_${Date.now()}\``;
    await sql(sb.primary, `CREATE TABLE IF NOT EXISTS ${table} (id INT PRIMARY KEY)`);
    await sql(sb.primary, `INSERT INTO ${table} VALUES (1), (2), (3)`);
    const file = fs.existsSync(task.taskFile) ? fs.readFileSync(task.taskFile, "utf8") : task.taskFile;
    const t0 = performance.now();
    await api.startTask(file, { binlogGtid: { [sb.source.id]: gtidS } });
    await waitForStage(api, [task.name], sb.source.id, ["Running"], { intervalMs: 5, timeoutMs: 30_000 });
    console.log(`start-task→Running ${(performance.now() - t0).toFixed(0)} ms`);
    let n = 0;
    await pollUntil(
        async () => {
            n = await sql(sb.downstream, `SELECT COUNT(*) AS n FROM ${table}`).then(
                (r) => Number(r[0].n),
                () => 0,
            );
            return n >= 3 || undefined;
        },
        { intervalMs: 100, timeoutMs: 20_000 },
    );
    assert.equal(n, 3);
});

test("creates and stops a source through either transport", async () => {
    const current = (await api.getSource(sb.source.id))!;
    for (const [name, c] of [
        ["openapi", api],
        ["dmctl", ctl],
    ] as const) {
        const id = `dm-client-test-${name}`;
        await c.createSource({
            id,
            host: current.host,
            port: current.port,
            user: sb.source.user,
            password: sb.source.password,
            flavor: sb.source.flavor,
            enableGtid: true,
        });
        const got = await api.getSource(id);
        assert.equal(got?.host, current.host);
        assert.equal(got?.port, current.port);
        assert.deepEqual(await ctl.getSource(id), got);
        await c.stopSource(id);
        assert.equal(await api.getSource(id), undefined);
        assert.equal(await ctl.getSource(id), undefined);
    }
});

test("refuses to stop a source that has tasks", async () => {
    for (const c of [api, ctl]) {
        const e = await dmError(c.stopSource(sb.source.id));
        assert.match(e.message, /has existing tasks .*stop-task/);
    }
});

test("fails in one line with a remedy for unknown tasks, sources and an unreachable dm-master", async () => {
    for (const c of [api, ctl]) {
        assert.match(
            (await dmError(c.taskStatus("no-such-task"))).message,
            /no-such-task.*(not exist|no source).*(query-status|Check)/,
        );
        assert.match(
            (await dmError(c.pauseTask("no-such-task"))).message,
            /^pause-task no-such-task failed: .*(query-status|Check)/,
        );
        assert.match(
            (await dmError(c.tasksOfSource("no-such-source"))).message,
            /no-such-source.*(not exist|not found).*Check/,
        );
        assert.equal(await c.getSource("no-such-source"), undefined);
    }
    const badPw = await dmError(
        api.createSource({
            id: "dm-client-test-bad",
            host: "127.0.0.1",
            port: 1,
            user: "u",
            password: sb.source.password,
            flavor: sb.source.flavor,
            enableGtid: true,
        }),
    );
    assert.match(badPw.message, /^operate-source create dm-client-test-bad failed: /);
    for (const transport of ["openapi", "dmctl"] as const) {
        const c = createDmClient({
            transport,
            address: "127.0.0.1:1",
            dmctlPath: sb.dm.dmctlPath,
            requestTimeoutMs: 10_000,
        });
        assert.match(
            (await dmError(c.taskStatus("t"))).message,
            /^query-status t failed: .*127\.0\.0\.1:1.*Check that dm-master runs/,
        );
    }
});
