/**
 * What a preview shows of a switch: the plan, with each task's stage read from DM when it answers (the
 * preview names the tasks that are not running: another stack or an operator may be switching the source),
 * from the inputs otherwise.
 */
import { createDmClient, DmClient } from "../dm";
import { statusOnSource } from "../dm/sourceStatus";
import type { DmEndpointInputs } from "../model";
import { tasksToCheck } from "../preflight/decide";
import { formatPlan, SwitchPlan, TaskState } from "../switch/plan";

/** How long a preview waits for DM to list the tasks' stages before planning from the inputs alone. */
const PREVIEW_READ_MS = 5000;

/**
 * `read` against DM within {@link PREVIEW_READ_MS}: its value, or why it failed; `note`, the lines the client
 * logged (which member of a dm-master cluster answered, when it had to move on), for the preview to name.
 */
export async function readForPreview<T>(
    endpoint: DmEndpointInputs,
    read: (dm: DmClient, log: (line: string) => void) => Promise<T>,
): Promise<{ value: T; note: string[] } | { failed: string; note: string[] }> {
    const note: string[] = [];
    const log = (line: string) => void note.push(`  (${line})`);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PREVIEW_READ_MS} ms`)), PREVIEW_READ_MS);
    });
    try {
        return { value: await Promise.race([read(createDmClient(endpoint, log), log), late]), note };
    } catch (err) {
        return { failed: (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " "), note };
    } finally {
        clearTimeout(timer);
    }
}

/**
 * Every task of the source with its stage as DM reports it now, for a preview's plan; when DM cannot be read
 * (within {@link PREVIEW_READ_MS}), the `tasks` input (or a placeholder) as Running, and a note saying so.
 */
export async function liveTaskStages(i: {
    dm: DmEndpointInputs;
    sourceId: string;
    tasks?: string[];
}): Promise<{ tasks: { name: string; stage: string }[]; note: string[] }> {
    const r = await readForPreview(i.dm, async (dm, log) => {
        const names = tasksToCheck(await dm.getSourceConfig(i.sourceId), i.tasks);
        // One dm-worker request for the whole source (dm-master throttles them), as the switch reads.
        const subs = await statusOnSource(dm, i.sourceId, names, log);
        return names.map((name) => ({ name, stage: subs.get(name)?.stage ?? "" }));
    });
    if ("value" in r) {
        return { tasks: r.value, note: r.note };
    }
    return {
        tasks: (i.tasks ?? [`<every task of ${i.sourceId}>`]).map((name) => ({ name, stage: "Running" })),
        note: [unreadNote(i.dm, r.failed)],
    };
}

/** The preview's line for a plan made without DM's answer. */
const unreadNote = (dm: DmEndpointInputs, why: string) =>
    `  (the tasks' stages could not be read from DM at ${dm.address}: ${why}; 'pulumi up' reads them before anything changes)`;

/** The lines of the plan `planOf` makes from the tasks' stages (see {@link liveTaskStages}), for `check`. */
export async function previewLines(
    i: { dm: DmEndpointInputs; sourceId: string; tasks?: string[] },
    planOf: (tasks: TaskState[]) => SwitchPlan,
): Promise<string[]> {
    const { tasks, note } = await liveTaskStages(i);
    return [...formatPlan(planOf(tasks)), ...note];
}
