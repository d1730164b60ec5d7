/**
 * A throw-away TiDB (tidb-server from the toolchain, `-store unistore`: one process, data in memory) as the
 * sandbox's downstream: DM's real target, and the one DM's full mode (dump + load) works into. The same
 * {@link MariadbInstance} shape as sandbox/mariadb.ts, reached as ADMIN; root is locked after bootstrap.
 * `<dir>/<name>/tidb.toml` names the instance on its command line and `mysqld.pid` holds its pid, as
 * sandbox/parts.ts instancePid expects. TiDB has no server_id: `serverId` is the sandbox's label only.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tidbServerBin } from "../tools/env";
import { ADMIN, freePort, lastLines, MariadbInstance, queryOnce } from "./mariadb";

const live = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Options of {@link startTidb}. */
export interface StartTidbOptions {
    /** A folder the caller owns; the instance lives in `<dir>/<name>/`. */
    dir: string;
    name: string;
    /** The sandbox's label for it. */
    serverId: number;
    /** SQL port on 127.0.0.1. @default a free port */
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
    const log = o.log ?? (() => undefined);
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
    const port = o.port ?? (await freePort());
    const statusPort = await freePort();
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let initialized = false;
    const admin = () => ({ host: "127.0.0.1", port, user: ADMIN.user, password: ADMIN.password });

    const launch = async (): Promise<void> => {
        if (child) throw new Error(`TiDB ${o.name} is running already (pid ${child.pid}); stop() it first.`);
        const t = Date.now();
        const args = ["-config", cfg, "-store", "unistore", "-path", "", "-host", "127.0.0.1", "-P", String(port)];
        args.push("-status", String(statusPort), "-status-host", "127.0.0.1", "-log-file", logFile, "-socket", "");
        const c = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"], cwd: home });
        let stderr = "";
        c.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-8000)));
        let exitCode: number | string | null | undefined;
        exited = new Promise((resolve) =>
            c.once("exit", (code, sig) => ((exitCode = code ?? sig), live.delete(c), (child = undefined), resolve())),
        );
        child = c;
        fs.writeFileSync(pidFile, `${c.pid}\n`);
        if (!o.keepOnExit) live.add(c);
        const deadline = t + (o.startTimeoutMs ?? 60000);
        let lastError = "";
        while (exitCode === undefined) {
            try {
                if (!initialized) {
                    // unistore keeps nothing across restarts: the accounts are made on the first start only.
                    await bootstrap(port);
                    initialized = true;
                }
                await queryOnce(admin(), "SELECT 1");
                log(`tidb ${o.name}: ready on 127.0.0.1:${port} in ${Date.now() - t} ms`);
                return;
            } catch (e) {
                lastError = (e as Error).message;
            }
            if (Date.now() > deadline) {
                c.kill("SIGKILL");
                await exited;
                break;
            }
            await sleep(100);
        }
        const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
        throw new Error(
            `TiDB ${o.name} did not start on 127.0.0.1:${port} (exit ${String(exitCode)}; last attempt: ${lastError.replaceAll(ADMIN.password, "***")}). Last lines of ${logFile}:\n${lastLines(`${text}\n${stderr}`, 20)}`,
        );
    };

    const inst: MariadbInstance = {
        name: o.name,
        host: "127.0.0.1",
        port,
        serverId: o.serverId,
        dataDir: path.join(home, "data"),
        socket: "",
        logFile,
        query: (sql, params) => queryOnce(admin(), sql, params),
        async start() {
            throw new Error(
                `TiDB ${o.name} runs on unistore, which keeps nothing across a restart; start a new sandbox instead.`,
            );
        },
        async stop() {
            if (!child) return;
            const c = child;
            c.kill("SIGTERM");
            const timer = setTimeout(() => c.kill("SIGKILL"), 30000);
            await exited;
            clearTimeout(timer);
            log(`tidb ${o.name}: stopped`);
        },
        async kill() {
            if (!child) return;
            child.kill("SIGKILL");
            await exited;
        },
    };
    await launch();
    return inst;
}

/** ADMIN with every privilege; root (no password on a fresh TiDB) locked. */
async function bootstrap(port: number): Promise<void> {
    const root = { host: "127.0.0.1", port, user: "root", password: "" };
    await queryOnce(root, "CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [ADMIN.user, ADMIN.password]);
    await queryOnce(root, "GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [ADMIN.user]);
    await queryOnce({ host: "127.0.0.1", port, ...ADMIN }, "ALTER USER root ACCOUNT LOCK");
}
