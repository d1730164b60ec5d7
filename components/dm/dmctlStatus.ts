/**
 * dmctl's query-status answers mapped to dm-switch's shapes: the subtasks of a task or of a source, and a
 * source's relay. Pure: no I/O (./dmctlClient.ts runs dmctl).
 */
import { DmctlReply } from "./dmctl";
import {
    DmError,
    oneLine,
    parseStage,
    RelayStatus,
    SourceTasksStatus,
    SubtaskStatus,
    subtaskStatus,
    SyncUnitStatus,
} from "./types";

export interface DmctlSubtask {
    name?: string;
    stage?: string;
    unit?: string;
    result?: { errors?: { message?: string; RawCause?: string; rawCause?: string }[] } | null;
    sync?: SyncUnitStatus | null;
}

export interface DmctlSourceStatus {
    result?: boolean;
    msg?: string;
    sourceStatus?: {
        source?: string;
        worker?: string;
        result?: { errors?: { message?: string }[] } | null;
        relayStatus?: {
            stage?: string;
            relayBinlogGtid?: string;
            relayCatchUpMaster?: boolean;
            relaySubDir?: string;
            result?: { errors?: { message?: string }[] } | null;
        } | null;
    };
    subTaskStatus?: DmctlSubtask[];
}

export const messages = (
    r: { errors?: { message?: string; RawCause?: string; rawCause?: string }[] } | null | undefined,
) =>
    (r?.errors ?? [])
        .map((e) => oneLine([e.message, e.RawCause ?? e.rawCause].filter(Boolean).join(": ")))
        .filter((m) => m !== "");

/** One subtask of dmctl's query-status answer. */
function subtaskFromDmctl(task: string, source: string, worker: string, s: DmctlSubtask): SubtaskStatus {
    return subtaskStatus({
        task,
        source,
        worker,
        stage: s.stage,
        unit: s.unit,
        sync: s.sync,
        errors: messages(s.result),
    });
}

/** Subtasks from `query-status <task>`; a source whose worker does not answer becomes one Offline subtask. */
export function subtasksFromQueryStatus(task: string, reply: DmctlReply): SubtaskStatus[] {
    const out: SubtaskStatus[] = [];
    for (const src of (reply.sources ?? []) as DmctlSourceStatus[]) {
        const source = src.sourceStatus?.source ?? "";
        const worker = src.sourceStatus?.worker ?? "";
        const subs = (src.subTaskStatus ?? []).filter((s) => s.name === task);
        if (subs.length === 0) {
            out.push(subtaskStatus({ task, source, worker, errors: src.msg ? [oneLine(src.msg)] : [] }));
            continue;
        }
        out.push(...subs.map((s) => subtaskFromDmctl(task, source, worker, s)));
    }
    return out;
}

/**
 * Every subtask of `sourceId` from `query-status -s <source>`, each as {@link subtasksFromQueryStatus}
 * reads it for its task. When no worker of the source answered, the source is `unanswered` with what a
 * per-task read then reports (the worker and DM's message); the subtasks such an answer lists (dm-master
 * names the tasks of a source no worker answered for) have no status and are left out.
 */
export function subtasksOfSource(sourceId: string, reply: DmctlReply): SourceTasksStatus {
    const mine = ((reply.sources ?? []) as DmctlSourceStatus[]).filter(
        (src) => (src.sourceStatus?.source ?? "") === sourceId,
    );
    if (mine.length === 0) {
        throw new DmError(
            `query-status -s ${sourceId} failed: dm-master's answer has no status of source ${sourceId}. See dm-master's log.`,
            "query-status",
            sourceId,
        );
    }
    // dmctl prints `result` of each source; false: the worker did not answer.
    const answered = mine.filter((src) => src.result !== false);
    if (answered.length === 0) {
        const msg = mine[0].msg;
        return {
            source: sourceId,
            subtasks: [],
            unanswered: {
                worker: mine[0].sourceStatus?.worker ?? "",
                errors: msg ? [oneLine(msg)] : [],
            },
        };
    }
    const subtasks = answered.flatMap((src) =>
        (src.subTaskStatus ?? []).map((s) =>
            subtaskFromDmctl(s.name ?? "", sourceId, src.sourceStatus?.worker ?? "", s),
        ),
    );
    return { source: sourceId, subtasks };
}

/** The relay status dmctl's query-status -s reports for a source with relay on. */
export function relayFrom(src: DmctlSourceStatus | undefined): RelayStatus | undefined {
    const r = src?.sourceStatus?.relayStatus;
    if (!r) {
        return undefined;
    }
    return {
        stage: parseStage(r.stage),
        relayBinlogGtid: r.relayBinlogGtid ?? "",
        relayCatchUpMaster: r.relayCatchUpMaster ?? false,
        relaySubDir: r.relaySubDir ?? "",
        errors: messages(r.result),
    };
}
