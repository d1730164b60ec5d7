/**
 * The status of some tasks of one source, read as cheaply as DM allows: one worker request for the whole
 * source (DmClient.sourceTaskStatus) in place of one per task. dm-master passes worker requests through a
 * token bucket (10 a second after a burst of 40, shared by every client), so with tens of tasks per-task
 * reads made a switch's pause wait on throttled status reads.
 */
import { DmClient, SourceStatusUnavailable, SubtaskStatus, subtaskStatus } from "./types";

/** Per client, the reasons already logged: a poll must not repeat the same line every round. */
const logged = new WeakMap<DmClient, Set<string>>();

function logOnce(client: DmClient, line: string, log: (line: string) => void): void {
    const seen = logged.get(client) ?? new Set<string>();
    logged.set(client, seen);
    if (!seen.has(line)) {
        seen.add(line);
        log(line);
    }
}

const perTask = (client: DmClient, sourceId: string, task: string) =>
    client.taskStatus(task, sourceId).then((subs) => subs.find((s) => s.source === sourceId));

/**
 * Each task's subtask on `sourceId` exactly as `taskStatus(task, sourceId)` reports it (undefined where
 * that reports none for the source, and its error where it fails), from one per-source read:
 * - a task in the answer: its subtask;
 * - no worker answered for the source: Offline with the worker and DM's message, as a per-task read says;
 * - a task missing from an answer (not created yet, or no such task): its own per-task read, which says
 *   which (a DmError for a task DM does not know).
 * When the per-source read is not available from this dm-master or fails, every task is read on its own
 * (as before it existed) and `log` says so once per client and cause.
 */
export async function statusOnSource(
    client: DmClient,
    sourceId: string,
    tasks: string[],
    log: (line: string) => void,
): Promise<Map<string, SubtaskStatus | undefined>> {
    if (tasks.length === 0) {
        return new Map();
    }
    let all: Awaited<ReturnType<DmClient["sourceTaskStatus"]>> | undefined;
    try {
        all = await client.sourceTaskStatus(sourceId);
    } catch (err) {
        const why = (err instanceof Error ? err.message : String(err)).replace(/[.\s]*$/, "");
        const what = err instanceof SourceStatusUnavailable ? "is not available" : "failed";
        logOnce(
            client,
            `the status of every task of source ${sourceId} in one request ${what} (${why}): reading each task's status on its own`,
            log,
        );
    }
    const out = new Map<string, SubtaskStatus | undefined>();
    await Promise.all(
        tasks.map(async (task) => {
            const found = all?.subtasks.find((s) => s.task === task);
            if (found) {
                out.set(task, found);
            } else if (all?.unanswered) {
                const { worker, errors } = all.unanswered;
                // As a per-task read reports a task whose worker did not answer: Offline, DM's message.
                out.set(task, subtaskStatus({ task, source: sourceId, worker, errors: [...errors] }));
            } else {
                out.set(task, await perTask(client, sourceId, task));
            }
        }),
    );
    // In `tasks` order, whatever order the reads finished in.
    return new Map(tasks.map((t) => [t, out.get(t)]));
}
