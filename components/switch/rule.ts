/**
 * The check-rule step: with the tasks paused, re-read every task, make sure nobody else changed them since
 * the plan was made, and re-decide the switch with the same decision the policy pack makes
 * (components/preflight `decide`, through {@link SwitchPorts.decide}), waiting once for a lagging target.
 */
import type { ResolvedOptions } from "./options";
import { ACTIVE_STAGES, SwitchPlan } from "./plan";
import type { Decision, SwitchPorts, TaskStatus } from "./types";

/** A rule violation found at apply time: nothing was changed but the pause, which was undone. */
export class RuleViolationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RuleViolationError";
    }
}

/**
 * Tasks whose state is not what this switch left them in: a task dm-switch paused must still be Paused at
 * the checkpoint it was seen Paused with; a task that was not running when the plan was made must not run
 * now. Another stack or an operator with dmctl is then switching or resuming the same source, and moving
 * the VIP (or the source) would leave a task reading from the old server. One clause per task.
 */
export function changedByOthers(
    plan: Pick<SwitchPlan, "switched" | "stages">,
    status: Map<string, TaskStatus>,
    seenPaused: Map<string, TaskStatus>,
): string[] {
    const out: string[] = [];
    for (const [t, s] of status) {
        const stage = s.stage || "Offline";
        if (plan.switched.includes(t)) {
            const before = seenPaused.get(t);
            // Stopped at the checkpoint it paused at is DM's own doing: a source re-bound to another dm-worker
            // (its worker lost) brings its subtasks back Stopped there, and resuming starts them from it.
            const halted = s.stage === "Paused" || s.stage === "Stopped";
            if (!halted && s.stage !== "Offline" && s.stage !== "") {
                out.push(`${t} is ${stage}, not Paused as dm-switch left it`);
            } else if (before !== undefined && halted && s.syncerGtid !== before.syncerGtid) {
                out.push(
                    `${t} was resumed and paused again (its checkpoint moved from ${before.syncerGtid || '""'} to ${s.syncerGtid || '""'})`,
                );
            }
        } else if (!ACTIVE_STAGES.has(plan.stages?.[t] ?? "") && ACTIVE_STAGES.has(s.stage)) {
            out.push(`${t} is ${stage}, although it was ${plan.stages?.[t] || "not running"} when the switch began`);
        }
    }
    return out;
}

/**
 * Reads every task again and the target, and enforces the decision for every task (after a catch-up wait,
 * every task is read again: the last read before the move is what proves nobody else changed them).
 * `seenPaused` holds the statuses await-paused saw each task Paused with. Fills `gtidS` and `bytes` from the
 * fresh statuses and returns the target's gtid-E it decided against. A plan that finishes a stopped address
 * switch (SwitchPlan.finish) has no subtask to read: it decides on the checkpoints in `gtidS`, which cannot
 * move during the wait.
 */
export async function checkRule(
    ports: SwitchPorts,
    plan: SwitchPlan,
    step: { tasks: string[]; target: string },
    opts: ResolvedOptions,
    gtidS: Map<string, string>,
    bytes: Map<string, number>,
    seenPaused: Map<string, TaskStatus>,
): Promise<string> {
    const read = () => readUnchanged(ports, plan, step.tasks, seenPaused, gtidS, bytes);
    const status = plan.finish ? stoppedStatus(step.tasks, gtidS) : await read();
    // After a wait, which gave another switch time to begin, every task is read again before deciding.
    const reread = plan.finish ? undefined : read;
    const decision = await decideWaitingOnce(ports, step.target, opts.catchUpTimeoutMs, plan.from, status, reread);
    if (!decision.ok) {
        throw new RuleViolationError(decision.reasons.join(" "));
    }
    return decision.executed;
}

/**
 * What DM would say of tasks an earlier run stopped: no subtask, Stopped at the checkpoint it recorded
 * (`gtidS`). The decision on them is the pack's, on the position start-task resumes from.
 */
function stoppedStatus(tasks: string[], gtidS: Map<string, string>): Map<string, TaskStatus> {
    return new Map(
        tasks.map((t) => [t, { stage: "Stopped", unit: "Sync", syncerGtid: gtidS.get(t) ?? "", errors: [] }]),
    );
}

/**
 * The shared decision on `target` with `status`; when only a lagging target stands in the way, one bounded
 * wait (`timeoutMs` in all) for it to execute each task's gtid-S, then the decision again on the statuses
 * `reread` gives (the same ones when the tasks cannot have moved). What check-rule and the finish of a
 * stopped address switch both decide with.
 */
export async function decideWaitingOnce(
    ports: SwitchPorts,
    target: string,
    timeoutMs: number,
    from: string | undefined,
    status: Map<string, TaskStatus>,
    reread: () => Promise<Map<string, TaskStatus>> = async () => status,
): Promise<Decision> {
    const decision = await ports.decide(target, status, { from });
    if (decision.ok || decision.catchUp.length === 0) {
        return decision;
    }
    ports.log(`${target} lags behind gtid-S; waiting up to ${timeoutMs} ms for it to catch up`);
    const start = Date.now();
    let caughtUp = true;
    for (const gtid of decision.catchUp) {
        caughtUp =
            (await ports.waitForCatchUp(target, gtid, Math.max(0, timeoutMs - (Date.now() - start)))) && caughtUp;
    }
    return ports.decide(target, await reread(), {
        from,
        catchUp: { timeoutMs, waitedMs: Date.now() - start, caughtUp },
    });
}

/**
 * Reads every task; fails when another switch changed one (see {@link changedByOthers}) or a task's
 * worker is offline; fills `gtidS` and `bytes` from the read.
 */
async function readUnchanged(
    ports: SwitchPorts,
    plan: SwitchPlan,
    tasks: string[],
    seenPaused: Map<string, TaskStatus>,
    gtidS: Map<string, string>,
    bytes: Map<string, number>,
): Promise<Map<string, TaskStatus>> {
    const status = tasks.length > 0 ? await ports.status(tasks) : new Map<string, TaskStatus>();
    const changed = changedByOthers(plan, status, seenPaused);
    if (changed.length > 0) {
        throw new Error(
            `another switch of DM source ${plan.sourceId} is under way (another stack, or dmctl): ${changed.join("; ")}. ` +
                "Let it finish, then run 'pulumi up' again",
        );
    }
    // A subtask whose worker is offline reports no gtid-S: checking "" would pass vacuously and let the
    // task resume later, unchecked, from a checkpoint the target may not have (seen: ERROR 1236).
    const offline = tasks.filter((t) => ["", "Offline"].includes(status.get(t)?.stage ?? ""));
    if (offline.length > 0) {
        const why = offline.map(
            (t) => `${t} is Offline${status.get(t)?.errors.length ? ` (${status.get(t)!.errors.join("; ")})` : ""}`,
        );
        throw new Error(
            `gtid-S cannot be read: ${why.join(", ")}. Bring the source's dm-worker online, then run 'pulumi up' again`,
        );
    }
    for (const t of tasks) {
        gtidS.set(t, status.get(t)?.syncerGtid ?? "");
        const b = status.get(t)?.dumpIoBytes;
        if (b !== undefined) {
            bytes.set(t, b);
        }
    }
    return status;
}
