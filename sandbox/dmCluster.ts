/**
 * DM at production shape in the sandbox: `masters` dm-masters forming one embedded-etcd cluster (every
 * member's `initial-cluster` lists them all; one is elected leader, the others forward requests to it)
 * and `workers` dm-workers joining all of them (`join = "a,b,c"`). A source is bound to one worker; the
 * others stay free, ready for DM to re-bind the source when its worker dies.
 *
 * The first master and worker keep the sandbox's fixed ports and folders (`dm-master`, `dm-worker`,
 * names master1, worker1); member i > 1 lives in `dm-master-<i>` / `dm-worker-<i>` on free ports.
 */
import { dmGet, dmMasterDaemon, DmTlsFiles, dmWorkerDaemon } from "./dm";
import { freePort } from "./server";
import type { Proc } from "./proc";

/** One dm-master or dm-worker of the sandbox. */
export interface DmMember {
    /** DM's name for it: master1…, worker1…. */
    name: string;
    /** `127.0.0.1:<port>`: master-addr (OpenAPI and gRPC) or worker-addr. */
    addr: string;
    /** Stop, kill (a crash) and start it again, as `Sandbox.dm.master`. */
    proc: Proc;
    /** Every port it listens on (a master also its etcd peer port). */
    ports: number[];
}

/** How many DM processes and where; the first ones' ports are given, the others' are free ports. */
export interface DmClusterOptions {
    dir: string;
    binDir: string;
    /** dm-masters in the cluster. @default 1 */
    masters?: number;
    /** dm-workers joining it. @default 1 */
    workers?: number;
    /** master1's master-addr port and etcd peer port, worker1's port. */
    masterPort: number;
    masterPeerPort: number;
    workerPort: number;
    tls?: DmTlsFiles;
    killOnExit?: boolean;
    log?(line: string): void;
}

/** The cluster's daemons, not started yet. */
export interface DmCluster {
    masters: DmMember[];
    workers: DmMember[];
    /** Every master's address, comma-separated (dm-switch's `dm.address`, dmctl's `--master-addr`, workers' `join`). */
    address: string;
}

/** Largest cluster the sandbox starts: etcd wants an odd member count, and the machine is small. */
const MAX_MEMBERS = 7;

/** Why `n` is not a usable member count for `what` (`--masters`, `masters`), or undefined; `shown`: how the user wrote it. */
export function memberCountProblem(
    what: string,
    n: unknown,
    shown = typeof n === "number" ? String(n) : JSON.stringify(n),
): string | undefined {
    if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_MEMBERS) {
        return `${what} ${shown} must be a whole number from 1 to ${MAX_MEMBERS}.`;
    }
    return undefined;
}

/** The daemons of a cluster of `o.masters` dm-masters and `o.workers` dm-workers (ports resolved, nothing started). */
export async function dmCluster(o: DmClusterOptions): Promise<DmCluster> {
    const nMasters = o.masters ?? 1;
    const nWorkers = o.workers ?? 1;
    for (const [what, n] of [
        ["masters", nMasters],
        ["workers", nWorkers],
    ] as const) {
        const problem = memberCountProblem(what, n);
        if (problem) {
            throw new TypeError(`startSandbox: ${problem}`);
        }
    }
    const taken = new Set([o.masterPort, o.masterPeerPort, o.workerPort]);
    const port = async () => {
        let p = await freePort();
        while (taken.has(p)) {
            p = await freePort();
        }
        taken.add(p);
        return p;
    };
    const masterPorts: { port: number; peer: number }[] = [{ port: o.masterPort, peer: o.masterPeerPort }];
    for (let i = 1; i < nMasters; i++) {
        masterPorts.push({ port: await port(), peer: await port() });
    }
    const workerPorts = [o.workerPort];
    for (let i = 1; i < nWorkers; i++) {
        workerPorts.push(await port());
    }
    const names = masterPorts.map((_, i) => `master${i + 1}`);
    const initialCluster = masterPorts.map((p, i) => `${names[i]}=http://127.0.0.1:${p.peer}`).join(",");
    const address = masterPorts.map((p) => `127.0.0.1:${p.port}`).join(",");
    const common = { dir: o.dir, binDir: o.binDir, tls: o.tls, killOnExit: o.killOnExit, log: o.log };
    const masters = masterPorts.map((p, i) => ({
        name: names[i],
        addr: `127.0.0.1:${p.port}`,
        ports: [p.port, p.peer],
        proc: dmMasterDaemon({
            ...common,
            port: p.port,
            peerPort: p.peer,
            name: names[i],
            home: i === 0 ? "dm-master" : `dm-master-${i + 1}`,
            // A single master keeps its one-member default (the configuration sandboxes had before clusters).
            initialCluster: nMasters > 1 ? initialCluster : undefined,
        }),
    }));
    const workers = workerPorts.map((p, i) => ({
        name: `worker${i + 1}`,
        addr: `127.0.0.1:${p}`,
        ports: [p],
        proc: dmWorkerDaemon({
            ...common,
            port: p,
            masterAddr: address,
            name: `worker${i + 1}`,
            home: i === 0 ? "dm-worker" : `dm-worker-${i + 1}`,
        }),
    }));
    return { masters, workers, address };
}

/** A dm-master as `GET /api/v1/cluster/masters` lists it. */
interface ClusterMaster {
    name?: string;
    alive?: boolean;
    leader?: boolean;
    addr?: string;
}

/**
 * The member the cluster names its leader (`GET /api/v1/cluster/masters`, asked of each live member in
 * turn), or undefined while none is elected or no member answers.
 */
export async function clusterLeader(
    masters: DmMember[],
    tls?: { ca: string; cert: string; key: string },
): Promise<DmMember | undefined> {
    for (const m of masters.filter((x) => x.proc.pid !== undefined)) {
        const r = await dmGet(m.addr, "/api/v1/cluster/masters", 2000, tls).catch(() => undefined);
        const list = r?.status === 200 ? ((r.body as { data?: ClusterMaster[] })?.data ?? []) : [];
        const leader = list.find((x) => x.leader && x.alive);
        if (leader) {
            return masters.find((x) => x.name === leader.name);
        }
    }
    return undefined;
}
