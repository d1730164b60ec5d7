/**
 * The local sandbox: a real DM (dm-master with OpenAPI, one dm-worker) replicating a real MariaDB
 * primary, reached through a real HAProxy VIP, into a MariaDB downstream; a MariaDB replica of the
 * primary (GTID, `MASTER_USE_GTID=slave_pos`) is declared in HAProxy, disabled, ready to be switched to.
 * The demo, the integration tests and the benchmarks all start it from here; `npm run sandbox:up`
 * starts a long-lived one (sandbox/cli.ts).
 *
 * Secrets: the source and downstream passwords reach DM only in a request body (POST /api/v1/sources)
 * and in the 0600 task files of the sandbox directory (start-task); no DM response is logged.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDmClient, waitForStage } from "../components/dm";
import { pollUntil } from "../components/util/poll";
import { dmBinDir, dmMysqlBinDir } from "../tools/env";
import { writeDescription } from "./description";
import { dmBinaries } from "./dm";
import { dmCluster } from "./dmCluster";
import { startHaproxy, startHaproxyOnFreePorts } from "./haproxy";
import { replicate, startMariadb } from "./mariadb";
import { ADMIN, freePort, MariadbInstance } from "./server";
import { replicateMysql, startMysql } from "./mysql";
import { startTidb } from "./tidb";
import { failureWithLogs, Proc } from "./proc";
import { assemble, stopParts } from "./parts";
import { DEFAULT_PORTS, Sandbox, SandboxOptions, SandboxPorts, SOURCE_ID, SOURCE_USER, WORKER_NAME } from "./types";
import { query } from "./sql";
import { ignoredChecks, sourceGrants, TABLE_DDL, taskFileText, taskNames } from "./taskFile";
import { generateTls } from "./tls";

export type { MariadbInstance } from "./server";
export type { Proc } from "./proc";
export { IGNORED_CHECKS } from "./taskFile";
export { openSandbox } from "./description";
export * from "./types";
export { assemble, stopParts } from "./parts";

async function resolvePorts(given: SandboxPorts = {}): Promise<Required<SandboxPorts>> {
    const taken = new Set(Object.values(given).filter((p): p is number => p !== undefined));
    const out: Partial<Record<keyof SandboxPorts, number>> = {};
    for (const key of Object.keys(DEFAULT_PORTS) as (keyof SandboxPorts)[]) {
        let port = given[key];
        while (port === undefined || (given[key] === undefined && taken.has(port))) {
            port = await freePort();
        }
        taken.add(port);
        out[key] = port;
    }
    return out as Required<SandboxPorts>;
}

/** Starts a sandbox; on any failure stops what it started and throws with the failing part's log. */
export async function startSandbox(o: SandboxOptions = {}): Promise<Sandbox> {
    const t0 = performance.now();
    const log = o.log ?? (() => undefined);
    const flavor = o.flavor ?? "mariadb";
    if (flavor !== "mariadb" && flavor !== "mysql") {
        throw new TypeError(`startSandbox: flavor "${String(flavor)}" must be "mariadb" or "mysql".`);
    }
    // The first DM build cannot read MySQL ≥ 8.4 (SHOW MASTER STATUS, SHOW SLAVE HOSTS): MySQL gets 2409e0b.
    const binDir = flavor === "mysql" && !process.env.DM_BIN_DIR ? dmMysqlBinDir() : dmBinDir();
    const bins = dmBinaries(binDir);
    const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-sandbox-"));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ports = await resolvePorts(o.ports);
    const killOnExit = !o.persistent;
    const procs: Proc[] = [];
    const instances: MariadbInstance[] = [];
    // Only the ports of parts that started are checked after a failed start: a port the caller gave may be busy for another reason.
    const started: number[] = [];
    const cleanUp = async () => {
        await stopParts({ procs, instances, ports: started }).catch((e: Error) =>
            log(`sandbox: clean-up after a failed start: ${e.message}`),
        );
        if (!o.dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };
    try {
        const tls = o.tls ? await generateTls(path.join(dir, "tls")) : undefined;
        if (o.mysqlTls && flavor !== "mariadb") {
            throw new TypeError("startSandbox: mysqlTls is for the MariaDB flavour only.");
        }
        // The MariaDB servers' certificates: DM's when it has TLS too (one CA), else their own.
        const mysqlTls = o.mysqlTls ? (tls ?? (await generateTls(path.join(dir, "mysql-tls")))) : undefined;
        // 1. MariaDB ×3 and dm-master, in parallel (dm-master's embedded etcd takes the longest).
        // A MariaDB port not fixed by the caller is left to startMariadb, which retries when another process takes it first.
        // Each server's temporary tables go to its own folder: files in a shared /tmp were seen deleted
        // under a running server by other processes' clean-up ("Error on delete of '/tmp/#sql-temptable-…'").
        const mariadb = (name: "primary" | "replica" | "downstream", serverId: number) => {
            const tmpdir = path.join(dir, name, "tmp");
            fs.mkdirSync(tmpdir, { recursive: true, mode: 0o700 });
            const start = flavor === "mysql" && name !== "downstream" ? startMysql : startMariadb;
            const begin =
                name === "downstream" && o.downstream === "tidb"
                    ? startTidb({ dir, name, serverId, port: o.ports?.[name], log, keepOnExit: o.persistent })
                    : start({
                          dir,
                          name,
                          serverId,
                          port: o.ports?.[name],
                          gtidDomainId: name === "replica" ? o.replicaGtidDomainId : undefined,
                          extraConfig: [`tmpdir=${tmpdir}`],
                          ...(mysqlTls && name !== "downstream" ? { tls: mysqlTls.dmFiles } : {}),
                          log,
                          keepOnExit: o.persistent,
                      });
            return begin.then((i) => {
                instances.push(i);
                ports[name] = i.port;
                started.push(i.port);
                return i;
            });
        };
        // o.masters dm-masters (one embedded-etcd cluster) and o.workers dm-workers joining them all (./dmCluster.ts).
        const cluster = await dmCluster({
            dir,
            binDir,
            masters: o.masters,
            workers: o.workers,
            masterPort: ports.dmMaster,
            masterPeerPort: ports.dmMasterPeer,
            workerPort: ports.dmWorker,
            tls: tls?.dmFiles,
            killOnExit,
            log,
        });
        const [master, worker] = [cluster.masters[0].proc, cluster.workers[0].proc];
        // Every member at once: a cluster elects its leader only once a majority runs.
        const startAll = (members: typeof cluster.masters) =>
            Promise.all(
                members.map((m) =>
                    m.proc.start().then(() => {
                        procs.push(m.proc);
                        started.push(...m.ports);
                    }),
                ),
            );
        const phase1 = await Promise.allSettled([
            mariadb("primary", 1),
            mariadb("replica", 2),
            mariadb("downstream", 3),
            startAll(cluster.masters),
        ]);
        const failed1 = phase1.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed1) {
            throw failed1.reason;
        }
        const [primary, replica, downstream] = ["primary", "replica", "downstream"].map((n) =>
            instances.find((i) => i.name === n)!,
        );

        // 2. The replica follows the primary; the source account and the schemas are written on the
        //    primary (binlogged: the replica gets them too, DM replicates the schemas downstream).
        const sourcePassword = crypto.randomBytes(18).toString("base64url");
        const tasks = taskNames(o.tasks ?? 2);
        const setUp = async () => {
            await (flavor === "mysql" ? replicateMysql : replicate)(replica, primary);
            await primary.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [SOURCE_USER, sourcePassword]);
            await primary.query(`GRANT ${sourceGrants(flavor)} ON *.* TO ?@'127.0.0.1'`, [SOURCE_USER]);
            const start = await gtidNow(primary, flavor);
            for (const t of tasks) {
                await primary.query(`CREATE DATABASE \`${t.schema}\``);
                await primary.query(TABLE_DDL.replace("CREATE TABLE t", `CREATE TABLE \`${t.schema}\`.t`));
            }
            const pos = await gtidNow(primary, flavor);
            const wait = flavor === "mysql" ? "WAIT_FOR_EXECUTED_GTID_SET(?, 20)" : "MASTER_GTID_WAIT(?, 20)";
            const waited = (await replica.query(`SELECT ${wait} AS w`, [pos]))[0].w;
            if (Number(waited) !== 0) {
                throw failureWithLogs(
                    `the replica did not reach the primary's GTID ${pos} within 20 s; see its log below.`,
                    [replica.logFile],
                );
            }
            return start;
        };
        const haproxyOptions = {
            dir,
            vipPort: ports.vip,
            statsPort: ports.haproxyStats,
            primaryPort: primary.port,
            replicaPort: replica.port,
            killOnExit,
            log,
        };
        // Ports this process chose may be taken before HAProxy binds them: others are tried, as for the servers.
        const haproxy =
            o.ports?.vip === undefined && o.ports?.haproxyStats === undefined
                ? startHaproxyOnFreePorts(haproxyOptions, async () => {
                      const vipPort = await freePort();
                      let statsPort = await freePort();
                      while (statsPort === vipPort) statsPort = await freePort();
                      return { vipPort, statsPort };
                  }).then((r) => {
                      [ports.vip, ports.haproxyStats] = [r.vipPort, r.statsPort];
                      return r.haproxy;
                  })
                : startHaproxy(haproxyOptions);
        const phase2 = await Promise.allSettled([
            setUp(),
            haproxy.then((h) => {
                procs.push(h.proc);
                started.push(ports.vip, ports.haproxyStats);
            }),
            startAll(cluster.workers),
        ]);
        const failed2 = phase2.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed2) {
            throw failed2.reason;
        }
        const startGtid = (phase2[0] as PromiseFulfilledResult<string>).value;
        const h = await haproxy;

        // 3. The VIP reaches the primary.
        const vipAdmin = { host: "127.0.0.1", port: ports.vip, ...ADMIN };
        const viaVip = Number((await query(vipAdmin, "SELECT @@server_id AS id"))[0].id);
        if (viaVip !== primary.serverId) {
            throw failureWithLogs(
                `the VIP 127.0.0.1:${ports.vip} reached server_id ${viaVip}, not the primary (${primary.serverId}); see HAProxy's log below.`,
                [h.proc.logFile],
            );
        }

        // 4. Task files (0600), the source bound to the worker, the tasks Running and their schemas downstream.
        const taskList = tasks.map((t) => {
            const taskFile = path.join(dir, `${t.name}.yaml`);
            const text = taskFileText({
                ...t,
                sourceId: SOURCE_ID,
                binlogGtid: startGtid,
                target: { host: "127.0.0.1", port: downstream.port, ...ADMIN },
                checkpointFlushIntervalSec: o.checkpointFlushIntervalSec,
                ignoreChecks: o.ignoreChecks ?? ignoredChecks(flavor),
            });
            fs.writeFileSync(taskFile, text, { mode: 0o600 });
            return { ...t, taskFile };
        });
        const dm = createDmClient({
            transport: "openapi",
            address: cluster.address,
            dmctlPath: bins.dmctl,
            tls: tls?.client,
        });
        // With relay on, POST /api/v1/sources creates the source and then fails starting relay a second
        // time (error 46030, dm/master/openapi_controller.go createSource → enableRelay): dmctl's
        // operate-source create starts relay once, from the source configuration.
        const dmctl = createDmClient({
            transport: "dmctl",
            address: cluster.address,
            dmctlPath: bins.dmctl,
            tls: tls?.client,
        });
        const dmLogs = [path.join(dir, "dm-master", "dm-master.log"), path.join(dir, "dm-worker", "dm-worker.log")];
        if (o.createSource ?? true) {
            const t = performance.now();
            await (o.relay ? dmctl : dm).createSource({
                id: SOURCE_ID,
                host: "127.0.0.1",
                port: ports.vip,
                user: SOURCE_USER,
                password: sourcePassword,
                flavor,
                enableGtid: true,
                enableRelay: o.relay ?? false,
                workerName: WORKER_NAME,
                baseFile: o.sourceFile,
            });
            await until(
                async () => (await dm.getSource(SOURCE_ID))?.worker === WORKER_NAME,
                20_000,
                `source ${SOURCE_ID} bound to ${WORKER_NAME}`,
                dmLogs,
            );
            log(
                `dm: source ${SOURCE_ID} (through the VIP) bound to ${WORKER_NAME} (${(performance.now() - t).toFixed(0)} ms)`,
            );
            if ((o.createTasks ?? true) && taskList.length > 0) {
                const t1 = performance.now();
                await Promise.all(taskList.map((task) => dm.startTask(fs.readFileSync(task.taskFile, "utf8"))));
                await waitForStage(
                    dm,
                    taskList.map((x) => x.name),
                    SOURCE_ID,
                    ["Running"],
                    { intervalMs: 50, timeoutMs: 30_000 },
                ).catch((e: Error) => {
                    throw failureWithLogs(`${e.message}`, dmLogs);
                });
                const want = taskList.map((x) => x.schema);
                await until(
                    async () =>
                        Number(
                            (
                                await downstream.query(
                                    "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 't' AND table_schema IN (?)",
                                    [want],
                                )
                            )[0].n,
                        ) === want.length,
                    30_000,
                    `tables ${want.map((s) => `${s}.t`).join(", ")} replicated downstream`,
                    dmLogs,
                );
                log(
                    `dm: ${taskList.length} task(s) Running, schemas replicated downstream (${(performance.now() - t1).toFixed(0)} ms; prechecks ignored: ${(o.ignoreChecks ?? ignoredChecks(flavor)).join(", ")})`,
                );
            }
        }

        const sb = assemble({
            dir,
            ownsDir: !o.dir,
            flavor,
            primary,
            replica,
            downstream,
            ports,
            binDir,
            master,
            worker,
            masters: cluster.masters,
            workers: cluster.workers,
            haproxy: h.proc,
            haproxySocket: h.socket,
            sourcePassword,
            tasks: taskList,
            startupMs: performance.now() - t0,
        });
        if (mysqlTls) {
            sb.mysqlTls = mysqlTls.client;
        }
        if (tls) {
            sb.dm.tls = tls.client;
            sb.dm.openapiUrl = sb.dm.openapiUrl.replace(/^http:/, "https:");
        }
        writeDescription(sb);
        log(
            `sandbox: up in ${(sb.startupMs / 1000).toFixed(1)} s in ${dir} (VIP 127.0.0.1:${ports.vip} → primary 127.0.0.1:${primary.port}; dm-master ${cluster.address}${cluster.workers.length > 1 ? `; ${cluster.workers.length} dm-workers` : ""})`,
        );
        return sb;
    } catch (err) {
        await cleanUp();
        throw err;
    }
}

/** The server's GTID set now: MariaDB's gtid_binlog_pos, MySQL's gtid_executed (without the newlines it prints between UUIDs). */
async function gtidNow(inst: MariadbInstance, flavor: "mariadb" | "mysql"): Promise<string> {
    const v = flavor === "mysql" ? "@@GLOBAL.gtid_executed" : "@@GLOBAL.gtid_binlog_pos";
    return String((await inst.query(`SELECT ${v} AS g`))[0].g).replace(/\s+/g, "");
}

/** Polls `ok` every 100 ms; throws naming what was awaited, with the logs' last lines, after `timeoutMs`. */
async function until(ok: () => Promise<boolean>, timeoutMs: number, what: string, logs: string[]): Promise<void> {
    let last = "";
    const done = await pollUntil(
        async () => {
            try {
                return (await ok()) || undefined;
            } catch (e) {
                last = (e as Error).message;
                return undefined;
            }
        },
        { intervalMs: 100, timeoutMs },
    );
    if (!done) {
        throw failureWithLogs(
            `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}; see the logs below.`,
            logs,
        );
    }
}
