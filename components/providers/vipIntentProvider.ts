/**
 * The VipIntent resource's provider: a hooked VIP's intended target, and the owner of the pause around
 * its move (see ./hookedSwitch.ts for the whole procedure). The engine updates it before the hooked
 * resource (which `dependsOn` it), so its update runs the first half of DM's procedure — pause every task,
 * await Paused, check the rule against the target — and records in the state what it paused and the
 * pending switch. The state is the durable record: a failed move or verification, or a killed process,
 * leaves the tasks listed here, and the next `pulumi up` converges from it.
 */
import type * as pulumi from "@pulumi/pulumi";
import { tasksToCheck } from "../preflight/decide";
import { executeSwitch } from "../switch/execute";
import { formatPlan, planVipSwitch } from "../switch/plan";
import { diffState, throwPartial } from "./common";
import { hookedPorts, PendingSwitch, resumeCommands, resumeWhereVipPoints, timeoutsOf } from "./hookedSwitch";
import { checkVipIntentInputs, SwitchTimeouts, VipIntentInputs } from "./inputs";

/** The intent's inputs: the hooked VIP's, with the switch's timeouts (the pause and the rule's wait run here). */
export type IntentInputs = VipIntentInputs & SwitchTimeouts;

export type IntentOutputs = Omit<IntentInputs, "password"> & {
    /** Tasks dm-switch paused and has not seen running again: the next `pulumi up` resumes or forgets each. */
    pausedByUs: string[];
    /** The switch whose first half ran, for the VipResume and the hooked resource's error hook. */
    pending?: PendingSwitch;
};

function outputsOf(inputs: IntentInputs, extra: Pick<IntentOutputs, "pausedByUs" | "pending">): IntentOutputs {
    const { password: _password, ...rest } = inputs;
    return { ...rest, ...extra };
}

/**
 * Reconciles the recorded pause with DM and runs the first half of a switch when the VIP must move:
 * - a task of `pausedByUs` is still ours when it is Paused at the gtid-S recorded with the pause (DM's
 *   checkpoint is the marker: a task someone resumed and paused again has moved); a Running one is
 *   forgotten, and so is one paused elsewhere;
 * - the VIP already answers as the target: ours are resumed there, the rule checked first;
 * - otherwise the hooked resource still has to move it: pause (the running tasks; ours are paused),
 *   await Paused, check the rule, and record the pending switch. A failure resumes through the executor's
 *   recovery where that is safe and records what stays paused.
 */
async function converge(id: string, news: IntentInputs, olds: IntentOutputs): Promise<IntentOutputs> {
    const h = hookedPorts(news);
    // Every task DM runs on the source, and any the `tasks` list names: the list checks, never narrows.
    const names = tasksToCheck(await h.dm.getSourceConfig(news.sourceId), news.tasks);
    const [status, now] = await Promise.all([h.ports.status(names), h.backend.current()]);
    const recorded = olds.pending?.gtidS ?? {};
    const ours: string[] = [];
    for (const t of olds.pausedByUs ?? []) {
        const s = status.get(t);
        if (names.includes(t) && s?.stage === "Paused" && (recorded[t] === undefined || recorded[t] === s.syncerGtid)) {
            ours.push(t);
        } else if (s?.stage === "Paused") {
            h.log(
                `task ${t} is Paused at ${s.syncerGtid || '""'}, not at the checkpoint dm-switch paused it at (${recorded[t]}): someone else paused it since; it stays as it is`,
            );
        } else {
            h.log(`task ${t}, paused by an earlier switch, is ${s?.stage || "unknown"} now: forgotten`);
        }
    }
    const stages = new Map(names.map((n) => [n, status.get(n)?.stage ?? ""] as const));
    const failed = (err: unknown, target: string): never =>
        throwPartial(
            err,
            id,
            (paused) => ({ ...outputsOf(news, { pausedByUs: paused }), target }),
            (paused) =>
                paused.length > 0
                    ? ` ${news.vipResource}'s VipIntent records ${paused.join(", ")}: the next 'pulumi up' resumes them, or ${resumeCommands(news, paused)}.`
                    : "",
        );
    if (now === news.target) {
        try {
            await resumeWhereVipPoints(news, h, now, names, stages, ours);
        } catch (err) {
            failed(err, news.target);
        }
        return outputsOf(news, { pausedByUs: [] });
    }
    const plan = planVipSwitch({
        sourceId: news.sourceId,
        dmAddress: news.dm.address,
        tasks: names.map((name) => ({ name, stage: stages.get(name)! })),
        from: now,
        to: news.target,
        pausedByUs: ours,
    });
    formatPlan(plan).forEach(h.log);
    const moveAt = plan.steps.findIndex((s) => s.kind === "move-vip");
    h.log(`steps ${moveAt + 1}.. are run once ${news.vipResource} has moved the VIP`);
    try {
        const report = await executeSwitch({ ...plan, steps: plan.steps.slice(0, moveAt) }, h.ports, timeoutsOf(news));
        const pending: PendingSwitch = {
            id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
            ...(now !== undefined ? { from: now } : {}),
            to: news.target,
            tasks: plan.switched,
            gtidS: report.gtidS,
            dumpIoBytes: report.dumpIoBytes,
            ...(report.executedAtCheck !== undefined ? { executedAtCheck: report.executedAtCheck } : {}),
            at: new Date().toISOString(),
        };
        h.log(
            `paused ${plan.switched.join(", ") || "no task"} for ${news.vipResource} to point the VIP at ${news.target}`,
        );
        return outputsOf(news, { pausedByUs: plan.switched, pending });
    } catch (err) {
        // Keep the old target: the intent differs from the desired state, so the next run tries again.
        return failed(err, olds.target);
    }
}

export const provider = {
    async check(_olds: unknown, news: IntentInputs) {
        return { inputs: news, failures: checkVipIntentInputs(news) };
    },
    async diff(_id: string, olds: IntentOutputs, news: IntentInputs): Promise<pulumi.dynamic.DiffResult> {
        // A recorded pending switch differs from the desired state until a run has seen it finished.
        return diffState(olds, news, { notDesired: ["pending"], also: olds.pending !== undefined ? ["pending"] : [] });
    },
    async create(inputs: IntentInputs) {
        // The hooked resource is created next, pointing the VIP at the target: there is nothing to switch yet.
        return { id: `${inputs.sourceId}-intent`, outs: outputsOf(inputs, { pausedByUs: [] }) };
    },
    async update(id: string, olds: IntentOutputs, news: IntentInputs) {
        if ((olds.pausedByUs ?? []).length === 0 && olds.target === news.target) {
            return { outs: outputsOf(news, { pausedByUs: [] }) };
        }
        return { outs: await converge(id, news, olds) };
    },
} satisfies pulumi.dynamic.ResourceProvider<IntentInputs, IntentOutputs>;
