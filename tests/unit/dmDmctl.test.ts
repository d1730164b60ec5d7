/**
 * The DM client through dmctl, against dmctl stand-ins printing recorded answers: the password only in a
 * private 0600 file, a minimal environment, errors in one line, and the calls that go through dmctl on
 * both transports (a source created from DM's own file, get-config source).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { createDmClient, DmClient } from "../../components/dm";
import { recorded } from "../support/recorded";
import { DmMasterStandIn, fakeDmctl, fakeDmctlCreate, startDmMaster } from "../support/dmStandIns";

// An OpenAPI dm-master answering 404 to everything: the calls that go through dmctl on both transports must not reach it.
let dm: DmMasterStandIn;
let address = "";
before(async () => {
    dm = await startDmMaster(() => [404]);
    address = dm.addr;
});
after(() => dm.close());

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

test("a source created from DM's own file goes through dmctl on both transports: POST /sources would reset what it does not carry", async () => {
    const fake = fakeDmctl({
        result: true,
        msg: "",
        sources: [{ result: true, msg: "", source: "mariadb-01", worker: "w1" }],
    });
    const baseFile =
        "source-id: mariadb-01\ncase-sensitive: false\nfrom:\n  host: 10.0.0.1\n  port: 3306\n  user: dm\n  password: '******'\n  session:\n    time_zone: \"+00:00\"\n";
    try {
        const before = dm.requests.length;
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
        assert.deepEqual(dm.requests.slice(before), [], "no request to the OpenAPI");
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
