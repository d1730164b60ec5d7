/**
 * The switch executor's ports wired to the real clients: DM (OpenAPI or dmctl), the MySQL/MariaDB probe,
 * the GTID rule and a VIP backend. Used by the Vip and SourceBinding providers and the hooked VIP's switch
 * (components/providers), and by tests that run the executor against live servers.
 */
import { DmClient, SourceConfigInfo, Stage, SubtaskStatus } from "../dm";
import { statusOnSource } from "../dm/sourceStatus";
import { DmVersion } from "../dm/capabilities";
import { readDmVersion } from "../dm/version";
import { contains, formatGtidSet, fromServer, parseGtidSet, subtract } from "../gtid";
import type { AddressInputs, Flavor } from "../model";
import { MysqlEndpoint, probe, sameServer, ServerFacts, targetPrerequisites, waitForCatchUp } from "../mysql";
import { catchUpTargets, decide, needsDmVersion } from "../preflight/decide";
import { judgeSameSet } from "../preflight/sameSet";
import { VipBackend } from "../vipBackends/types";
import { SwitchPorts, TaskStatus } from "./execute";

export interface PortsInput {
    dm: DmClient;
    sourceId: string;
    flavor: Flavor;
    instances: Record<string, AddressInputs>;
    user: string;
    password: string;
    log: (line: string) => void;
    /** dm-master's address, as the messages name it. */
    dmAddress: string;
    /** The resource's `tasks` list: checked, never narrowing (components/preflight `decide`). @default undefined */
    requestedTasks?: string[];
    /**
     * DM must know the source unless DM already reads from the target (a VIP: moving it needs every task
     * reading through it paused). @default false
     */
    requireSource?: boolean;
    /**
     * VIP mode: the backend, the VIP's address and how a move is verified ("connect": through the VIP's
     * address; "backend": the backend's answer; the Vip's `verify` input). @default undefined (no VIP)
     */
    vip?: { backend: VipBackend; address: AddressInputs; verify?: "connect" | "backend" };
}

/**
 * Runs `fn` for every item in parallel and waits until every call has settled before throwing the first
 * failure: a DM change left in flight (a dmctl start-task) could otherwise outlive the provider host, which
 * the engine stops once a resource has failed.
 */
export async function settleAll<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
    const results = await Promise.allSettled(items.map(fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
        throw failed.reason;
    }
}

/** How dm-switch connects to an address: its TLS setting (if any) travels with it, verified by the probe. */
export function endpointOf(a: AddressInputs, user: string, password: string): MysqlEndpoint {
    return { host: a.host, port: a.port, user, password, connectTimeoutMs: 5000, ...(a.tls ? { tls: a.tls } : {}) };
}

/** The executor's view of a subtask as the decision reads it (components/dm `SubtaskStatus`). */
function subtaskOf(task: string, source: string, s: TaskStatus): SubtaskStatus {
    return {
        task,
        source,
        worker: "",
        stage: (s.stage || "Offline") as Stage,
        rawStage: s.stage,
        unit: s.unit ?? "",
        syncerBinlogGtid: s.syncerGtid,
        masterBinlogGtid: "",
        dumpIoBytes: s.dumpIoBytes,
        errors: s.errors,
    };
}

/** Ports for one source's switch. Task calls run in parallel: the pause is as short as the slowest task. */
export function switchPorts(p: PortsInput): SwitchPorts {
    const instance = (name: string): MysqlEndpoint => {
        const a = p.instances[name];
        if (!a) {
            throw new Error(
                `instance ${name} is not one of the replication set's instances (${Object.keys(p.instances).join(", ")})`,
            );
        }
        return endpointOf(a, p.user, p.password);
    };
    // Read once per switch: DM's configuration of the source, and the facts of the server DM reads from now.
    let sourceConfig: Promise<SourceConfigInfo | undefined> | undefined;
    // Read once, and only when a MySQL set holds tagged GTIDs (what DM does with them depends on its version).
    let dmVersion: Promise<DmVersion | undefined> | undefined;
    const currentFacts = new Map<string, Promise<ServerFacts>>();
    const currentOf = (from: string | undefined): { name: string; endpoint: MysqlEndpoint } | undefined => {
        if (from !== undefined && p.instances[from]) {
            const a = p.instances[from];
            return { name: `${from} (${a.host}:${a.port})`, endpoint: instance(from) };
        }
        // The VIP points at no known instance: compare with whatever answers through it, as the pack does.
        return p.vip
            ? {
                  name: `the VIP ${p.vip.address.host}:${p.vip.address.port}`,
                  endpoint: endpointOf(p.vip.address, p.user, p.password),
              }
            : undefined;
    };
    return {
        async status(tasks) {
            // One dm-worker request for every task of the source, not one per task: dm-master throttles them.
            const subs = await statusOnSource(p.dm, p.sourceId, tasks, p.log);
            return new Map(
                tasks.map((t): [string, TaskStatus] => {
                    const sub = subs.get(t);
                    return [
                        t,
                        {
                            stage: sub?.stage ?? "",
                            unit: sub?.unit,
                            syncerGtid: sub?.syncerBinlogGtid ?? "",
                            errors: sub?.errors ?? [],
                            dumpIoBytes: sub?.dumpIoBytes,
                        },
                    ];
                }),
            );
        },
        pause: (tasks) => settleAll(tasks, (t) => p.dm.pauseTask(t, [p.sourceId])),
        resume: (tasks) => settleAll(tasks, (t) => p.dm.resumeTask(t, [p.sourceId])),
        stopTasks: () => Promise.reject(new Error("stopping tasks is the address procedure's, not the VIP's")),
        startTasks: () => Promise.reject(new Error("starting tasks is the address procedure's, not the VIP's")),
        stopSource: () => p.dm.stopSource(p.sourceId),
        createSource: () => Promise.reject(new Error("creating the source is the address procedure's")),
        startRelay: () => Promise.reject(new Error("starting relay is the address procedure's")),
        async targetGtids(target) {
            const facts = await probe(instance(target));
            const server = p.flavor === "mariadb" ? String(facts.serverId) : (facts.serverUuid ?? "");
            const replica =
                facts.replication !== undefined ? true : facts.replicationUnreadable !== undefined ? undefined : false;
            return { purged: facts.gtidPurged, executed: facts.gtidExecuted, server, replica };
        },
        async waitForCatchUp(target, gtid, timeoutMs) {
            return (await waitForCatchUp(instance(target), p.flavor, gtid, timeoutMs)).caughtUp;
        },
        async decide(target, status, context) {
            const current = currentOf(context.from);
            if (current && !currentFacts.has(current.name)) {
                currentFacts.set(current.name, probe(current.endpoint));
            }
            sourceConfig ??= p.dm.getSourceConfig(p.sourceId);
            const [facts, source, now] = await Promise.all([
                probe(instance(target)),
                sourceConfig,
                current ? currentFacts.get(current.name) : undefined,
            ]);
            const same =
                current && now
                    ? await judgeSameSet(current.name, now, facts, () => probe(current.endpoint))
                    : undefined;
            dmVersion ??= needsDmVersion(p.flavor, facts.gtidExecuted, now?.gtidExecuted)
                ? readDmVersion(p.dm.endpoint).catch(() => undefined)
                : undefined;
            const a = p.instances[target];
            const report = decide({
                sourceId: p.sourceId,
                flavor: p.flavor,
                target,
                targetAddress: `${a.host}:${a.port}`,
                source,
                requestedTasks: p.requestedTasks,
                requireSourceAt: p.requireSource && !(now && sameServer(now, facts)) ? p.dmAddress : undefined,
                tasks: [...status].map(([task, s]) => ({ task, status: subtaskOf(task, p.sourceId, s) })),
                facts,
                prerequisites: targetPrerequisites(facts),
                sameReplicationSet: same,
                catchUp: context.catchUp,
                upstream:
                    current && now
                        ? { side: `the source's upstream ${current.name}`, gtidSet: now.gtidExecuted }
                        : undefined,
                dmVersion: await dmVersion,
            });
            // The GTID rule's reasons change once the tasks are paused (gtid-S stops moving); the others do not.
            const rule = new Set(report.tasks.filter((t) => t.verdict !== undefined).flatMap((t) => t.reasons));
            return {
                ok: report.ok,
                reasons: report.reasons,
                standing: report.reasons.filter((r) => !rule.has(r)),
                catchUp: catchUpTargets(report),
                executed: facts.gtidExecuted,
            };
        },
        covers: (a, b) => contains(parseGtidSet(p.flavor, a), parseGtidSet(p.flavor, b)),
        writtenBy: (before, after, server) =>
            formatGtidSet(fromServer(subtract(parseGtidSet(p.flavor, after), parseGtidSet(p.flavor, before)), server)),
        async relay() {
            const source = await p.dm.getSource(p.sourceId);
            // On by the source's configuration, or started for its worker (start-relay: the configuration says off).
            if (!source?.enableRelay && !source?.relay) {
                return undefined;
            }
            // Relay enabled but no status: the worker is offline or relay has not started.
            const r = source.relay;
            return {
                stage: r?.stage ?? "Offline",
                subDir: r?.relaySubDir ?? "",
                errors: [...(r?.errors ?? []), ...source.errors],
            };
        },
        async relayName(target) {
            // DM's relay subdirectory names: server_uuid (MySQL), `gtid_domain_id-server_id` (MariaDB: GetMariaDBUUID).
            const facts = await probe(instance(target));
            return p.flavor === "mariadb" ? `${facts.gtidDomainId ?? 0}-${facts.serverId}` : (facts.serverUuid ?? "");
        },
        vip: p.vip && {
            current: () => p.vip!.backend.current(),
            moveTo: (to) => p.vip!.backend.moveTo(to),
            async verify(to) {
                if (p.vip!.verify === "backend") {
                    // The backend's moveTo has waited for the change (INSYNC, the IP attached); read it back.
                    const now = await p.vip!.backend.current();
                    if (now !== to) {
                        throw new Error(
                            `${p.vip!.backend.description} points at ${now ?? "no instance"}, not at ${to}, after the move (verify: "backend")`,
                        );
                    }
                    // The plan's step says "connect through the VIP"; say what was checked instead.
                    p.log(
                        `verified through the backend, not the VIP's address: ${p.vip!.backend.description} points at ${to}`,
                    );
                    return;
                }
                const [through, direct] = await Promise.all([
                    probe(endpointOf(p.vip!.address, p.user, p.password)),
                    probe(instance(to)),
                ]);
                // One server by what it says about itself (ids, hostname, port, data directory): a server_id alone
                // would take another server with the same id for the target.
                if (!sameServer(through, direct)) {
                    throw new Error(
                        `the VIP ${p.vip!.address.host}:${p.vip!.address.port} is answered by server_id ${through.serverId}, not by ${to} (server_id ${direct.serverId})`,
                    );
                }
            },
        },
        log: p.log,
    };
}
