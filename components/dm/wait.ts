/**
 * Waits on subtask stages and syncer progress. Every task is polled in parallel each round (a round
 * over the OpenAPI costs a few milliseconds), so the wait ends within one interval of the last subtask
 * settling. Each wait takes `{intervalMs, timeoutMs, signal}` and fails with a WaitTimeoutError that
 * names the task, what was awaited and the last stage seen.
 */
import { pollUntil } from "../util/poll";
import { DmClient, DmError, Stage, SubtaskStatus } from "./types";

export interface WaitOptions {
    /** Pause between polling rounds. @default 10 */
    intervalMs?: number;
    /** @default 30000 */
    timeoutMs?: number;
    /** Aborts the wait with a DmError (operation "wait"). @default undefined */
    signal?: AbortSignal;
}

/** A wait that ran out of time; `lastSeen` is the subtask as last polled (undefined: never seen). */
export class WaitTimeoutError extends DmError {
    constructor(
        message: string,
        target: string,
        readonly awaited: string,
        readonly lastSeen: SubtaskStatus | undefined,
    ) {
        super(message, "wait", target);
        this.name = "WaitTimeoutError";
    }
}

interface Seen {
    status?: SubtaskStatus;
    error?: string;
}

/**
 * Polls until `ok` holds for every task's subtask on `sourceId`. A failing status query (a task not yet
 * created, a worker restarting) is remembered and retried until the timeout.
 */
async function awaitSubtasks(
    client: DmClient,
    tasks: string[],
    sourceId: string,
    awaited: string,
    ok: (task: string, s: SubtaskStatus) => boolean,
    opts: WaitOptions,
): Promise<SubtaskStatus[]> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const seen = new Map<string, Seen>();
    let pending = tasks;
    const all = await pollUntil(
        async () => {
            const round = await Promise.all(
                tasks.map(async (task): Promise<Seen> => {
                    try {
                        return {
                            status: (await client.taskStatus(task, sourceId)).find((s) => s.source === sourceId),
                        };
                    } catch (err) {
                        return {
                            status: seen.get(task)?.status,
                            error: err instanceof Error ? err.message : String(err),
                        };
                    }
                }),
            );
            tasks.forEach((t, i) => seen.set(t, round[i]));
            pending = tasks.filter((t) => {
                const s = seen.get(t)?.status;
                return s === undefined || !ok(t, s);
            });
            return pending.length === 0 ? tasks.map((t) => seen.get(t)!.status!) : undefined;
        },
        { intervalMs: opts.intervalMs ?? 10, timeoutMs, signal: opts.signal },
    );
    if (all !== undefined) {
        return all;
    }
    if (opts.signal?.aborted) {
        throw new DmError(
            `waiting for ${awaited} of ${tasks.join(", ")} on source ${sourceId} was aborted.`,
            "wait",
            tasks.join(","),
        );
    }
    const task = pending[0];
    const last = seen.get(task);
    const stage = last?.status
        ? `${last.status.stage}${last.status.rawStage !== last.status.stage ? ` ("${last.status.rawStage}")` : ""}`
        : "not seen";
    const errors = [...(last?.status?.errors ?? []), ...(last?.error ? [last.error] : [])];
    const others = pending.length > 1 ? ` (also pending: ${pending.slice(1).join(", ")})` : "";
    throw new WaitTimeoutError(
        `task ${task} on source ${sourceId} did not reach ${awaited} within ${timeoutMs} ms; last stage seen: ${stage}${errors.length ? `; errors: ${errors.join("; ")}` : ""}${others}. ` +
            "Check the task with query-status and the worker's log, then retry.",
        task,
        awaited,
        last?.status,
    );
}

/** Until every task's subtask on `sourceId` is in one of `stages`. Returns their statuses, in `tasks` order. */
export function waitForStage(
    client: DmClient,
    tasks: string[],
    sourceId: string,
    stages: Stage[],
    opts: WaitOptions = {},
): Promise<SubtaskStatus[]> {
    return awaitSubtasks(
        client,
        tasks,
        sourceId,
        `stage ${stages.join(" or ")}`,
        (_t, s) => stages.includes(s.stage),
        opts,
    );
}

/**
 * Until every task's syncer GTID on `sourceId` differs from `fromGtid[task]` (the syncer's set only
 * grows, so a different set is a later one). Tasks missing from `fromGtid` count from "".
 */
export function waitForSyncerAdvance(
    client: DmClient,
    tasks: string[],
    sourceId: string,
    fromGtid: Record<string, string>,
    opts: WaitOptions = {},
): Promise<SubtaskStatus[]> {
    const norm = (g: string) => g.replace(/\s+/g, "");
    return awaitSubtasks(
        client,
        tasks,
        sourceId,
        "a syncer GTID past the given one",
        (t, s) => s.syncerBinlogGtid !== "" && norm(s.syncerBinlogGtid) !== norm(fromGtid[t] ?? ""),
        opts,
    );
}
