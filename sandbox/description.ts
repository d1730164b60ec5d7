/**
 * `<dir>/sandbox.json`: what a running sandbox is — ports, process ids, accounts, tasks — so that
 * another process (`sandbox:status`, `sandbox:down`, a benchmark against a long-lived sandbox) can find
 * and drive it. It holds the sandbox's local passwords, so it is written 0600 in a 0700 folder.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Sandbox, SandboxPorts } from "./types";
import type { MariadbInstance } from "./server";
import { dmMasterDaemon, dmWorkerDaemon } from "./dm";
import { haproxyDaemon } from "./haproxy";
import { assemble, instancePid } from "./parts";
import { killHard, terminate } from "./proc";
import { query } from "./sql";

/** The file's shape (version 1). */
export interface SandboxDescription {
    version: 1;
    dir: string;
    createdAt: string;
    startupMs: number;
    binDir: string;
    ports: Required<SandboxPorts>;
    pids: { haproxy?: number; dmMaster?: number; dmWorker?: number };
    instances: {
        name: "primary" | "replica" | "downstream";
        port: number;
        serverId: number;
        dataDir: string;
        socket: string;
        logFile: string;
    }[];
    admin: { user: string; password: string };
    source: Sandbox["source"];
    tasks: Sandbox["tasks"];
    vip: Sandbox["vip"];
    dm: { masterAddr: string; openapiUrl: string; workerName: string; dmctlPath: string };
}

/** The description's path in a sandbox directory. */
export const descriptionPath = (dir: string) => path.join(dir, "sandbox.json");

/** Writes (0600) the description of `sb`. */
export function writeDescription(sb: Sandbox): void {
    const d: SandboxDescription = {
        version: 1,
        dir: sb.dir,
        createdAt: new Date().toISOString(),
        startupMs: Math.round(sb.startupMs),
        binDir: sb.dm.binDir,
        ports: sb.ports,
        pids: { haproxy: sb.haproxy.pid, dmMaster: sb.dm.master.pid, dmWorker: sb.dm.worker.pid },
        instances: [sb.primary, sb.replica, sb.downstream].map((i) => ({
            name: i.name as "primary" | "replica" | "downstream",
            port: i.port,
            serverId: i.serverId,
            dataDir: i.dataDir,
            socket: i.socket,
            logFile: i.logFile,
        })),
        admin: sb.admin,
        source: sb.source,
        tasks: sb.tasks,
        vip: sb.vip,
        dm: {
            masterAddr: sb.dm.masterAddr,
            openapiUrl: sb.dm.openapiUrl,
            workerName: sb.dm.workerName,
            dmctlPath: sb.dm.dmctlPath,
        },
    };
    const file = descriptionPath(sb.dir);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(d, null, 2) + "\n", { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
}

/** The description in `dir`, or undefined when there is none. */
export function readDescription(dir: string): SandboxDescription | undefined {
    const file = descriptionPath(dir);
    if (!fs.existsSync(file)) {
        return undefined;
    }
    const d = JSON.parse(fs.readFileSync(file, "utf8")) as SandboxDescription;
    if (d.version !== 1) {
        throw new Error(
            `${file} has version ${String(d.version)}, this code reads version 1; remove the sandbox by hand (kill its processes, delete ${dir}).`,
        );
    }
    return d;
}

/**
 * A MariaDB instance of another process's sandbox: queries as the sandbox's admin, stops and kills
 * by process id. start() is not offered: restart faults belong to the process that started the
 * sandbox (its instances restart themselves).
 */
function attachedInstance(
    i: SandboxDescription["instances"][number],
    admin: { user: string; password: string },
): MariadbInstance {
    return {
        ...i,
        host: "127.0.0.1",
        query: (sql, params) => query({ host: "127.0.0.1", port: i.port, ...admin }, sql, params),
        async stop() {
            const pid = instancePid(i.dataDir);
            if (pid) {
                await terminate(pid, 60_000);
            }
        },
        async kill() {
            const pid = instancePid(i.dataDir);
            if (pid) {
                await killHard(pid);
            }
        },
        async start() {
            throw new Error(
                `MariaDB ${i.name} of the sandbox in ${path.dirname(path.dirname(i.dataDir))} can only be restarted by the process that started it; run sandbox:down and sandbox:up.`,
            );
        },
    };
}

/**
 * The sandbox described in `dir` (started by another process, for example `npm run sandbox:up`),
 * as a Sandbox: stop() stops its processes by id and keeps the directory.
 */
export async function openSandbox(dir: string): Promise<Sandbox> {
    const d = readDescription(dir);
    if (!d) {
        throw new Error(
            `no sandbox in ${dir} (${descriptionPath(dir)} is missing); start one with npm run sandbox:up.`,
        );
    }
    const inst = (name: string) =>
        attachedInstance(
            d.instances.find((i) => i.name === name)!,
            d.admin,
        );
    const common = { dir, binDir: d.binDir, killOnExit: false };
    const masterAddr = d.dm.masterAddr;
    const p = d.ports;
    return assemble({
        dir,
        ownsDir: false,
        flavor: d.source.flavor,
        primary: inst("primary"),
        replica: inst("replica"),
        downstream: inst("downstream"),
        admin: d.admin,
        ports: p,
        binDir: d.binDir,
        master: dmMasterDaemon({ ...common, port: p.dmMaster, peerPort: p.dmMasterPeer }, d.pids.dmMaster),
        worker: dmWorkerDaemon({ ...common, port: p.dmWorker, masterAddr, name: d.dm.workerName }, d.pids.dmWorker),
        haproxy: haproxyDaemon(
            {
                dir,
                vipPort: p.vip,
                statsPort: p.haproxyStats,
                primaryPort: p.primary,
                replicaPort: p.replica,
                killOnExit: false,
            },
            d.pids.haproxy,
        ).proc,
        haproxySocket: d.vip.haproxySocket,
        sourcePassword: d.source.password,
        tasks: d.tasks,
        startupMs: d.startupMs,
    });
}
