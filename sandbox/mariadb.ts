/**
 * Starts throw-away MariaDB servers for the sandbox, the demo and the tests: loopback only, free
 * ports, data under a folder the caller owns, GTID replication set up the way DM needs it
 * (ROW binlog, `log_slave_updates`, `gtid_strict_mode`, `binlog_row_image=FULL`).
 *
 * Fast: `mariadb-install-db` (≈ 2.5 s) runs once per MariaDB version into a template data directory
 * cached under `cacheDir()`; each instance copies it (≈ 30 ms) and starts in a few hundred ms.
 *
 * Passwords: {@link ADMIN} and the replication user get random passwords per process; they travel only
 * inside SQL over loopback. The replica keeps its replication password in `master.info` in its data
 * directory (MariaDB has nowhere else to keep it): the data directory is mode 0700 and lives in the
 * caller's temporary folder.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Connection, ConnectionOptions } from "mysql2/promise";
import { cacheDir } from "../tools/env";

/** One running (or stopped) MariaDB server started by {@link startMariadb}. */
export interface MariadbInstance {
    name: string;
    host: "127.0.0.1";
    port: number;
    serverId: number;
    /** The server's data directory: `<dir>/<name>/data`. */
    dataDir: string;
    /** The Unix socket (root may log in there through `unix_socket` authentication). */
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

/** The administrative account on every instance: all privileges, usable as the DM user. Created with `sql_log_bin=0`. */
export const ADMIN: { user: string; password: string } = { user: "dmswitch_admin", password: randomPassword() };

/** The account replicas connect with (REPLICATION SLAVE only); sandbox/mysql.ts creates it too. */
export const REPL: { user: string; password: string } = { user: "dmswitch_repl", password: randomPassword() };

/** Options of {@link startMariadb}. */
export interface StartMariadbOptions {
    /** A folder the caller owns and removes; the instance lives in `<dir>/<name>/`. */
    dir: string;
    /** The instance's name (a file-name-safe word): its folder, and the prefix of error messages. */
    name: string;
    /** `server_id`: unique within the replication set, non-zero. */
    serverId: number;
    /** TCP port on 127.0.0.1. @default a free port (retried when another process takes it first) */
    port?: number;
    /** `gtid_domain_id`. @default 0 */
    gtidDomainId?: number;
    /** Receives one line per lifecycle event (start, ready, stop) with timings. */
    log?: (line: string) => void;
    /** Extra `my.cnf` lines for the `[mysqld]` group, for example `"read_only=ON"`. */
    extraConfig?: string[];
    /** How long to wait for the server to answer. @default 60000 */
    startTimeoutMs?: number;
    /** Leave the server running when this Node process exits (otherwise it is killed). @default false */
    keepOnExit?: boolean;
    /**
     * TLS for clients: paths of the server's `ssl-ca`, `ssl-cert`, `ssl-key` (sandbox/tls.ts `generateTls`
     * makes them; its `dmFiles` certificate holds 127.0.0.1 and localhost). Clients may still connect
     * without TLS unless their account requires it. @default undefined (no TLS)
     */
    tls?: { ca: string; cert: string; key: string };
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
});

function randomPassword(): string {
    return crypto.randomBytes(18).toString("base64url");
}

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

/** Finds a MariaDB program: `MARIADB_BIN_DIR`, then PATH, then the Debian locations. */
function program(name: string): string {
    const dirs = [process.env.MARIADB_BIN_DIR, ...`${process.env.PATH ?? ""}:/usr/sbin:/usr/bin`.split(":")];
    const found = dirs.find((d) => d && fs.existsSync(path.join(d, name)));
    if (found) return path.join(found, name);
    throw new Error(
        `${name} not found on PATH, /usr/sbin or /usr/bin: run \`npm run setup\` (installs mariadb-server) or set MARIADB_BIN_DIR.`,
    );
}

export const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
/** InnoDB sizes shared by the template and the servers, so that no server resizes its redo log at start. */
const INNODB = ["--innodb-log-file-size=32M", "--innodb-buffer-pool-size=64M"];

let template: Promise<string> | undefined;

/** The template data directory, built once per MariaDB version and cached (atomically renamed into place). */
function templateDataDir(): Promise<string> {
    template ??= (async () => {
        const mariadbd = program("mariadbd");
        const version = spawnSync(mariadbd, ["--version"], { encoding: "utf8" }).stdout.trim();
        const installArgs =
            "--no-defaults --skip-test-db --skip-name-resolve --auth-root-authentication-method=normal".split(" ");
        installArgs.push(...INNODB);
        const key = sha12(`${version}\n${installArgs.join(" ")}`);
        const final = path.join(cacheDir(), `mariadb-template-${key}`);
        if (fs.existsSync(path.join(final, "data", "mysql"))) return path.join(final, "data");
        fs.mkdirSync(cacheDir(), { recursive: true });
        const tmp = fs.mkdtempSync(`${final}.tmp-`);
        // Only root@localhost (no password, reachable through the socket only) survives; the first start replaces it.
        const sql = path.join(tmp, "extra.sql");
        fs.writeFileSync(
            sql,
            "DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys' AND NOT (User = 'root' AND Host = 'localhost');\n" +
                "DELETE FROM mysql.proxies_priv WHERE NOT (User = 'root' AND Host = 'localhost');\n",
        );
        const args = [...installArgs, `--datadir=${path.join(tmp, "data")}`, `--extra-file=${sql}`];
        if (asRoot) args.push("--user=root");
        const r = await run(program("mariadb-install-db"), args);
        if (r.code !== 0) {
            fs.rmSync(tmp, { recursive: true, force: true });
            throw new Error(`mariadb-install-db failed (exit ${r.code}): ${lastLines(r.output, 20)}`);
        }
        fs.rmSync(sql);
        try {
            fs.renameSync(tmp, final);
        } catch {
            fs.rmSync(tmp, { recursive: true, force: true }); // another process built it first
        }
        return path.join(final, "data");
    })();
    template.catch(() => (template = undefined));
    return template;
}

const sha12 = (text: string) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 12);

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function connect(o: ConnectionOptions): Promise<Connection> {
    const mysql = await import("mysql2/promise");
    return mysql.createConnection({ connectTimeout: 2000, supportBigNumbers: true, dateStrings: true, ...o });
}

export async function queryOnce(
    o: ConnectionOptions,
    sql: string,
    params?: unknown[],
): Promise<Record<string, unknown>[]> {
    const conn = await connect(o);
    try {
        const [rows] = await conn.query(sql, params);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
        await conn.end().catch(() => conn.destroy());
    }
}

function config(
    o: StartMariadbOptions,
    inst: { port: number; dataDir: string; socket: string; logFile: string; pidFile: string },
): string {
    return [
        "# Written by sandbox/mariadb.ts; no password here.",
        "[mysqld]",
        ...(asRoot ? ["user=root"] : []),
        `datadir=${inst.dataDir}`,
        `port=${inst.port}`,
        "bind-address=127.0.0.1",
        `socket=${inst.socket}`,
        `pid-file=${inst.pidFile}`,
        `log-error=${inst.logFile}`,
        ...INNODB.map((a) => a.slice(2)),
        // A test server: durability traded for speed (a SIGKILL of mariadbd still loses nothing committed).
        // max-connections: each DM task holds ~15 connections to the downstream (its syncer workers): 50 tasks need ~750.
        ...`report-host=127.0.0.1 report-port=${inst.port} server-id=${o.serverId} gtid-domain-id=${o.gtidDomainId ?? 0}
            skip-name-resolve log-bin=binlog relay-log=relay-bin binlog-format=ROW binlog-row-image=FULL
            log-slave-updates=ON gtid-strict-mode=ON character-set-server=utf8mb4 collation-server=utf8mb4_general_ci
            innodb-flush-log-at-trx-commit=2 sync-binlog=0 max-connections=2000`.split(/\s+/),
        ...(o.tls ? [`ssl-ca=${o.tls.ca}`, `ssl-cert=${o.tls.cert}`, `ssl-key=${o.tls.key}`] : []),
        ...(o.extraConfig ?? []),
        "",
    ].join("\n");
}

/**
 * Starts a MariaDB server named `o.name` in `<o.dir>/<o.name>/` and resolves once it answers
 * `SELECT 1` over TCP as {@link ADMIN}. On first start it creates ADMIN and the replication user
 * with `sql_log_bin=0` (no GTID of its own) and limits root to the Unix socket (`unix_socket`).
 * Throws, with the last 20 lines of the error log, when the server cannot start.
 */
export async function startMariadb(o: StartMariadbOptions): Promise<MariadbInstance> {
    if (!/^[A-Za-z0-9_.-]+$/.test(o.name))
        throw new TypeError(`startMariadb: name "${o.name}" must be letters, digits, "_", "." or "-".`);
    if (!Number.isInteger(o.serverId) || o.serverId < 1)
        throw new TypeError(`startMariadb ${o.name}: serverId ${o.serverId} must be a positive integer.`);
    const log = o.log ?? (() => undefined);
    const t0 = Date.now();
    const home = path.resolve(o.dir, o.name);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const dataDir = path.join(home, "data");
    if (fs.existsSync(dataDir))
        throw new Error(`startMariadb ${o.name}: ${dataDir} exists already; give each instance a new name or folder.`);
    const templ = await templateDataDir();
    await fs.promises.cp(templ, dataDir, { recursive: true });
    fs.chmodSync(dataDir, 0o700);
    // Unix socket paths are limited to 107 bytes: fall back to the system temporary folder.
    let socket = path.join(home, "mysqld.sock");
    if (Buffer.byteLength(socket) > 100)
        socket = path.join(os.tmpdir(), `mariadb-${o.name}-${crypto.randomBytes(4).toString("hex")}.sock`);
    const [logFile, pidFile, cnf] = ["error.log", "mysqld.pid", "my.cnf"].map((f) => path.join(home, f));
    let port = o.port ?? (await freePort());
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let initialized = false;
    const admin = () => ({ host: "127.0.0.1", port, user: ADMIN.user, password: ADMIN.password });

    const launch = async (): Promise<void> => {
        if (child) throw new Error(`MariaDB ${o.name} is running already (pid ${child.pid}); stop() it first.`);
        fs.writeFileSync(cnf, config(o, { port, dataDir, socket, logFile, pidFile }));
        const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
        const t = Date.now();
        const c = spawn(program("mariadbd"), [`--defaults-file=${cnf}`], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        c.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-8000)));
        let exitCode: number | string | null | undefined;
        exited = new Promise((resolve) =>
            c.once("exit", (code, sig) => ((exitCode = code ?? sig), live.delete(c), (child = undefined), resolve())),
        );
        child = c;
        if (!o.keepOnExit) live.add(c);
        const deadline = t + (o.startTimeoutMs ?? 60000);
        let lastError = "";
        while (exitCode === undefined) {
            try {
                if (!initialized) {
                    await bootstrap({ socketPath: socket, user: "root" });
                    initialized = true;
                }
                await queryOnce(admin(), "SELECT 1");
                log(`mariadb ${o.name}: ready on 127.0.0.1:${port} (server_id ${o.serverId}) in ${Date.now() - t} ms`);
                return;
            } catch (e) {
                lastError = (e as Error).message;
            }
            if (Date.now() > deadline) {
                c.kill("SIGKILL");
                await exited;
                break;
            }
            await sleep(40);
        }
        const text = fs.existsSync(logFile) ? fs.readFileSync(logFile).subarray(logStart).toString() : "";
        const tail = lastLines(`${text}\n${stderr}`, 20);
        const err = new Error(
            `MariaDB ${o.name} did not start on 127.0.0.1:${port} (exit ${String(exitCode)}; last attempt: ${lastError.replaceAll(ADMIN.password, "***")}). Last lines of ${logFile}:\n${tail}`,
        );
        (err as Error & { portInUse?: boolean }).portInUse = /Address already in use/.test(tail);
        throw err;
    };

    const inst: MariadbInstance = {
        name: o.name,
        host: "127.0.0.1",
        get port() {
            return port;
        },
        serverId: o.serverId,
        dataDir,
        socket,
        logFile,
        query: (sql, params) => queryOnce(admin(), sql, params),
        start: launch,
        async stop() {
            if (!child) return;
            const t = Date.now();
            const c = child;
            c.kill("SIGTERM");
            const timer = setTimeout(() => c.kill("SIGKILL"), 60000); // a hung shutdown is killed, and reported
            await exited;
            clearTimeout(timer);
            if (c.signalCode === "SIGKILL")
                throw new Error(`MariaDB ${o.name} did not shut down within 60 s and was killed; see ${logFile}.`);
            log(`mariadb ${o.name}: stopped in ${Date.now() - t} ms`);
        },
        async kill() {
            if (!child) return;
            child.kill("SIGKILL");
            await exited;
            log(`mariadb ${o.name}: killed`);
        },
    };

    for (let attempt = 1; ; attempt++) {
        try {
            await launch();
            break;
        } catch (e) {
            // The free port was taken between freePort() and the server's bind: try another one.
            if (o.port === undefined && attempt < 3 && (e as { portInUse?: boolean }).portInUse) {
                port = await freePort();
                continue;
            }
            throw e;
        }
    }
    log(`mariadb ${o.name}: started in ${Date.now() - t0} ms (data ${dataDir})`);
    return inst;
}

/** First start: the accounts, without binary logging so that they leave no GTID behind. */
async function bootstrap(root: ConnectionOptions): Promise<void> {
    const conn = await connect(root);
    try {
        await conn.query("SET SESSION sql_log_bin = 0");
        await conn.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [ADMIN.user, ADMIN.password]);
        await conn.query("GRANT ALL PRIVILEGES ON *.* TO ?@'127.0.0.1' WITH GRANT OPTION", [ADMIN.user]);
        await conn.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [REPL.user, REPL.password]);
        await conn.query("GRANT REPLICATION SLAVE ON *.* TO ?@'127.0.0.1'", [REPL.user]);
        await conn.query("ALTER USER root@localhost IDENTIFIED VIA unix_socket");
    } finally {
        await conn.end().catch(() => conn.destroy());
    }
}

/**
 * Makes `replica` replicate from `primary` with MariaDB GTIDs (`MASTER_USE_GTID=slave_pos`) and
 * resolves once both replication threads run. Throws with the replica's last IO/SQL error when they
 * do not within `timeoutMs`.
 */
export async function replicate(replica: MariadbInstance, primary: MariadbInstance, timeoutMs = 20000): Promise<void> {
    await startReplication(replica, primary, timeoutMs, {
        stop: "STOP SLAVE",
        change: "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
        start: "START SLAVE",
        status: "SHOW SLAVE STATUS",
        io: "Slave_IO_Running",
        sql: "Slave_SQL_Running",
    });
}

/** The statements and status columns of one flavour's replication setup (MariaDB's, or MySQL ≥ 8.4's). */
export interface ReplicationSql {
    stop: string;
    /** Takes the primary's port, the replication user and its password. */
    change: string;
    start: string;
    status: string;
    io: string;
    sql: string;
}

/**
 * Points `replica` at `primary` with `sql`'s statements and resolves once both replication threads run.
 * Throws with the replica's last IO/SQL error when they do not within `timeoutMs`.
 */
export async function startReplication(
    replica: MariadbInstance,
    primary: MariadbInstance,
    timeoutMs: number,
    sql: ReplicationSql,
): Promise<void> {
    await replica.query(sql.stop);
    await replica.query(sql.change, [primary.port, REPL.user, REPL.password]);
    await replica.query(sql.start);
    const deadline = Date.now() + timeoutMs;
    let status: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
        status = (await replica.query(sql.status))[0];
        if (status?.[sql.io] === "Yes" && status?.[sql.sql] === "Yes") return;
        if (status?.Last_SQL_Error) break;
        await sleep(50);
    }
    const why = [status?.Last_IO_Error, status?.Last_SQL_Error].filter(Boolean).join("; ") || "no error reported";
    throw new Error(
        `replication ${primary.name} → ${replica.name} did not start (IO ${String(status?.[sql.io])}, SQL ${String(status?.[sql.sql])}: ${why}); see ${replica.logFile}.`,
    );
}

/**
 * `FLUSH BINARY LOGS`, then `PURGE BINARY LOGS TO` the new log until only it is left, and returns its
 * name. The retry is needed: MariaDB quietly keeps a log until its binlog checkpoint is written
 * (InnoDB has flushed its commits, up to a second with `innodb_flush_log_at_trx_commit=2`) and while a
 * replica's dump thread still reads it. Throws naming the logs left after `timeoutMs`.
 */
export async function purgeBinaryLogs(inst: MariadbInstance, timeoutMs = 10000): Promise<string> {
    await inst.query("FLUSH BINARY LOGS");
    const newest = String((await inst.query("SHOW BINARY LOGS")).at(-1)?.Log_name);
    for (const deadline = Date.now() + timeoutMs; ; await sleep(50)) {
        await inst.query("PURGE BINARY LOGS TO ?", [newest]);
        const left = (await inst.query("SHOW BINARY LOGS")).map((r) => String(r.Log_name));
        if (left.length === 1) return newest;
        if (Date.now() > deadline)
            throw new Error(
                `${inst.name}: binary logs ${left.join(", ")} still there ${timeoutMs} ms after PURGE BINARY LOGS TO '${newest}'.`,
            );
    }
}
