/**
 * The Sandbox object over running parts, and stopping them with proof that nothing is left: shared by
 * startSandbox (parts it started) and openSandbox (parts another process started).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { VIP_BACKEND, VIP_SERVERS } from "./haproxy";
import { ADMIN, MariadbInstance } from "./server";
import { clusterLeader, DmMember } from "./dmCluster";
import { alive, commandLine, portFree, Proc } from "./proc";
import { Sandbox, SandboxPorts, SOURCE_ID, SOURCE_USER, WORKER_NAME } from "./types";

import { pollUntil } from "../components/util/poll";

/** The MariaDB process of an instance, from its pid file (sandbox/mariadb.ts: `<dir>/<name>/mysqld.pid`), when it still runs with its own my.cnf. */
export function instancePid(dataDir: string): number | undefined {
    const home = path.dirname(dataDir);
    try {
        const pid = Number(fs.readFileSync(path.join(home, "mysqld.pid"), "utf8").trim());
        // MariaDB and MySQL run with <home>/my.cnf, TiDB with <home>/tidb.toml (sandbox/tidb.ts).
        const line = commandLine(pid);
        const ours = ["my.cnf", "tidb.toml"].some((f) => line.includes(path.join(home, f)));
        return pid > 0 && alive(pid) && ours ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Stops every part, then checks that no process and no port is left; throws naming what remains. */
export async function stopParts(parts: {
    procs: Proc[];
    instances: MariadbInstance[];
    ports: number[];
}): Promise<void> {
    const pids = [...parts.procs.map((p) => p.pid), ...parts.instances.map((i) => instancePid(i.dataDir))].filter(
        (p): p is number => p !== undefined,
    );
    // DM first (the worker, then the master), so it does not log errors about a vanishing upstream.
    for (const p of parts.procs.filter((x) => x.name.startsWith("dm-"))) {
        await p.stop();
    }
    const rest = [
        ...parts.procs.filter((x) => !x.name.startsWith("dm-")).map((p) => p.stop()),
        ...parts.instances.map((i) => i.stop()),
    ];
    const failures = (await Promise.allSettled(rest))
        .filter((r): r is PromiseRejectedResult => r.status === "rejected")
        .map((r) => String(r.reason));
    let left: string[] = [];
    await pollUntil(
        async () => {
            const procsLeft = pids.filter(alive).map((p) => `process ${p}`);
            const portsLeft: string[] = [];
            for (const port of parts.ports) {
                if (!(await portFree(port))) {
                    portsLeft.push(`port ${port}`);
                }
            }
            left = [...procsLeft, ...portsLeft];
            return left.length === 0 ? true : undefined;
        },
        { intervalMs: 100, timeoutMs: 10_000 },
    );
    if (left.length > 0 || failures.length > 0) {
        throw new Error(
            `sandbox stop left ${[...left, ...failures].join(", ")} behind; kill the processes by id and retry.`,
        );
    }
}

/** The Sandbox object over running parts (also used by openSandbox for a sandbox of another process). */
export function assemble(p: {
    dir: string;
    ownsDir: boolean;
    /** @default "mariadb" */
    flavor?: "mariadb" | "mysql";
    primary: MariadbInstance;
    replica: MariadbInstance;
    downstream: MariadbInstance;
    admin?: { user: string; password: string };
    ports: Required<SandboxPorts>;
    binDir: string;
    master: Proc;
    worker: Proc;
    /** Every dm-master and dm-worker when there are several (sandbox/dmCluster.ts). @default master, worker alone */
    masters?: DmMember[];
    workers?: DmMember[];
    haproxy: Proc;
    haproxySocket: string;
    sourcePassword: string;
    tasks: { name: string; schema: string; taskFile: string }[];
    startupMs: number;
}): Sandbox {
    const masterAddr = `127.0.0.1:${p.ports.dmMaster}`;
    const masters = p.masters ?? [
        { name: "master1", addr: masterAddr, proc: p.master, ports: [p.ports.dmMaster, p.ports.dmMasterPeer] },
    ];
    const workers = p.workers ?? [
        { name: WORKER_NAME, addr: `127.0.0.1:${p.ports.dmWorker}`, proc: p.worker, ports: [p.ports.dmWorker] },
    ];
    let stopped = false;
    const sb: Sandbox = {
        dir: p.dir,
        primary: p.primary,
        replica: p.replica,
        downstream: p.downstream,
        admin: p.admin ?? { ...ADMIN },
        vip: {
            host: "127.0.0.1",
            port: p.ports.vip,
            haproxySocket: p.haproxySocket,
            haproxyAdminAddr: `127.0.0.1:${p.ports.haproxyStats}`,
            backend: VIP_BACKEND,
            servers: { ...VIP_SERVERS },
        },
        dm: {
            masterAddr,
            openapiUrl: `http://${masterAddr}/api/v1`,
            binDir: p.binDir,
            workerName: WORKER_NAME,
            dmctlPath: path.join(p.binDir, "dmctl"),
            master: p.master,
            worker: p.worker,
            address: masters.map((m) => m.addr).join(","),
            masters,
            workers,
            leader: () => clusterLeader(masters, sb.dm.tls),
        },
        haproxy: p.haproxy,
        source: { id: SOURCE_ID, user: SOURCE_USER, password: p.sourcePassword, flavor: p.flavor ?? "mariadb" },
        tasks: p.tasks,
        ports: p.ports,
        startupMs: p.startupMs,
        async vipTarget() {
            const { HaproxyVip } = await import("../components/vipBackends/haproxy");
            const vip = new HaproxyVip({ socket: p.haproxySocket, backend: VIP_BACKEND, servers: { ...VIP_SERVERS } });
            return (await vip.current()) as "primary" | "replica" | undefined;
        },
        async stop() {
            if (stopped) {
                return;
            }
            await stopParts({
                procs: [...workers.map((w) => w.proc), ...masters.map((m) => m.proc), p.haproxy],
                instances: [p.primary, p.replica, p.downstream],
                ports: [...new Set([...Object.values(p.ports), ...[...masters, ...workers].flatMap((m) => m.ports)])],
            });
            stopped = true;
            if (p.ownsDir) {
                fs.rmSync(p.dir, { recursive: true, force: true });
            }
        },
    };
    return sb;
}
