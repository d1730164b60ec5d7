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
import * as fs from "node:fs";
import * as path from "node:path";
import { mysqlDist, MysqlDist } from "../tools/env";
import { purgeBinaryLogs, StartMariadbOptions, startReplication } from "./mariadb";
import {
    adminOn,
    asRoot,
    cachedTemplate,
    commonServerConfig,
    connect,
    createAccounts,
    lastLines,
    MariadbInstance,
    newServerHome,
    run,
    ServerHome,
    sha12,
    startServer,
} from "./server";

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
        const key = `mysql-template-${sha12(`${dist.version}\n${args.join(" ")}`)}`;
        return cachedTemplate(key, "mysql.ibd", async (dataDir) => {
            const c = dist.command("mysqld", [...args, "--initialize-insecure", `--datadir=${dataDir}`]);
            const r = await run(c.command, c.args);
            if (r.code !== 0)
                throw new Error(`mysqld --initialize-insecure failed (exit ${r.code}): ${lastLines(r.output, 20)}`);
            // Each copy makes its own server_uuid at first start.
            fs.rmSync(path.join(dataDir, "auto.cnf"), { force: true });
        });
    })();
    template.catch(() => (template = undefined));
    return template;
}

function config(o: StartMariadbOptions, dist: MysqlDist, home: ServerHome, port: number): string {
    return [
        "# Written by sandbox/mysql.ts; no password here.",
        ...commonServerConfig(home, port, o.serverId),
        `lc-messages-dir=${dist.lcMessagesDir}`,
        ...INNODB.map((a) => a.slice(2)),
        // The compiled-in secure-file-priv folder does not exist in the unpacked tree; X Protocol is not used.
        "secure-file-priv=",
        "mysqlx=OFF",
        // performance_schema off saves ≈ 200 MB per server.
        ...`gtid-mode=ON enforce-gtid-consistency=ON log-replica-updates=ON performance-schema=OFF`.split(" "),
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
    const dist = mysqlOrThrow();
    const t0 = Date.now();
    const home = await newServerHome("startMysql", o, () => templateDataDir(dist));
    const inst = await startServer({
        ...o,
        ...home,
        kind: "MySQL",
        async prepare(port) {
            fs.writeFileSync(home.cnf, config(o, dist, home, port));
            return dist.command("mysqld", [`--defaults-file=${home.cnf}`]);
        },
        bootstrap: () =>
            createAccounts({ socketPath: home.socket, user: "root" }, "ALTER USER root@localhost ACCOUNT LOCK"),
        portTaken: /Address already in use|port: \d+ ?\? Is another/,
        intervalMs: 50,
        stopTimeoutMs: 60000,
        // Replicas' dump threads are ended first: with one open, shutdown was seen taking ≈ 9 s instead of ≈ 1.5 s.
        beforeStop: (port) => endDumpThreads(port),
        readyNote: ` (server_id ${o.serverId})`,
    });
    o.log?.(`mysql ${o.name}: started in ${Date.now() - t0} ms (data ${home.dataDir})`);
    return inst;
}

/** KILLs the server's binlog dump threads (best effort, on a short connect timeout). */
async function endDumpThreads(port: number): Promise<void> {
    const conn = await connect({ ...adminOn(port), connectTimeout: 1000 });
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
