/**
 * A throw-away TiDB (tidb-server from the toolchain, `-store unistore`: one process, data in memory) as the
 * sandbox's downstream: DM's real target, and the one DM's full mode (dump + load) works into. The same
 * {@link MariadbInstance} shape as sandbox/mariadb.ts, reached as ADMIN; root is locked after bootstrap.
 * `<dir>/<name>/tidb.toml` names the instance on its command line and `mysqld.pid` holds its pid, as
 * sandbox/parts.ts instancePid expects. TiDB has no server_id: `serverId` is the sandbox's label only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tidbServerBin } from "../tools/env";
import { ADMIN, adminOn, freePort, MariadbInstance, queryOnce, startServer } from "./server";

/** Options of {@link startTidb}. */
export interface StartTidbOptions {
    /** A folder the caller owns; the instance lives in `<dir>/<name>/`. */
    dir: string;
    name: string;
    /** The sandbox's label for it. */
    serverId: number;
    /** SQL port on 127.0.0.1. @default a free port (retried when another process takes it first) */
    port?: number;
    log?: (line: string) => void;
    /** How long to wait for it to answer. @default 60000 */
    startTimeoutMs?: number;
    /** Leave it running when this Node process exits. @default false */
    keepOnExit?: boolean;
}

/** Starts tidb-server and resolves once it answers `SELECT 1` as ADMIN; throws with its log's last lines. */
export async function startTidb(o: StartTidbOptions): Promise<MariadbInstance> {
    const bin = tidbServerBin();
    if (!fs.existsSync(bin)) {
        throw new Error(`tidb-server is missing at ${bin}: run \`npm run setup\` (toolchain step) or set TIDB_SERVER.`);
    }
    const home = path.resolve(o.dir, o.name);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const [logFile, pidFile, cfg] = ["tidb.log", "mysqld.pid", "tidb.toml"].map((f) => path.join(home, f));
    const tmp = path.join(home, "tmp");
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    // One tidb-server per sandbox: its temporary folder and log inside the instance's folder.
    // New collations: the upstream's utf8mb4_general_ci is kept downstream (without them TiDB stores utf8mb4_bin,
    // and DM's table-structure precheck warns on every table, which breaks dmctl start-task's answer).
    fs.writeFileSync(
        cfg,
        [
            `temp-dir = ${JSON.stringify(tmp)}`,
            "new_collations_enabled_on_first_bootstrap = true",
            "[log]",
            'level = "warn"',
            "",
        ].join("\n"),
    );
    return startServer({
        ...o,
        kind: "TiDB",
        dataDir: path.join(home, "data"),
        socket: "",
        logFile,
        async prepare(port) {
            // A new status port with each SQL port: a start retried because a port was taken takes both anew.
            const statusPort = await freePort();
            const args = ["-config", cfg, "-store", "unistore", "-path", "", "-host", "127.0.0.1", "-P", String(port)];
            args.push("-status", String(statusPort), "-status-host", "127.0.0.1", "-log-file", logFile, "-socket", "");
            return { command: bin, args, cwd: home };
        },
        // unistore keeps nothing across restarts: the accounts are made on the first (and only) start.
        bootstrap,
        onSpawn: (pid) => fs.writeFileSync(pidFile, `${pid}\n`),
        portTaken: /address already in use/,
        intervalMs: 100,
        stopTimeoutMs: 30000,
        noRestart: "runs on unistore, which keeps nothing across a restart; start a new sandbox instead.",
    });
}

/** ADMIN with every privilege; root (no password on a fresh TiDB) locked. */
async function bootstrap(port: number): Promise<void> {
    const root = { host: "127.0.0.1", port, user: "root", password: "" };
    await queryOnce(root, "CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [ADMIN.user, ADMIN.password]);
    await queryOnce(root, "GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [ADMIN.user]);
    await queryOnce(adminOn(port), "ALTER USER root ACCOUNT LOCK");
}
