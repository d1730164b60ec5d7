/**
 * What a preview shows of a switch: the plan, with each task's stage read from DM when it answers (the
 * preview names the tasks that are not running: another stack or an operator may be switching the source),
 * from the inputs otherwise.
 */
import { createDmClient } from "../dm";
import { statusOnSource } from "../dm/sourceStatus";
import type { DmEndpointInputs } from "../model";
import { tasksToCheck } from "../preflight/decide";
import { formatPlan, SwitchPlan, TaskState } from "../switch/plan";

/** How long a preview waits for DM to list the tasks' stages before planning from the inputs alone. */
const PREVIEW_READ_MS = 5000;

/**
 * Every task of the source with its stage as DM reports it now, for a preview's plan; when DM cannot be read
 * (within {@link PREVIEW_READ_MS}), the `tasks` input (or a placeholder) as Running, and a note saying so.
 */
export async function liveTaskStages(i: {
    dm: DmEndpointInputs;
    sourceId: string;
    tasks?: string[];
}): Promise<{ tasks: { name: string; stage: string }[]; note: string[] }> {
    // Which member of a dm-master cluster answered (the client says when it had to move on): the preview names it.
    const answered: string[] = [];
    const read = async () => {
        const dm = createDmClient(i.dm, (line) => answered.push(`  (${line})`));
        const names = tasksToCheck(await dm.getSourceConfig(i.sourceId), i.tasks);
        // One dm-worker request for the whole source (dm-master throttles them), as the switch reads.
        const subs = await statusOnSource(dm, i.sourceId, names, (line) => answered.push(`  (${line})`));
        return names.map((name) => ({ name, stage: subs.get(name)?.stage ?? "" }));
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PREVIEW_READ_MS} ms`)), PREVIEW_READ_MS);
    });
    try {
        return { tasks: await Promise.race([read(), late]), note: answered };
    } catch (err) {
        const why = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ");
        const tasks = (i.tasks ?? [`<every task of ${i.sourceId}>`]).map((name) => ({ name, stage: "Running" }));
        return {
            tasks,
            note: [
                `  (the tasks' stages could not be read from DM at ${i.dm.address}: ${why}; 'pulumi up' reads them before anything changes)`,
            ],
        };
    } finally {
        clearTimeout(timer);
    }
}

/** The lines of the plan `planOf` makes from the tasks' stages (see {@link liveTaskStages}), for `check`. */
export async function previewLines(
    i: { dm: DmEndpointInputs; sourceId: string; tasks?: string[] },
    planOf: (tasks: TaskState[]) => SwitchPlan,
): Promise<string[]> {
    const { tasks, note } = await liveTaskStages(i);
    return [...formatPlan(planOf(tasks)), ...note];
}
