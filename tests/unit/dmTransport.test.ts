import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { createDmClient, DmClient, DmError, SubtaskStatus, waitForStage, WaitTimeoutError } from "../../components/dm";
import { recorded } from "../support/recorded";

function withoutStatus(name: string): unknown {
    const { status_list: _s, task_name_list: _t, ...cfg } = recorded.apiSource as Record<string, unknown>;
    return { ...cfg, source_name: name };
}
function task(name: string, sources: string[]): unknown {
    const target_config = { host: "127.0.0.1", port: 4000, user: "root", password: "hunter2-pw" };
    return {
        name,
        task_mode: "incremental",
        source_config: { source_conf: sources.map((s) => ({ source_name: s, binlog_gtid: "0-1-4" })) },
        target_config,
    };
}

// A dm-master stand-in replaying recorded OpenAPI answers; it records each request.
const requests: { method: string; url: string; body: string }[] = [];
let server: http.Server;
let address = "";
const routes: Record<string, [number, unknown]> = {
    "GET /api/v1/tasks/task-s1/status": [200, recorded.apiStatusRunning],
    "GET /api/v1/tasks/nope/status": [400, recorded.apiStatusUnknown],
    "POST /api/v1/tasks/task-s1/stop": [200, undefined],
    "POST /api/v1/tasks/task-s1/start": [200, undefined],
    "GET /api/v1/sources/mariadb-01?with_status=true": [200, recorded.apiSource],
    // Without status, as this DM answers them: no task_name_list, no status_list; tasks carry their full config.
    "GET /api/v1/sources": [200, { total: 2, data: [withoutStatus("mariadb-01"), withoutStatus("mariadb-02")] }],
    "GET /api/v1/tasks": [
        200,
        { total: 2, data: [task("task-s1", ["mariadb-01"]), task("task-both", ["mariadb-02", "mariadb-01"])] },
    ],
    "DELETE /api/v1/sources/mariadb-01": [400, recorded.apiDeleteSourceBusy],
    // dm-master echoes the request in some answers: the client must never show a body raw.
    "POST /api/v1/sources": [500, { source: { password: "hunter2-pw" } }],
    // DM's error reply with nothing in it (seen once while a dm-worker went offline).
    "GET /api/v1/tasks/bare/status": [400, { error_code: 0, error_msg: "" }],
};

before(async () => {
    server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            requests.push({ method: req.method!, url: req.url!, body });
            const [status, reply] = routes[`${req.method} ${req.url}`] ?? [404, undefined];
            res.writeHead(status, { "content-type": "application/json" }).end(
                reply === undefined ? "" : JSON.stringify(reply),
            );
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    address = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

const api = () => createDmClient({ transport: "openapi", address });

test("pause and resume name the task's sources and never remove meta", async () => {
    requests.length = 0;
    await api().pauseTask("task-s1");
    await api().resumeTask("task-s1", ["mariadb-01"]);
    assert.deepEqual(
        requests.map((r) => `${r.method} ${r.url} ${r.body}`),
        [
            "GET /api/v1/tasks/task-s1/status ",
            'POST /api/v1/tasks/task-s1/stop {"source_name_list":["mariadb-01"]}',
            'POST /api/v1/tasks/task-s1/start {"source_name_list":["mariadb-01"],"remove_meta":false}',
        ],
    );
});

test("every source's configuration and tasks come from two requests that reach no dm-worker", async () => {
    requests.length = 0;
    const all = await api().listSourceConfigs();
    assert.deepEqual(requests.map((r) => `${r.method} ${r.url}`).sort(), ["GET /api/v1/sources", "GET /api/v1/tasks"]);
    const base = {
        host: "127.0.0.1",
        port: 23306,
        user: "dm",
        flavor: "mariadb",
        enableGtid: true,
        enableRelay: false,
    };
    assert.deepEqual(all, [
        { id: "mariadb-01", ...base, taskNames: ["task-both", "task-s1"] },
        { id: "mariadb-02", ...base, taskNames: ["task-both"] },
    ]);
    assert.doesNotMatch(JSON.stringify(all), /hunter2/, "nothing of a task's target config is kept");
    // One source: what getSource reads, without the status.
    assert.deepEqual(await api().getSourceConfig("mariadb-01"), {
        id: "mariadb-01",
        ...base,
        taskNames: ["task-s1", "task-s2"],
    });
    assert.equal(await api().getSourceConfig("zz"), undefined);
});

const errorCases: { name: string; run: (c: DmClient) => Promise<unknown>; message: string; code?: number }[] = [
    {
        name: "an unknown task",
        run: (c) => c.pauseTask("nope"),
        code: 46018,
        message:
            "pause-task nope failed: [code=46018:class=scheduler:scope=internal:level=medium], Message: task with name nope not exist, Workaround: Please use `query-status` command to see tasks. ",
    },
    {
        name: "an unknown source",
        run: (c) => c.tasksOfSource("zz"),
        message: "list tasks of source zz failed: source zz does not exist. Check the source id (GET /api/v1/sources).",
    },
    {
        name: "a source that still has tasks",
        run: (c) => c.stopSource("mariadb-01"),
        code: 46010,
        message:
            "operate-source stop mariadb-01 failed: [code=46010:class=dm-master:scope=internal:level=medium], Message: source with name mariadb-01 need to operate has existing tasks [task-s1 task-s2], Workaround: Please `stop-task` first. ",
    },
    {
        name: "an answer that echoes the password",
        run: (c) =>
            c.createSource({
                id: "s",
                host: "h",
                port: 1,
                user: "u",
                password: "hunter2-pw",
                flavor: "mariadb",
                enableGtid: true,
            }),
        message: `operate-source create s failed: dm-master answered HTTP 500. Check that ADDR serves DM's OpenAPI (openapi = true) and see dm-master's log.`,
    },
    {
        name: "DM's error reply without a message",
        run: (c) => c.taskStatus("bare"),
        message: "query-status bare failed: dm-master answered HTTP 400 without an error message. See dm-master's log.",
    },
];
for (const c of errorCases) {
    test(`fails in one line for ${c.name} over the OpenAPI`, async () => {
        const err = await c.run(api()).then(
            () => undefined,
            (e: unknown) => e,
        );
        assert.ok(err instanceof DmError);
        assert.equal(err.message.trim(), c.message.replace("ADDR", address).trim());
        assert.equal(err.code, c.code);
        assert.doesNotMatch(err.message, /hunter2|\n/);
    });
}

test("fails in one line with a remedy when dm-master is unreachable", async () => {
    const c = createDmClient({ transport: "openapi", address: "127.0.0.1:1" });
    await assert.rejects(c.taskStatus("t"), {
        name: "DmError",
        message:
            "query-status t failed: cannot reach dm-master at 127.0.0.1:1 (ECONNREFUSED). Check that dm-master runs there with openapi = true and that the address and TLS settings are right.",
    });
});

test("rejects a bad address or transport before any I/O", () => {
    assert.throws(() => createDmClient({ transport: "openapi", address: "http://x:1" }), {
        message:
            'DM address must be dm-master\'s host:port with a port from 1 to 65535 (or several separated by commas, for example "10.0.0.5:8261", or "10.0.0.5:8261,10.0.0.6:8261,10.0.0.7:8261" for several dm-masters), got "http://x:1"',
    });
    assert.throws(() => createDmClient({ transport: "grpc" as never, address: "x:1" }), {
        message: 'DM transport "grpc" is not supported; use "openapi" or "dmctl".',
    });
});

// A dmctl stand-in: logs its argv, cwd and the files it was given, then prints a recorded answer.
function fakeDmctl(reply: unknown) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-test-"));
    fs.writeFileSync(path.join(dir, "reply.json"), JSON.stringify(reply));
    const script = path.join(dir, "dmctl");
    fs.writeFileSync(
        script,
        `#!/bin/sh\n{ echo "ARGV $*"; echo "CWD $PWD"; for a in "$@"; do if [ -f "$a" ]; then echo "MODE $(stat -c %a "$a")"; cat "$a"; fi; done; } >> ${dir}/log\ntouch dmctl.log\ncat ${dir}/reply.json\n`,
        { mode: 0o755 },
    );
    return {
        script,
        log: () => fs.readFileSync(path.join(dir, "log"), "utf8"),
        cleanup: () => fs.rmSync(dir, { recursive: true }),
    };
}

test("dmctl: the password reaches dmctl only in a 0600 file of a private folder removed afterwards", async () => {
    const fake = fakeDmctl({ result: true, msg: "", sources: [{ result: true, msg: "", source: "s", worker: "w1" }] });
    try {
        const c = createDmClient({ transport: "dmctl", address: "127.0.0.1:8261", dmctlPath: fake.script });
        await c.createSource({
            id: "s",
            host: "10.0.0.2",
            port: 3306,
            user: "dm",
            password: "hunter2-pw",
            flavor: "mariadb",
            enableGtid: true,
        });
        const log = fake.log();
        const argv = /^ARGV (.*)$/m.exec(log)![1];
        const cwd = /^CWD (.*)$/m.exec(log)![1];
        assert.match(argv, /^--master-addr 127\.0\.0\.1:8261 operate-source create \/.*\/source\.yaml$/);
        assert.doesNotMatch(argv, /hunter2/);
        assert.match(log, /^MODE 600$/m);
        assert.match(log, /password: "hunter2-pw"/);
        assert.equal(fs.existsSync(cwd), false, "dmctl's folder (and its dmctl.log) is removed");
    } finally {
        fake.cleanup();
    }
});

test("dmctl: runs with a minimal environment, never the stack's decrypted configuration", async () => {
    const fake = fakeDmctl({ result: true, msg: "", sources: [{ result: true, msg: "", source: "s", worker: "w1" }] });
    const secret = "stack-secret-7f3a";
    const saved = {
        PULUMI_CONFIG: process.env.PULUMI_CONFIG,
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
    };
    process.env.PULUMI_CONFIG = JSON.stringify({ "dm-switch:passwords": JSON.stringify({ s: secret }) });
    process.env.AWS_SECRET_ACCESS_KEY = secret;
    try {
        const envFile = path.join(path.dirname(fake.script), "env");
        // The stand-in also dumps its environment (one NAME=value a line).
        fs.appendFileSync(fake.script, `env > ${envFile}\n`);
        await createDmClient({ transport: "dmctl", address: "127.0.0.1:8261", dmctlPath: fake.script }).pauseTask(
            "t1",
            ["s"],
        );
        const env = fs.readFileSync(envFile, "utf8");
        assert.doesNotMatch(env, new RegExp(secret));
        const names = env
            .split("\n")
            .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
            .map((l) => l.slice(0, l.indexOf("=")));
        // What the shell sets itself (PWD, SHLVL, _) besides what dm-switch passes.
        const allowed = new Set(["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "PWD", "OLDPWD", "SHLVL", "_"]);
        assert.deepEqual(
            names.filter((n) => !allowed.has(n)),
            [],
        );
        assert.ok(names.includes("PATH"), env);
    } finally {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        fake.cleanup();
    }
});

const dmctlErrors: { name: string; reply: unknown; run: (c: DmClient) => Promise<unknown>; message: string }[] = [
    {
        name: "result false with exit 0",
        reply: recorded.dmctlPauseUnknown,
        run: (c) => c.pauseTask("nope"),
        message:
            "pause-task nope failed: task nope has no source or not exist, please check the task name and status. Check the task and source names (dmctl query-status, operate-source show).",
    },
    {
        name: "a source's result false",
        reply: { op: "Stop", result: true, msg: "", sources: [{ result: false, msg: "worker\nbusy", source: "s1" }] },
        run: (c) => c.stopTask("t"),
        message:
            "stop-task t failed: source s1: worker busy. See dm-master's log for stop-task, fix the cause, and retry.",
    },
];
for (const c of dmctlErrors) {
    test(`dmctl: fails on ${c.name}`, async () => {
        const fake = fakeDmctl(c.reply);
        try {
            await assert.rejects(
                c.run(createDmClient({ transport: "dmctl", address: "127.0.0.1:8261", dmctlPath: fake.script })),
                { name: "DmError", message: c.message },
            );
        } finally {
            fake.cleanup();
        }
    });
}

test("dmctl: reports an offline worker as an Offline subtask, not a failure", async () => {
    const fake = fakeDmctl(recorded.dmctlQueryStatusOffline);
    try {
        const [s] = await createDmClient({
            transport: "dmctl",
            address: "127.0.0.1:8261",
            dmctlPath: fake.script,
        }).taskStatus("task-s1", "mariadb-01");
        assert.equal(s.stage, "Offline");
        assert.match(fake.log(), /^ARGV --master-addr 127\.0\.0\.1:8261 query-status task-s1 -s mariadb-01$/m);
    } finally {
        fake.cleanup();
    }
});

function scripted(stages: string[][]): DmClient {
    let round = 0;
    const status = (task: string, stage: string): SubtaskStatus => ({
        task,
        source: "src",
        worker: "w",
        stage: stage as never,
        rawStage: stage,
        unit: "Sync",
        syncerBinlogGtid: "",
        masterBinlogGtid: "",
        errors: [],
    });
    return {
        taskStatus: async (task: string) => {
            const i = Number(task.slice(1));
            const s = stages[Math.min(Math.floor(round++ / stages[0].length), stages.length - 1)][i];
            return [status(task, s)];
        },
    } as unknown as DmClient;
}

test("waits until every task reaches the stage", async () => {
    const c = scripted([
        ["Running", "Pausing"],
        ["Paused", "Pausing"],
        ["Paused", "Paused"],
    ]);
    const got = await waitForStage(c, ["t0", "t1"], "src", ["Paused"], { intervalMs: 1 });
    assert.deepEqual(
        got.map((s) => s.stage),
        ["Paused", "Paused"],
    );
});

test("times out naming the task, the awaited stage and the last stage seen", async () => {
    const c = scripted([["Paused", "Pausing"]]);
    await assert.rejects(
        waitForStage(c, ["t0", "t1"], "src", ["Paused", "Stopped"], { intervalMs: 1, timeoutMs: 20 }),
        (e: unknown) => {
            assert.ok(e instanceof WaitTimeoutError);
            assert.equal(
                e.message,
                "task t1 on source src did not reach stage Paused or Stopped within 20 ms; last stage seen: Pausing. Check the task with query-status and the worker's log, then retry.",
            );
            assert.equal(e.lastSeen?.stage, "Pausing");
            return true;
        },
    );
});

test("a source created from DM's own file goes through dmctl on both transports: POST /sources would reset what it does not carry", async () => {
    const fake = fakeDmctl({
        result: true,
        msg: "",
        sources: [{ result: true, msg: "", source: "mariadb-01", worker: "w1" }],
    });
    const baseFile =
        "source-id: mariadb-01\ncase-sensitive: false\nfrom:\n  host: 10.0.0.1\n  port: 3306\n  user: dm\n  password: '******'\n  session:\n    time_zone: \"+00:00\"\n";
    try {
        const before = requests.length;
        const c = createDmClient({ transport: "openapi", address, dmctlPath: fake.script });
        await c.createSource({
            id: "mariadb-01",
            host: "10.0.0.1",
            port: 3306,
            user: "dm2",
            password: "hunter2-pw",
            flavor: "mariadb",
            enableGtid: true,
            baseFile,
        });
        assert.deepEqual(requests.slice(before), [], "no request to the OpenAPI");
        const log = fake.log();
        assert.match(/^ARGV (.*)$/m.exec(log)![1], /^--master-addr \S+ operate-source create \/.*\/source\.yaml$/);
        assert.match(log, /^MODE 600$/m);
        assert.match(log, /^case-sensitive: false$/m);
        assert.match(log, /^ {2}user: "dm2"\n {2}password: "hunter2-pw"\n {2}session:\n {4}time_zone: "\+00:00"$/m);
    } finally {
        fake.cleanup();
    }
});

test("DM's file of a source is read with get-config source, its password masked even when DM does not mask it", async () => {
    const fake = fakeDmctl({
        result: true,
        msg: "",
        cfg: "source-id: s\nfrom:\n  host: h\n  port: 1\n  user: dm\n  password: hunter2-pw\ncase-sensitive: false\n",
    });
    try {
        const file = await createDmClient({ transport: "openapi", address, dmctlPath: fake.script }).getSourceFile("s");
        assert.equal(
            file,
            "source-id: s\nfrom:\n  host: h\n  port: 1\n  user: dm\n  password: '******'\ncase-sensitive: false\n",
        );
        assert.match(/^ARGV (.*)$/m.exec(fake.log())![1], /^--master-addr \S+ get-config source s$/);
    } finally {
        fake.cleanup();
    }
    const missing = fakeDmctl({
        result: false,
        msg: "[code=38032:class=dm-master:scope=internal:level=high], Message: source not found",
    });
    try {
        assert.equal(
            await createDmClient({
                transport: "dmctl",
                address: "127.0.0.1:8261",
                dmctlPath: missing.script,
            }).getSourceFile("s"),
            undefined,
        );
    } finally {
        missing.cleanup();
    }
});

test("dmctl: stop-relay names the source and the worker", async () => {
    const fake = fakeDmctl({ result: true, msg: "", sources: [{ result: true, msg: "", source: "s", worker: "w1" }] });
    try {
        await createDmClient({ transport: "dmctl", address: "127.0.0.1:8261", dmctlPath: fake.script }).stopRelay(
            "s",
            "w1",
        );
        assert.equal(/^ARGV (.*)$/m.exec(fake.log())![1], "--master-addr 127.0.0.1:8261 stop-relay -s s w1");
    } finally {
        fake.cleanup();
    }
});

/** A dmctl stand-in answering operate-source create with `create` and get-config source with `cfg`. */
function fakeDmctlCreate(create: unknown, cfg: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-test-"));
    fs.writeFileSync(path.join(dir, "create.json"), JSON.stringify(create));
    fs.writeFileSync(path.join(dir, "cfg.json"), JSON.stringify({ result: true, msg: "", cfg }));
    const script = path.join(dir, "dmctl");
    fs.writeFileSync(
        script,
        `#!/bin/sh\ncase "$*" in *get-config*) cat ${dir}/cfg.json ;; *) cat ${dir}/create.json ;; esac\n`,
        { mode: 0o755 },
    );
    return { script, cleanup: () => fs.rmSync(dir, { recursive: true }) };
}

const WORKER_LATE = {
    result: false,
    msg: "[code=38045:class=dm-master:scope=internal:level=medium], Message: fail to get expected result",
};

test("dmctl: operate-source create answered 38045 (no worker confirmed in time) succeeds when DM stored the source as asked", async () => {
    const base = "source-id: s\nfrom:\n  host: 10.0.0.1\n  port: 3306\n  user: dm\n  password: '******'\n";
    const cfg = {
        id: "s",
        host: "10.0.0.2",
        port: 3307,
        user: "dm2",
        password: "hunter2-pw",
        flavor: "mariadb" as const,
        enableGtid: true,
        baseFile: base,
    };
    const stored = fakeDmctlCreate(
        WORKER_LATE,
        "source-id: s\nfrom:\n  host: 10.0.0.2\n  port: 3307\n  user: dm2\n  password: '******'\n",
    );
    try {
        await createDmClient({ transport: "dmctl", address: "127.0.0.1:8261", dmctlPath: stored.script }).createSource(
            cfg,
        );
    } finally {
        stored.cleanup();
    }
    // DM still has the old source: the create did not happen, the error stands.
    const old = fakeDmctlCreate(WORKER_LATE, base);
    try {
        await assert.rejects(
            createDmClient({ transport: "dmctl", address: "127.0.0.1:8261", dmctlPath: old.script }).createSource(cfg),
            {
                name: "DmError",
                message:
                    "operate-source create s failed: [code=38045:class=dm-master:scope=internal:level=medium], Message: fail to get expected result. See dm-master's log for operate-source create, fix the cause, and retry.",
            },
        );
    } finally {
        old.cleanup();
    }
});
