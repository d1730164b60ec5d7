/**
 * Throw-away MySQL (≥ 8.4, unpacked by `npm run setup` from Debian unstable) servers for the sandbox's
 * MySQL flavour: the same {@link MariadbInstance} shape and accounts as sandbox/mariadb.ts, with MySQL's
 * GTIDs (`gtid_mode=ON`, `enforce_gtid_consistency=ON`), ROW binlog and `log_replica_updates`.
 *
 * Fast: `mysqld --initialize-insecure` (≈ 4 s) runs once per MySQL version into a template data
 * directory cached under `cacheDir()`; each instance copies it without `auto.cnf`, so each server makes
 * its own `server_uuid` at first start.
 *
 * Passwords as in sandbox/mariadb.ts: ADMIN and REPL travel only inside SQL over loopback; the replica
 * keeps its replication password in its data directory (mode 0700, in the caller's temporary folder).
 */
import { ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheDir, mysqlDist, MysqlDist } from "../tools/env";
import {
    ADMIN,
    asRoot,
    connect,
    freePort,
    lastLines,
    MariadbInstance,
    purgeBinaryLogs,
    queryOnce,
    REPL,
    run,
    StartMariadbOptions,
    startReplication,
} from "./mariadb";

const live = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha12 = (text: string) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 12);

/** The unpacked MySQL; throws with the remedy when `npm run setup` has not unpacked it. */
export function mysqlOrThrow(): MysqlDist {
    const d = mysqlDist();
    if (!d) {
        throw new Error(
            "MySQL is not unpacked: run `npm run setup` (its mysql step unpacks MySQL from Debian unstable into ~/.cache/dm-switch/mysql-server) or set DM_SWITCH_MYSQL_DIR.",
        );
    }
    return d;
}

/** Sizes shared by the template and the servers, so that no server resizes its redo log at start. */
const INNODB = ["--innodb-redo-log-capacity=32M", "--innodb-buffer-pool-size=64M"];

let template: Promise<string> | undefined;

/** The template data directory, built once per MySQL version and cached (atomically renamed into place). */
function templateDataDir(dist: MysqlDist): Promise<string> {
    template ??= (async () => {
        const args = [
            "--no-defaults",
            ...(asRoot ? ["--user=root"] : []),
            `--lc-messages-dir=${dist.lcMessagesDir}`,
            ...INNODB,
        ];
        const final = path.join(cacheDir(), `mysql-template-${sha12(`${dist.version}\n${args.join(" ")}`)}`);
        if (fs.existsSync(path.join(final, "data", "mysql.ibd"))) return path.join(final, "data");
        fs.mkdirSync(cacheDir(), { recursive: true });
        const tmp = fs.mkdtempSync(`${final}.tmp-`);
        const c = dist.command("mysqld", [...args, "--initialize-insecure", `--datadir=${path.join(tmp, "data")}`]);
        const r = await run(c.command, c.args);
        if (r.code !== 0) {
            fs.rmSync(tmp, { recursive: true, force: true });
            throw new Error(`mysqld --initialize-insecure failed (exit ${r.code}): ${lastLines(r.output, 20)}`);
        }
        // Each copy makes its own server_uuid at first start.
        fs.rmSync(path.join(tmp, "data", "auto.cnf"), { force: true });
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

function config(
    o: StartMariadbOptions,
    dist: MysqlDist,
    inst: { port: number; dataDir: string; socket: string; logFile: string; pidFile: string },
): string {
    return [
        "# Written by sandbox/mysql.ts; no password here.",
        "[mysqld]",
        ...(asRoot ? ["user=root"] : []),
        `datadir=${inst.dataDir}`,
        `port=${inst.port}`,
        "bind-address=127.0.0.1",
        `socket=${inst.socket}`,
        `pid-file=${inst.pidFile}`,
        `log-error=${inst.logFile}`,
        `lc-messages-dir=${dist.lcMessagesDir}`,
        ...INNODB.map((a) => a.slice(2)),
        // The compiled-in secure-file-priv folder does not exist in the unpacked tree; X Protocol is not used.
        "secure-file-priv=",
        "mysqlx=OFF",
        // A test server: durability traded for speed; performance_schema off saves ≈ 200 MB per server.
        // max-connections: each DM task holds ~15 connections to the downstream (its syncer workers): 50 tasks need ~750.
        ...`report-host=127.0.0.1 report-port=${inst.port} server-id=${o.serverId} gtid-mode=ON enforce-gtid-consistency=ON
            skip-name-resolve log-bin=binlog relay-log=relay-bin binlog-format=ROW binlog-row-image=FULL
            log-replica-updates=ON character-set-server=utf8mb4 collation-server=utf8mb4_general_ci
            innodb-flush-log-at-trx-commit=2 sync-binlog=0 max-connections=2000 performance-schema=OFF`.split(/\s+/),
        ...(o.extraConfig ?? []),
        "",
    ].join("\n");
}

/**
 * Starts a MySQL server named `o.name` in `<o.dir>/<o.name>/` (o.gtidDomainId is ignored: MySQL's GTIDs
 * are keyed by server_uuid) and resolves once it answers `SELECT 1` over TCP as ADMIN. On first start it
 * creates ADMIN and REPL with `sql_log_bin=0` (no GTID of its own). Throws with the error log's last 20
 * lines when the server cannot start.
 */
export async function startMysql(o: StartMariadbOptions): Promise<MariadbInstance> {
    if (!/^[A-Za-z0-9_.-]+$/.test(o.name))
        throw new TypeError(`startMysql: name "${o.name}" must be letters, digits, "_", "." or "-".`);
    if (!Number.isInteger(o.serverId) || o.serverId < 1)
        throw new TypeError(`startMysql ${o.name}: serverId ${o.serverId} must be a positive integer.`);
    const dist = mysqlOrThrow();
    const log = o.log ?? (() => undefined);
    const t0 = Date.now();
    const home = path.resolve(o.dir, o.name);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const dataDir = path.join(home, "data");
    if (fs.existsSync(dataDir))
        throw new Error(`startMysql ${o.name}: ${dataDir} exists already; give each instance a new name or folder.`);
    await fs.promises.cp(await templateDataDir(dist), dataDir, { recursive: true });
    fs.chmodSync(dataDir, 0o700);
    let socket = path.join(home, "mysqld.sock");
    if (Buffer.byteLength(socket) > 100)
        socket = path.join(os.tmpdir(), `mysql-${o.name}-${crypto.randomBytes(4).toString("hex")}.sock`);
    const [logFile, pidFile, cnf] = ["error.log", "mysqld.pid", "my.cnf"].map((f) => path.join(home, f));
    let port = o.port ?? (await freePort());
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let initialized = false;
    const admin = () => ({ host: "127.0.0.1", port, user: ADMIN.user, password: ADMIN.password });

    const launch = async (): Promise<void> => {
        if (child) throw new Error(`MySQL ${o.name} is running already (pid ${child.pid}); stop() it first.`);
        fs.writeFileSync(cnf, config(o, dist, { port, dataDir, socket, logFile, pidFile }));
        const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
        const t = Date.now();
        const cmd = dist.command("mysqld", [`--defaults-file=${cnf}`]);
        const c = spawn(cmd.command, cmd.args, { stdio: ["ignore", "ignore", "pipe"] });
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
                    await bootstrap(socket);
                    initialized = true;
                }
                await queryOnce(admin(), "SELECT 1");
                log(`mysql ${o.name}: ready on 127.0.0.1:${port} (server_id ${o.serverId}) in ${Date.now() - t} ms`);
                return;
            } catch (e) {
                lastError = (e as Error).message;
            }
            if (Date.now() > deadline) {
                c.kill("SIGKILL");
                await exited;
                break;
            }
            await sleep(50);
        }
        const text = fs.existsSync(logFile) ? fs.readFileSync(logFile).subarray(logStart).toString() : "";
        const tail = lastLines(`${text}\n${stderr}`, 20);
        const err = new Error(
            `MySQL ${o.name} did not start on 127.0.0.1:${port} (exit ${String(exitCode)}; last attempt: ${lastError.replaceAll(ADMIN.password, "***")}). Last lines of ${logFile}:\n${tail}`,
        );
        (err as Error & { portInUse?: boolean }).portInUse = /Address already in use|port: \d+ ?\? Is another/.test(
            tail,
        );
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
            // Replicas' dump threads are ended first: with one open, shutdown was seen taking ≈ 9 s instead of ≈ 1.5 s.
            await endDumpThreads(admin()).catch(() => undefined);
            c.kill("SIGTERM");
            const timer = setTimeout(() => c.kill("SIGKILL"), 60000);
            await exited;
            clearTimeout(timer);
            if (c.signalCode === "SIGKILL")
                throw new Error(`MySQL ${o.name} did not shut down within 60 s and was killed; see ${logFile}.`);
            log(`mysql ${o.name}: stopped in ${Date.now() - t} ms`);
        },
        async kill() {
            if (!child) return;
            child.kill("SIGKILL");
            await exited;
            log(`mysql ${o.name}: killed`);
        },
    };

    for (let attempt = 1; ; attempt++) {
        try {
            await launch();
            break;
        } catch (e) {
            if (o.port === undefined && attempt < 3 && (e as { portInUse?: boolean }).portInUse) {
                port = await freePort();
                continue;
            }
            throw e;
        }
    }
    log(`mysql ${o.name}: started in ${Date.now() - t0} ms (data ${dataDir})`);
    return inst;
}

/** KILLs the server's binlog dump threads (best effort, on a short connect timeout). */
async function endDumpThreads(admin: { host: string; port: number; user: string; password: string }): Promise<void> {
    const conn = await connect({ ...admin, connectTimeout: 1000 });
    try {
        const [rows] = await conn.query(
            "SELECT id FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'",
        );
        for (const r of rows as { id: number }[]) {
            await conn.query(`KILL ${Number(r.id)}`).catch(() => undefined);
        }
    } finally {
        conn.destroy();
    }
}

/** First start: the accounts, without binary logging so that they leave no GTID behind; root keeps the socket only. */
async function bootstrap(socketPath: string): Promise<void> {
    const conn = await connect({ socketPath, user: "root" });
    try {
        await conn.query("SET SESSION sql_log_bin = 0");
        await conn.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [ADMIN.user, ADMIN.password]);
        await conn.query("GRANT ALL PRIVILEGES ON *.* TO ?@'127.0.0.1' WITH GRANT OPTION", [ADMIN.user]);
        await conn.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [REPL.user, REPL.password]);
        await conn.query("GRANT REPLICATION SLAVE ON *.* TO ?@'127.0.0.1'", [REPL.user]);
        await conn.query("ALTER USER root@localhost ACCOUNT LOCK");
    } finally {
        await conn.end().catch(() => conn.destroy());
    }
}

/**
 * Makes `replica` replicate from `primary` with MySQL GTIDs (`SOURCE_AUTO_POSITION=1`; the replication
 * account's caching_sha2_password is exchanged with the source's RSA key, `GET_SOURCE_PUBLIC_KEY=1`) and
 * resolves once both threads run. Throws with the replica's last IO/SQL error after `timeoutMs`.
 */
export async function replicateMysql(
    replica: MariadbInstance,
    primary: MariadbInstance,
    timeoutMs = 20000,
): Promise<void> {
    await startReplication(replica, primary, timeoutMs, {
        stop: "STOP REPLICA",
        change: "CHANGE REPLICATION SOURCE TO SOURCE_HOST = '127.0.0.1', SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?, SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = 1",
        start: "START REPLICA",
        status: "SHOW REPLICA STATUS",
        io: "Replica_IO_Running",
        sql: "Replica_SQL_Running",
    });
}

/** `FLUSH BINARY LOGS`, then `PURGE BINARY LOGS TO` the new log until only it is left; returns its name (as on MariaDB). */
export const purgeMysqlBinaryLogs = purgeBinaryLogs;
