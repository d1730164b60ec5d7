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
 *
 * The process itself (free port, wait until it answers, stop, kill, restart) is run by sandbox/server.ts,
 * as MySQL's (sandbox/mysql.ts) and TiDB's (sandbox/tidb.ts) are.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pollUntil } from "../components/util/poll";
import {
    asRoot,
    cachedTemplate,
    commonServerConfig,
    createAccounts,
    lastLines,
    MariadbInstance,
    newServerHome,
    REPL,
    run,
    ServerHome,
    sha12,
    startServer,
} from "./server";

// The launcher's vocabulary has lived here first: importers keep their paths.
export type { MariadbInstance } from "./server";
export { ADMIN, asRoot, connect, freePort, lastLines, queryOnce, REPL, run } from "./server";

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

/** Finds a MariaDB program: `MARIADB_BIN_DIR`, then PATH, then the Debian locations. */
function program(name: string): string {
    const dirs = [process.env.MARIADB_BIN_DIR, ...`${process.env.PATH ?? ""}:/usr/sbin:/usr/bin`.split(":")];
    const found = dirs.find((d) => d && fs.existsSync(path.join(d, name)));
    if (found) return path.join(found, name);
    throw new Error(
        `${name} not found on PATH, /usr/sbin or /usr/bin: run \`npm run setup\` (installs mariadb-server) or set MARIADB_BIN_DIR.`,
    );
}

/** InnoDB sizes shared by the template and the servers, so that no server resizes its redo log at start. */
const INNODB = ["--innodb-log-file-size=32M", "--innodb-buffer-pool-size=64M"];

let template: Promise<string> | undefined;

/** The template data directory, built once per MariaDB version and cached (atomically renamed into place). */
function templateDataDir(): Promise<string> {
    template ??= (async () => {
        const version = spawnSync(program("mariadbd"), ["--version"], { encoding: "utf8" }).stdout.trim();
        const installArgs =
            "--no-defaults --skip-test-db --skip-name-resolve --auth-root-authentication-method=normal".split(" ");
        installArgs.push(...INNODB);
        const key = `mariadb-template-${sha12(`${version}\n${installArgs.join(" ")}`)}`;
        return cachedTemplate(key, "mysql", async (dataDir) => {
            // Only root@localhost (no password, reachable through the socket only) survives; the first start replaces it.
            const sql = path.join(path.dirname(dataDir), "extra.sql");
            fs.writeFileSync(
                sql,
                "DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys' AND NOT (User = 'root' AND Host = 'localhost');\n" +
                    "DELETE FROM mysql.proxies_priv WHERE NOT (User = 'root' AND Host = 'localhost');\n",
            );
            const args = [...installArgs, `--datadir=${dataDir}`, `--extra-file=${sql}`];
            if (asRoot) args.push("--user=root");
            const r = await run(program("mariadb-install-db"), args);
            if (r.code !== 0) throw new Error(`mariadb-install-db failed (exit ${r.code}): ${lastLines(r.output, 20)}`);
            fs.rmSync(sql);
        });
    })();
    template.catch(() => (template = undefined));
    return template;
}

function config(o: StartMariadbOptions, home: ServerHome, port: number): string {
    return [
        "# Written by sandbox/mariadb.ts; no password here.",
        ...commonServerConfig(home, port, o.serverId),
        ...INNODB.map((a) => a.slice(2)),
        `gtid-domain-id=${o.gtidDomainId ?? 0}`,
        "log-slave-updates=ON",
        "gtid-strict-mode=ON",
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
    const t0 = Date.now();
    const home = await newServerHome("startMariadb", o, templateDataDir);
    const inst = await startServer({
        ...o,
        ...home,
        kind: "MariaDB",
        async prepare(port) {
            fs.writeFileSync(home.cnf, config(o, home, port));
            return { command: program("mariadbd"), args: [`--defaults-file=${home.cnf}`] };
        },
        // root keeps the Unix socket only.
        bootstrap: () =>
            createAccounts(
                { socketPath: home.socket, user: "root" },
                "ALTER USER root@localhost IDENTIFIED VIA unix_socket",
            ),
        portTaken: /Address already in use/,
        intervalMs: 40,
        stopTimeoutMs: 60000,
        readyNote: ` (server_id ${o.serverId})`,
    });
    o.log?.(`mariadb ${o.name}: started in ${Date.now() - t0} ms (data ${home.dataDir})`);
    return inst;
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
    let status: Record<string, unknown> | undefined;
    const running = await pollUntil(
        async () => {
            status = (await replica.query(sql.status))[0];
            if (status?.[sql.io] === "Yes" && status?.[sql.sql] === "Yes") return true;
            return status?.Last_SQL_Error ? false : undefined; // an SQL error does not heal by waiting
        },
        { intervalMs: 50, timeoutMs },
    );
    if (running) return;
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
    let left: string[] = [];
    const purged = await pollUntil(
        async () => {
            await inst.query("PURGE BINARY LOGS TO ?", [newest]);
            left = (await inst.query("SHOW BINARY LOGS")).map((r) => String(r.Log_name));
            return left.length === 1 ? newest : undefined;
        },
        { intervalMs: 50, timeoutMs },
    );
    if (purged !== undefined) return purged;
    throw new Error(
        `${inst.name}: binary logs ${left.join(", ")} still there ${timeoutMs} ms after PURGE BINARY LOGS TO '${newest}'.`,
    );
}
