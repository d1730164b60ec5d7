/**
 * The sandbox's one server lifecycle (sandbox/server.ts startServer), which MariaDB, MySQL and TiDB
 * share, driven with a small Node program in place of a database server: another free port when the
 * server reports its port taken, the error of a server that exits or never answers (its log's last
 * lines, no password), SIGKILL after the stop bound, restart on the same port, and a refused restart.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { portOpen } from "../../sandbox/proc";
import { ADMIN, ServerSpec, startServer } from "../../sandbox/server";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-server-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// argv: port, mode, its folder. Each run appends its port to <folder>/runs; its output goes to <folder>/log.
const FAKE = `
const [port, mode, home] = process.argv.slice(1);
const fs = require("node:fs");
const say = (line) => fs.appendFileSync(home + "/log", line + "\\n");
fs.appendFileSync(home + "/runs", port + "\\n");
const runs = fs.readFileSync(home + "/runs", "utf8").trim().split("\\n").length;
if (mode === "takenOnce" && runs === 1) { say("bind on " + port + ": Address already in use"); process.exit(1); }
if (mode === "crash") { say("unknown option --frobnicate"); process.exit(7); }
if (mode === "stubborn") process.on("SIGTERM", () => say("SIGTERM ignored"));
if (mode === "silent") setInterval(() => undefined, 1000);
else require("node:net").createServer().listen(Number(port), "127.0.0.1", () => say("listening on " + port));
`;

let n = 0;
/** A spec for the fake in `<dir>/<name>/`, plus its runs (the ports it was started on) and bootstrap count. */
function fake(mode: string, over: Partial<ServerSpec> = {}) {
    const name = `f${++n}`;
    const home = path.join(dir, name);
    fs.mkdirSync(home);
    const counts = { bootstrap: 0 };
    const spec: ServerSpec = {
        kind: "Fake",
        name,
        serverId: n,
        dataDir: path.join(home, "data"),
        socket: "",
        logFile: path.join(home, "log"),
        prepare: async (port) => ({ command: process.execPath, args: ["-e", FAKE, String(port), mode, home] }),
        bootstrap: async () => void counts.bootstrap++,
        ready: async (port) => {
            if (!(await portOpen(port))) throw new Error("not listening");
        },
        portTaken: /Address already in use/,
        intervalMs: 20,
        stopTimeoutMs: 10_000,
        ...over,
    };
    const runs = () => fs.readFileSync(path.join(home, "runs"), "utf8").trim().split("\n").map(Number);
    return { spec, runs, counts };
}

test("a server that reports its free port taken is started again on another one", async () => {
    const lines: string[] = [];
    const f = fake("takenOnce", { log: (l) => lines.push(l) });
    const inst = await startServer(f.spec);
    try {
        const [first, second] = f.runs();
        assert.equal(f.runs().length, 2);
        assert.notEqual(second, first);
        assert.equal(inst.port, second);
        assert.equal(await portOpen(inst.port), true);
        assert.match(lines[0], new RegExp(`^fake ${f.spec.name}: ready on 127\\.0\\.0\\.1:${second} in \\d+ ms$`));
    } finally {
        await inst.kill();
    }
});

test("a port the caller fixed is not changed: the start fails with the server's log", async () => {
    const f = fake("takenOnce", { port: 1 });
    await assert.rejects(startServer(f.spec), {
        message: `Fake ${f.spec.name} did not start on 127.0.0.1:1 (exit 1; last attempt: not listening). Last lines of ${f.spec.logFile}:\nbind on 1: Address already in use`,
    });
    assert.deepEqual(f.runs(), [1]);
});

test("a server that exits while starting is reported with its exit code and last log lines, and not retried", async () => {
    const f = fake("crash");
    const err: Error = await startServer(f.spec).then(
        () => assert.fail("started"),
        (e: Error) => e,
    );
    const port = f.runs()[0];
    assert.equal(
        err.message,
        `Fake ${f.spec.name} did not start on 127.0.0.1:${port} (exit 7; last attempt: not listening). Last lines of ${f.spec.logFile}:\nunknown option --frobnicate`,
    );
    assert.equal(f.runs().length, 1);
});

test("a server that never answers is killed after startTimeoutMs; the password never appears in the error", async () => {
    const f = fake("silent", {
        startTimeoutMs: 300,
        ready: async () => {
            throw new Error(`Access denied (using password ${ADMIN.password})`);
        },
    });
    const port = await startServer(f.spec).then(
        () => assert.fail("started"),
        (e: Error) => {
            assert.equal(
                e.message,
                `Fake ${f.spec.name} did not start on 127.0.0.1:${f.runs()[0]} (exit SIGKILL; last attempt: Access denied (using password ***)). Last lines of ${f.spec.logFile}:\n`,
            );
            return f.runs()[0];
        },
    );
    assert.equal(f.runs().length, 1);
    assert.equal(await portOpen(port), false);
});

test("stop() sends SIGTERM, then SIGKILL after stopTimeoutMs, and reports the kill", async () => {
    const f = fake("stubborn", { stopTimeoutMs: 300 });
    const inst = await startServer(f.spec);
    await assert.rejects(inst.stop(), {
        message: `Fake ${f.spec.name} did not shut down within 0.3 s and was killed; see ${f.spec.logFile}.`,
    });
    assert.match(fs.readFileSync(f.spec.logFile, "utf8"), /SIGTERM ignored/);
    assert.equal(await portOpen(inst.port), false);
    await inst.stop(); // stopped already: a no-op
});

test("stop() then start() serves again on the same port without a second bootstrap; kill() ends it", async () => {
    const lines: string[] = [];
    const f = fake("ok", { log: (l) => lines.push(l) });
    const inst = await startServer(f.spec);
    const port = inst.port;
    await assert.rejects(inst.start(), {
        message: new RegExp(`^Fake ${f.spec.name} is running already \\(pid \\d+\\); stop\\(\\) it first\\.$`),
    });
    await inst.stop();
    assert.equal(await portOpen(port), false);
    await inst.start();
    assert.equal(inst.port, port);
    assert.equal(await portOpen(port), true);
    assert.deepEqual(f.runs(), [port, port]);
    assert.equal(f.counts.bootstrap, 1);
    await inst.kill();
    assert.equal(await portOpen(port), false);
    assert.deepEqual(
        lines.map((l) => l.replace(/\d+ ms/, "N ms")),
        [
            `fake ${f.spec.name}: ready on 127.0.0.1:${port} in N ms`,
            `fake ${f.spec.name}: stopped in N ms`,
            `fake ${f.spec.name}: ready on 127.0.0.1:${port} in N ms`,
            `fake ${f.spec.name}: killed`,
        ],
    );
});

test("a server that cannot restart says why, and start() changes nothing", async () => {
    const f = fake("ok", { noRestart: "keeps nothing across a restart; start a new one instead." });
    const inst = await startServer(f.spec);
    await inst.stop();
    await assert.rejects(inst.start(), {
        message: `Fake ${f.spec.name} keeps nothing across a restart; start a new one instead.`,
    });
    assert.equal(f.runs().length, 1);
});

test("a program that cannot be spawned is a start error naming it, not an uncaught error event", async () => {
    const f = fake("ok", {
        port: 1,
        prepare: async () => ({ command: path.join(dir, "no-such-server"), args: [] }),
    });
    await assert.rejects(startServer(f.spec), {
        message: `Fake ${f.spec.name} did not start on 127.0.0.1:1 (exit spawn ${path.join(dir, "no-such-server")} ENOENT; last attempt: not listening). Last lines of ${f.spec.logFile}:\n`,
    });
});
