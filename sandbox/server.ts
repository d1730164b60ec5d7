/**
 * What the sandbox's database servers (sandbox/mariadb.ts, sandbox/mysql.ts, sandbox/tidb.ts) share:
 * the accounts, SQL over loopback, the instance folder, the cached template data directory, and
 * {@link startServer}, the one process lifecycle: spawn on a free port (another one when the server
 * reports it taken), wait until it answers, stop with SIGTERM then SIGKILL after a bound, and report the
 * last lines of its log when it fails. Each launcher only says how its server is configured and set up.
 *
 * Passwords: {@link ADMIN} and {@link REPL} get random passwords per process; they travel only inside
 * SQL over loopback, never in a configuration file, an argument or an environment.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Connection, ConnectionOptions } from "mysql2/promise";
import { pollUntil } from "../components/util/poll";
import { cacheDir } from "../tools/env";
import { queryAndClose } from "./sql";

/** One running (or stopped) database server of the sandbox: MariaDB, MySQL or TiDB. */
export interface MariadbInstance {
    name: string;
    host: "127.0.0.1";
    port: number;
    serverId: number;
    /** The server's data directory: `<dir>/<name>/data`. */
    dataDir: string;
    /** The Unix socket (root may log in there through `unix_socket` authentication); "" for TiDB. */
    socket: string;
    /** The server's error log: read it when something went wrong. */
    logFile: string;
    /** Runs one statement as {@link ADMIN} over TCP (a new connection each time); `[]` for statements without rows. */
    query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
    /** Graceful shutdown (SIGTERM); resolves when the process has exited. A no-op when it is not running. */
    stop(): Promise<void>;
    /** SIGKILL, as a crash would; resolves when the process has exited. */
    kill(): Promise<void>;
    /** Starts the server again on the same data directory and port; resolves when it answers `SELECT 1`. */
    start(): Promise<void>;
}

const randomPassword = () => crypto.randomBytes(18).toString("base64url");

/** The administrative account on every instance: all privileges, usable as the DM user. Created with `sql_log_bin=0`. */
export const ADMIN: { user: string; password: string } = { user: "dmswitch_admin", password: randomPassword() };

/** The account replicas connect with (REPLICATION SLAVE only). */
export const REPL: { user: string; password: string } = { user: "dmswitch_repl", password: randomPassword() };

/** The servers run as root when this process does (mysqld refuses to unless told `user=root`). */
export const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** A TCP port free on 127.0.0.1 right now (another process may take it before you bind it). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.on("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

/** Runs a command to its end; its stdout and stderr together. */
export function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, output }));
    });
}

export function lastLines(text: string, n: number): string {
    return text.trimEnd().split("\n").slice(-n).join("\n");
}

export async function connect(o: ConnectionOptions): Promise<Connection> {
    const mysql = await import("mysql2/promise");
    return mysql.createConnection({ connectTimeout: 2000, supportBigNumbers: true, dateStrings: true, ...o });
}

export async function queryOnce(
    o: ConnectionOptions,
    sql: string,
    params?: unknown[],
): Promise<Record<string, unknown>[]> {
    return queryAndClose(await connect(o), sql, params);
}

/**
 * First start of MariaDB or MySQL: ADMIN and REPL, made without binary logging so that they leave no
 * GTID behind, then `lockRoot` (root keeps the Unix socket only, or no login at all).
 */
export async function createAccounts(root: ConnectionOptions, lockRoot: string): Promise<void> {
    const conn = await connect(root);
    try {
        await conn.query("SET SESSION sql_log_bin = 0");
        await conn.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [ADMIN.user, ADMIN.password]);
        await conn.query("GRANT ALL PRIVILEGES ON *.* TO ?@'127.0.0.1' WITH GRANT OPTION", [ADMIN.user]);
        await conn.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [REPL.user, REPL.password]);
        await conn.query("GRANT REPLICATION SLAVE ON *.* TO ?@'127.0.0.1'", [REPL.user]);
        await conn.query(lockRoot);
    } finally {
        await conn.end().catch(() => conn.destroy());
    }
}

/** ADMIN over TCP on `port`. */
export const adminOn = (port: number) => ({ host: "127.0.0.1", port, user: ADMIN.user, password: ADMIN.password });

/**
 * The template data directory `<cacheDir>/<key>/data`, made once by `build(tmpDataDir)` in a temporary
 * folder and renamed into place (another process building it at the same time wins, harmlessly).
 * `marker` is a file inside the data directory that exists once it is complete.
 */
export async function cachedTemplate(
    key: string,
    marker: string,
    build: (dataDir: string) => Promise<void>,
): Promise<string> {
    const final = path.join(cacheDir(), key);
    if (fs.existsSync(path.join(final, "data", marker))) return path.join(final, "data");
    fs.mkdirSync(cacheDir(), { recursive: true });
    const tmp = fs.mkdtempSync(`${final}.tmp-`);
    try {
        await build(path.join(tmp, "data"));
    } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw e;
    }
    try {
        fs.renameSync(tmp, final);
    } catch {
        fs.rmSync(tmp, { recursive: true, force: true }); // another process built it first
    }
    return path.join(final, "data");
}

export const sha12 = (text: string) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 12);

/** Where one MariaDB or MySQL instance lives: `<dir>/<name>/`. */
export interface ServerHome {
    dataDir: string;
    socket: string;
    logFile: string;
    pidFile: string;
    /** Its `my.cnf`. */
    cnf: string;
}

/**
 * Checks `name` and `serverId` (errors start with `fn`), makes `<dir>/<name>/` (0700) and its data
 * directory as a copy of `template`'s. A data directory already there is refused: each instance is new.
 */
export async function newServerHome(
    fn: string,
    o: { dir: string; name: string; serverId: number },
    template: () => Promise<string>,
): Promise<ServerHome> {
    if (!/^[A-Za-z0-9_.-]+$/.test(o.name))
        throw new TypeError(`${fn}: name "${o.name}" must be letters, digits, "_", "." or "-".`);
    if (!Number.isInteger(o.serverId) || o.serverId < 1)
        throw new TypeError(`${fn} ${o.name}: serverId ${o.serverId} must be a positive integer.`);
    const home = path.resolve(o.dir, o.name);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const dataDir = path.join(home, "data");
    if (fs.existsSync(dataDir))
        throw new Error(`${fn} ${o.name}: ${dataDir} exists already; give each instance a new name or folder.`);
    await fs.promises.cp(await template(), dataDir, { recursive: true });
    fs.chmodSync(dataDir, 0o700);
    const prefix = fn.replace(/^start/, "").toLowerCase();
    // Unix socket paths are limited to 107 bytes: fall back to the system temporary folder.
    let socket = path.join(home, "mysqld.sock");
    if (Buffer.byteLength(socket) > 100)
        socket = path.join(os.tmpdir(), `${prefix}-${o.name}-${crypto.randomBytes(4).toString("hex")}.sock`);
    const [logFile, pidFile, cnf] = ["error.log", "mysqld.pid", "my.cnf"].map((f) => path.join(home, f));
    return { dataDir, socket, logFile, pidFile, cnf };
}

/**
 * The `[mysqld]` lines MariaDB and MySQL share: the instance's files, loopback only, its ids, and the
 * replication settings DM needs (ROW binlog, full row images, replicas writing their own binlog).
 */
export function commonServerConfig(h: ServerHome, port: number, serverId: number): string[] {
    return [
        "[mysqld]",
        ...(asRoot ? ["user=root"] : []),
        `datadir=${h.dataDir}`,
        `port=${port}`,
        "bind-address=127.0.0.1",
        `socket=${h.socket}`,
        `pid-file=${h.pidFile}`,
        `log-error=${h.logFile}`,
        // A test server: durability traded for speed (a SIGKILL of the server still loses nothing committed).
        // max-connections: each DM task holds ~15 connections to the downstream (its syncer workers): 50 tasks need ~750.
        ...`report-host=127.0.0.1 report-port=${port} server-id=${serverId} skip-name-resolve log-bin=binlog
            relay-log=relay-bin binlog-format=ROW binlog-row-image=FULL character-set-server=utf8mb4
            collation-server=utf8mb4_general_ci innodb-flush-log-at-trx-commit=2 sync-binlog=0
            max-connections=2000`.split(/\s+/),
    ];
}

/** How one server process is run; see {@link startServer}. */
export interface ServerSpec {
    /** "MariaDB", "MySQL", "TiDB": the first word of its errors; lower-cased, of its log lines. */
    kind: string;
    name: string;
    serverId: number;
    dataDir: string;
    socket: string;
    /** The server's own log: its last lines (written since the start) explain a failed start. */
    logFile: string;
    /** TCP port on 127.0.0.1. @default a free port, another one when the server reports it taken ({@link portTaken}) */
    port?: number;
    /** Before each start: writes what the start on `port` needs (its configuration), returns the command. */
    prepare(port: number): Promise<{ command: string; args: string[]; cwd?: string }>;
    /** On the first start, once the server accepts it: makes the accounts (tried again until it succeeds once). */
    bootstrap(port: number): Promise<void>;
    /** Throws until the server serves. @default `SELECT 1` as ADMIN over TCP */
    ready?(port: number): Promise<unknown>;
    /** Matches the log's last lines when the port was taken between freePort() and the bind. @default never */
    portTaken?: RegExp;
    /** Pause between two attempts to reach the starting server. */
    intervalMs: number;
    /** How long to wait for the server to be ready. @default 60000 */
    startTimeoutMs?: number;
    /** Bound between SIGTERM and SIGKILL on stop(); a kill is reported as an error. */
    stopTimeoutMs: number;
    /** Runs before SIGTERM on stop() (its failure is ignored). @default undefined */
    beforeStop?(port: number): Promise<void>;
    /** Runs once the process exists (TiDB has no pid file of its own). @default undefined */
    onSpawn?(pid: number): void;
    /** Why start() after a stop is refused. @default undefined (start() restarts it on the same data and port) */
    noRestart?: string;
    /** Said after the port in the "ready" line, for example " (server_id 2)". @default "" */
    readyNote?: string;
    /** Leave the server running when this Node process exits (otherwise it is killed). @default false */
    keepOnExit?: boolean;
    /** Receives one line per lifecycle event (ready, stop, kill) with timings. @default no output */
    log?: (line: string) => void;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
});

/**
 * Starts the server described by `spec` and resolves once it is ready (answers `SELECT 1` as ADMIN).
 * When it exits or is not ready within `startTimeoutMs` (it is then killed), throws with the last 20
 * lines of its log; when its free port was taken first, starts it on another one (three attempts in all).
 */
export async function startServer(spec: ServerSpec): Promise<MariadbInstance> {
    const log = spec.log ?? (() => undefined);
    const lower = spec.kind.toLowerCase();
    let port = spec.port ?? (await freePort());
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let initialized = false;
    const answers = spec.ready ?? ((p: number) => queryOnce(adminOn(p), "SELECT 1"));

    const launch = async (): Promise<void> => {
        if (child) throw new Error(`${spec.kind} ${spec.name} is running already (pid ${child.pid}); stop() it first.`);
        const cmd = await spec.prepare(port);
        const logStart = fs.existsSync(spec.logFile) ? fs.statSync(spec.logFile).size : 0;
        const t = Date.now();
        const c = spawn(cmd.command, cmd.args, { stdio: ["ignore", "ignore", "pipe"], cwd: cmd.cwd });
        let stderr = "";
        c.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-8000)));
        let exitCode: number | string | null | undefined;
        const gone = new AbortController();
        exited = new Promise((resolve) => {
            const end = (how: number | string | null) => {
                exitCode ??= how;
                live.delete(c);
                if (child === c) child = undefined;
                gone.abort();
                resolve();
            };
            c.once("exit", (code, sig) => end(code ?? sig));
            c.once("error", (e) => end(e.message)); // could not be spawned: no exit event follows
        });
        child = c;
        if (c.pid !== undefined) spec.onSpawn?.(c.pid);
        if (!spec.keepOnExit) live.add(c);
        let lastError = "";
        const up = await pollUntil(
            async () => {
                try {
                    if (!initialized) {
                        await spec.bootstrap(port);
                        initialized = true;
                    }
                    await answers(port);
                    return true;
                } catch (e) {
                    lastError = (e as Error).message;
                    return undefined;
                }
            },
            { intervalMs: spec.intervalMs, timeoutMs: spec.startTimeoutMs ?? 60000, signal: gone.signal },
        );
        if (up) {
            log(`${lower} ${spec.name}: ready on 127.0.0.1:${port}${spec.readyNote ?? ""} in ${Date.now() - t} ms`);
            return;
        }
        if (exitCode === undefined) {
            c.kill("SIGKILL");
            await exited;
        }
        const text = fs.existsSync(spec.logFile) ? fs.readFileSync(spec.logFile).subarray(logStart).toString() : "";
        const tail = lastLines(`${text}\n${stderr}`, 20);
        const err = new Error(
            `${spec.kind} ${spec.name} did not start on 127.0.0.1:${port} (exit ${String(exitCode)}; last attempt: ${lastError.replaceAll(ADMIN.password, "***")}). Last lines of ${spec.logFile}:\n${tail}`,
        );
        throw Object.assign(err, { portTaken: spec.portTaken?.test(tail) ?? false });
    };

    const inst: MariadbInstance = {
        name: spec.name,
        host: "127.0.0.1",
        get port() {
            return port;
        },
        serverId: spec.serverId,
        dataDir: spec.dataDir,
        socket: spec.socket,
        logFile: spec.logFile,
        query: (sql, params) => queryOnce(adminOn(port), sql, params),
        async start() {
            if (spec.noRestart) throw new Error(`${spec.kind} ${spec.name} ${spec.noRestart}`);
            await launch();
        },
        async stop() {
            if (!child) return;
            const t = Date.now();
            const c = child;
            await spec.beforeStop?.(port).catch(() => undefined);
            c.kill("SIGTERM");
            const timer = setTimeout(() => c.kill("SIGKILL"), spec.stopTimeoutMs); // a hung shutdown is killed, and reported
            await exited;
            clearTimeout(timer);
            if (c.signalCode === "SIGKILL")
                throw new Error(
                    `${spec.kind} ${spec.name} did not shut down within ${spec.stopTimeoutMs / 1000} s and was killed; see ${spec.logFile}.`,
                );
            log(`${lower} ${spec.name}: stopped in ${Date.now() - t} ms`);
        },
        async kill() {
            if (!child) return;
            child.kill("SIGKILL");
            await exited;
            log(`${lower} ${spec.name}: killed`);
        },
    };

    for (let attempt = 1; ; attempt++) {
        try {
            await launch();
            return inst;
        } catch (e) {
            // The free port was taken between freePort() and the server's bind: try another one.
            if (spec.port === undefined && attempt < 3 && (e as { portTaken?: boolean }).portTaken) {
                port = await freePort();
                continue;
            }
            throw e;
        }
    }
}
