/**
 * Shapes of the DM client: what dm-switch asks of DM, whatever the transport (OpenAPI or dmctl).
 * Pure: no I/O, no @pulumi/* import.
 */

import type { Transport, UpstreamSettings } from "../model";

export type { Transport } from "../model";

export interface DmEndpoint {
    /** How to talk to dm-master: its OpenAPI v1 (`openapi = true` in dm-master's config) or the dmctl binary. */
    transport: Transport;
    /** `host:port` of dm-master (the same listener serves gRPC for dmctl and the OpenAPI). */
    address: string;
    /** PEM contents (not paths) when dm-master requires TLS. @default undefined (plain HTTP / no TLS) */
    tls?: { ca?: string; cert?: string; key?: string };
    /**
     * Path of the dmctl binary. Required by the dmctl transport, and by the OpenAPI transport for
     * stopTask, startTask and getTaskConfig (see ./openapi.ts for why). @default undefined
     */
    dmctlPath?: string;
    /** Per request (OpenAPI) or per dmctl run. @default 10000 (OpenAPI), 60000 (dmctl) */
    requestTimeoutMs?: number;
    /**
     * OpenAPI, several members: how long a request waits for the cluster to elect a leader when the members
     * that answer cannot pass it to one (the leader died; DM elects another once its lease runs out, about a
     * minute). Only reads and requests safe to repeat (pause-task, resume-task) wait; 0 never waits.
     * @default 90000 with several members, 0 with one
     */
    leaderWaitMs?: number;
}

/** DM's stages, plus `Offline` (no worker answers for the source: DM reports "") and `Unknown`. */
export type Stage =
    "Running" | "Paused" | "Stopped" | "New" | "Pausing" | "Resuming" | "Stopping" | "Finished" | "Offline" | "Unknown";

const STAGES: Stage[] = ["Running", "Paused", "Stopped", "New", "Pausing", "Resuming", "Stopping", "Finished"];

/** Tolerant parse of DM's stage text: any case; "" (worker offline) → Offline; anything else unknown → Unknown. */
export function parseStage(raw: string | undefined | null): Stage {
    const text = (raw ?? "").trim();
    if (text === "") {
        return "Offline";
    }
    return STAGES.find((s) => s.toLowerCase() === text.toLowerCase()) ?? "Unknown";
}

/** One subtask: a task on one source. */
export interface SubtaskStatus {
    task: string;
    source: string;
    /** The worker bound to the source; "" when offline. */
    worker: string;
    stage: Stage;
    /** The stage exactly as DM printed it. */
    rawStage: string;
    /** Sync, Load, Dump, … ("" when unknown). */
    unit: string;
    /** The syncer's flushed checkpoint GTID set (gtid-S once the subtask is Paused); "" when not in the sync unit. */
    syncerBinlogGtid: string;
    masterBinlogGtid: string;
    /**
     * Bytes the syncer's binlog reader has received from the upstream (`dumpIOTotalBytes`); it survives a
     * pause, so growth after a resume shows the reader streams from the (new) upstream. undefined when DM
     * does not report it (no sync unit, or relay: the syncer then reads local files).
     */
    dumpIoBytes?: number;
    /** Error messages of the subtask (or of the source when its worker cannot be reached), one line each. */
    errors: string[];
}

/** Every subtask of one source, read in one worker request ({@link DmClient.sourceTaskStatus}). */
export interface SourceTasksStatus {
    source: string;
    /** Each subtask the source's worker reported, as `taskStatus(task, source)` reports it. */
    subtasks: SubtaskStatus[];
    /**
     * Set when no worker of the source answered (offline, not bound, dm-master out of request tokens):
     * `subtasks` is then empty, and a per-task read reports every task of the source Offline with this
     * worker and these errors. @default undefined (the worker answered)
     */
    unanswered?: { worker: string; errors: string[] };
}

/** DM's configuration of a source, as dm-switch creates it (operate-source create / POST /api/v1/sources). */
export interface DmSourceConfig extends UpstreamSettings {
    /** DM's `source-id`. The password goes to DM only in a request body or a private 0600 temp file. */
    id: string;
    /** Where relay starts when enabled. @default undefined */
    relayBinlogGtid?: string;
    /** Bind the source to this worker (OpenAPI `worker_name`; dmctl `-w`). @default undefined (DM picks a free worker) */
    workerName?: string;
    /**
     * DM's own configuration file of the source (DmClient.getSourceFile, password masked): the source is
     * created from it with the fields above overlaid, so every field DM had that these do not set is kept
     * (`case-sensitive`, `filters`, `purge`, `checker`, `from.session`, …). Both transports then run dmctl
     * `operate-source create` (the OpenAPI sets only some fields). @default undefined (a new file)
     */
    baseFile?: string;
}

/** @deprecated DM's source configuration is {@link DmSourceConfig}; the stack's source is `StackSource` (components/stackConfig.ts). */
export type SourceConfig = DmSourceConfig;

export interface RelayStatus {
    stage: Stage;
    relayBinlogGtid: string;
    relayCatchUpMaster: boolean;
    relaySubDir: string;
    errors: string[];
}

/**
 * What dm-master itself holds about a source — its configuration and the tasks with a subtask on it —
 * without the status only its dm-worker can tell (worker, relay, errors).
 */
export interface SourceConfigInfo {
    id: string;
    host: string;
    port: number;
    user: string;
    flavor: string;
    enableGtid: boolean;
    enableRelay: boolean;
    /** Names of every task with a subtask on the source, sorted. */
    taskNames: string[];
}

/** A source with its status: SourceConfigInfo plus what its dm-worker reports. */
export interface SourceInfo extends SourceConfigInfo {
    /** The worker bound to the source; undefined when none is. */
    worker?: string;
    /** Present when the worker reports relay status (relay enabled). */
    relay?: RelayStatus;
    /** Errors the worker reported for the source (offline worker, …). */
    errors: string[];
}

/** The configuration part of a SourceInfo (what getSourceConfig answers). */
export function configOf(s: SourceInfo): SourceConfigInfo {
    const { id, host, port, user, flavor, enableGtid, enableRelay, taskNames } = s;
    return { id, host, port, user, flavor, enableGtid, enableRelay, taskNames };
}

export interface StartTaskOptions {
    /**
     * Per source id: rewrite `mysql-instances[].meta.binlog-gtid` to this set (gtid-S) and clear
     * binlog-name/pos, so that start-task's precheck checks the position the syncer really resumes from
     * (tiflow#11648). The checkpoint in the downstream still decides where the syncer starts. @default undefined
     */
    binlogGtid?: Record<string, string>;
    /**
     * The downstream password, put into `target-database.password` when the task file holds DM's mask
     * `******` (a config read back with getTaskConfig). @default undefined
     */
    targetPassword?: string;
}

export interface DmClient {
    readonly endpoint: DmEndpoint;
    /** undefined when DM has no source with this id. */
    getSource(id: string): Promise<SourceInfo | undefined>;
    listSources(): Promise<SourceInfo[]>;
    /**
     * The source's configuration and task names without its status; undefined when DM has no such
     * source. Costs at most what getSource costs.
     */
    getSourceConfig(id: string): Promise<SourceConfigInfo | undefined>;
    /**
     * Every source's configuration and task names, read from dm-master alone (OpenAPI: two requests):
     * no dm-worker is asked, so it spends none of dm-master's budget of worker requests (its
     * `rpc-rate-limit`: 10 a second after a burst of 40, shared by every client), which getSource and
     * listSources spend one of per source.
     */
    listSourceConfigs(): Promise<SourceConfigInfo[]>;
    /**
     * DM's whole configuration of the source, as the YAML `operate-source create` takes (`dmctl get-config
     * source`, both transports: the OpenAPI answers only some fields), `from.password` masked; undefined
     * when DM has no such source. Never log it: it is DM's raw text.
     */
    getSourceFile(id: string): Promise<string | undefined>;
    /** `operate-source create` (from `cfg.baseFile` when given). */
    createSource(cfg: DmSourceConfig): Promise<void>;
    /** `operate-source stop`: DM refuses while tasks of the source exist (stop them first). */
    stopSource(id: string): Promise<void>;
    /**
     * `start-relay -s <id> <worker>` (OpenAPI: POST …/relay/enable): relay for the source on that worker,
     * started explicitly; the source's own `enable-relay` stays false.
     */
    startRelay(id: string, worker: string): Promise<void>;
    /**
     * `stop-relay -s <id> <worker>` (OpenAPI: POST …/relay/disable): ends relay started by startRelay. DM
     * refuses operate-source stop while it runs (46023, "has existing relay workers").
     */
    stopRelay(id: string, worker: string): Promise<void>;
    /** Names of every task with a subtask on the source. */
    tasksOfSource(id: string): Promise<string[]>;
    /**
     * Every subtask of the task, or only the one on `sourceId`. Fails for an unknown task. dm-master asks
     * the worker of each source it reads (OpenAPI: every source of the task, even with `sourceId`).
     */
    taskStatus(task: string, sourceId?: string): Promise<SubtaskStatus[]>;
    /**
     * Every subtask on the source from ONE worker request, however many tasks it has: dmctl `query-status
     * -s <source>`; the OpenAPI transport calls dm-master's gRPC `QueryStatus` on the same address (its
     * HTTP API reads status per task, one worker request each, or per source without the subtasks).
     * Throws {@link SourceStatusUnavailable} when dm-master cannot answer it this way (./sourceStatus.ts
     * then reads per task). Fails for an unknown source.
     */
    sourceTaskStatus(sourceId: string): Promise<SourceTasksStatus>;
    /** `pause-task` (OpenAPI: POST …/stop): the subtask stays, the checkpoint is flushed. */
    pauseTask(task: string, sourceIds?: string[]): Promise<void>;
    /** `resume-task` (OpenAPI: POST …/start with remove_meta false): resumes from the checkpoint. */
    resumeTask(task: string, sourceIds?: string[]): Promise<void>;
    /** The task's configuration as DM holds it (YAML, target password masked as `******`). */
    getTaskConfig(task: string): Promise<string>;
    /** `stop-task`: removes the subtasks and KEEPS the downstream checkpoint. */
    stopTask(task: string): Promise<void>;
    /** `start-task <file>`: resumes from the downstream checkpoint (never removes meta). */
    startTask(taskConfig: string, opts?: StartTaskOptions): Promise<void>;
}

/**
 * A DM operation that failed. The message is one line with a remedy and never holds a password or a
 * raw DM response body.
 */
export class DmError extends Error {
    constructor(
        message: string,
        /** What was attempted: "pause-task", "query-status", … */
        readonly operation: string,
        /** The task, source or address it was attempted on. */
        readonly target: string,
        /** DM's error code (`error_code`, `[code=…]`) when DM gave one. */
        readonly code?: number,
    ) {
        super(message);
        this.name = "DmError";
    }
}

/**
 * The per-source status read is not available from this dm-master (no gRPC on its address, an answer that
 * is not DM's QueryStatus, a method it does not implement): per-task reads answer the same question.
 */
export class SourceStatusUnavailable extends DmError {
    constructor(message: string, target: string) {
        super(message, "query-status", target);
        this.name = "SourceStatusUnavailable";
    }
}

/**
 * Makes DM's text safe and one line: removes every known secret and collapses whitespace. DM's
 * messages are long (`[code=…:class=…], Message: …, Workaround: …`); they are kept whole, on one line.
 */
export function oneLine(text: string, secrets: Iterable<string> = []): string {
    let out = text;
    for (const s of secrets) {
        if (s.length > 0) {
            out = out.split(s).join("******");
        }
    }
    return out.replace(/\s+/g, " ").trim();
}

/** `{dumpIoBytes}` from DM's number (dmctl prints int64 as a string); nothing when absent or not a count. */
export function bytesOf(raw: string | number | undefined | null): { dumpIoBytes?: number } {
    const n = typeof raw === "string" ? Number(raw) : raw;
    return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? { dumpIoBytes: n } : {};
}

/** DM's code from a message such as `[code=46018:class=scheduler:…]`. */
export function codeOf(text: string): number | undefined {
    const m = /\[code=(\d+)/.exec(text);
    return m ? Number(m[1]) : undefined;
}

/** A subtask's fields as either transport reads them from DM, before they are mapped to a SubtaskStatus. */
export interface RawSubtask {
    task: string;
    source: string;
    worker: string;
    /** DM's stage text; "" (no worker answered) reads as Offline. @default "" */
    stage?: string;
    /** @default "" */
    unit?: string;
    /** @default undefined (not in the sync unit) */
    sync?: SyncUnitStatus | null;
    errors: string[];
}

/** The sync unit's status of a subtask, in dmctl's names (the OpenAPI's are mapped to these). */
export interface SyncUnitStatus {
    syncerBinlogGtid?: string;
    masterBinlogGtid?: string;
    /** A string from dmctl (int64), a number from the OpenAPI. */
    dumpIOTotalBytes?: string | number;
    /** "local" when the syncer reads the relay log: its dump bytes then say nothing of the upstream. */
    binlogType?: string;
}

/** The one mapping of DM's subtask fields to a SubtaskStatus, for every transport and for an unanswered source. */
export function subtaskStatus(r: RawSubtask): SubtaskStatus {
    return {
        task: r.task,
        source: r.source,
        worker: r.worker,
        stage: parseStage(r.stage),
        rawStage: r.stage ?? "",
        unit: r.unit ?? "",
        syncerBinlogGtid: r.sync?.syncerBinlogGtid ?? "",
        masterBinlogGtid: r.sync?.masterBinlogGtid ?? "",
        ...bytesOf(r.sync?.binlogType === "local" ? undefined : r.sync?.dumpIOTotalBytes),
        errors: r.errors,
    };
}
