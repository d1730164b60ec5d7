/**
 * DM's VIP procedure around a VIP that another resource moves (a hooked VIP, ../hookedVip.ts), in three
 * places of one `pulumi up`, with a durable record in between:
 *
 * 1. the `VipIntent` (./vipIntentProvider.ts), updated first, owns the pause: it pauses every task,
 *    waits until Paused and checks the rule against the target, then records in its state the tasks it
 *    paused (`pausedByUs`) and the pending switch ({@link PendingSwitch}: from, to, gtid-S per task, …);
 * 2. the hooked resource moves the VIP; its error hook (../hooks.ts) resumes the tasks when that is safe
 *    or names them, if the move fails;
 * 3. the `VipResume` (./vipResumeProvider.ts), updated after the hooked resource whenever a switch is
 *    pending, verifies through the VIP that the target answers, resumes the tasks and confirms.
 *
 * Nothing here keeps a pause in memory: whatever stops the run between 1 and 3 (a failed move, a failed
 * verification, a killed process), the next `pulumi up` finds the tasks in the VipIntent's state.
 */
import { createDmClient, DmClient } from "../dm";
import { probe, sameServer, ServerFacts } from "../mysql";
import { executeSwitch, SwitchPorts, warnWrittenOnTarget } from "../switch/execute";
import { endpointOf } from "../switch/livePorts";
import { timeoutsOf } from "../switch/options";
import { formatPlan, planVipSwitch, SwitchPlan } from "../switch/plan";
import { VipBackend } from "../vipBackends/types";
import { sourceLog, SourceInputs, sourcePorts } from "./common";
import { AddressInputs, SwitchTimeouts } from "./inputs";

export { leftPaused } from "./common";
export { timeoutsOf } from "../switch/options";

/** A switch whose first half (pause, await-paused, check-rule) ran, recorded in the VipIntent's state. */
export interface PendingSwitch {
    /** Unique per pause: tells one pending switch from the next. */
    id: string;
    /** Where the VIP answered before the pause; undefined when no instance answered. */
    from?: string;
    to: string;
    /** The tasks paused for it (dm-switch's own, resumed by the second half). */
    tasks: string[];
    /** gtid-S per task, read with the tasks paused: DM's checkpoint marks a task as still ours. */
    gtidS: Record<string, string>;
    /** Each syncer's received bytes read with gtid-S. */
    dumpIoBytes: Record<string, number>;
    /** The target's gtid-E read by check-rule. */
    executedAtCheck?: string;
    /** When the pause was recorded (ISO 8601). */
    at: string;
}

/** What every part of a hooked switch needs to reach DM, the instances and the VIP. */
export interface HookedSwitchInputs extends SourceInputs, SwitchTimeouts {
    address: AddressInputs;
    /** The resource that moves the VIP, for messages: "command.local.Command orders-vip". */
    vipResource: string;
}

/**
 * Where the VIP points, read through the VIP itself: the server answering at its address, matched with
 * each instance as one server (components/mysql `sameServer`, as the Vip's own verification does). A
 * hooked VIP has no backend dm-switch could ask. Undefined when nothing or no instance answers there.
 * `moveTo` does nothing: the hooked resource moves the VIP.
 */
export function answeringBackend(
    i: Pick<HookedSwitchInputs, "address" | "instances" | "user" | "password" | "vipResource">,
): VipBackend {
    const facts = (a: AddressInputs): Promise<ServerFacts | undefined> =>
        probe(endpointOf(a, i.user, i.password)).catch(() => undefined);
    return {
        description: `the VIP ${i.address.host}:${i.address.port} (moved by ${i.vipResource})`,
        async current() {
            const names = Object.keys(i.instances);
            const [through, ...direct] = await Promise.all([
                facts(i.address),
                ...names.map((n) => facts(i.instances[n])),
            ]);
            if (through === undefined) {
                return undefined;
            }
            // The Vip's own verification compares the same: one server by ids, hostname, port and data directory.
            const at = names.findIndex((_, k) => direct[k] !== undefined && sameServer(direct[k]!, through));
            return at === -1 ? undefined : names[at];
        },
        async moveTo() {
            // The hooked resource moves the VIP; dm-switch only verifies where it points.
        },
    };
}

export interface HookedPorts {
    dm: DmClient;
    ports: SwitchPorts;
    backend: VipBackend;
    log: (line: string) => void;
}

/** The executor's ports for a hooked VIP: verify connects through the VIP's address, like the Vip's. */
export function hookedPorts(i: HookedSwitchInputs): HookedPorts {
    const log = sourceLog(i.sourceId).info;
    const dm = createDmClient(i.dm, log);
    const backend = answeringBackend(i);
    const ports = sourcePorts(i, dm, log, {
        requireSource: true,
        vip: { backend, address: i.address, verify: "connect" },
    });
    return { dm, ports, backend, log };
}

/** `dmctl … resume-task` for each task, to name in an error that leaves tasks paused. */
export function resumeCommands(i: Pick<HookedSwitchInputs, "dm" | "sourceId">, tasks: string[]): string {
    return tasks.map((t) => `'dmctl --master-addr ${i.dm.address} resume-task ${t} -s ${i.sourceId}'`).join(", ");
}

/**
 * Resumes `ours` (tasks dm-switch paused, still Paused) where the VIP points now, after the rule is
 * checked against that instance (check-rule, resume, await-running, confirm-reading). Returns the plan it
 * ran; throws the executor's errors.
 */
export async function resumeWhereVipPoints(
    i: HookedSwitchInputs,
    h: HookedPorts,
    now: string,
    names: string[],
    stages: Map<string, string>,
    ours: string[],
): Promise<SwitchPlan> {
    const tasks = names.map((name) => ({ name, stage: stages.get(name) ?? "" }));
    const plan = planVipSwitch({
        sourceId: i.sourceId,
        dmAddress: i.dm.address,
        tasks,
        from: now,
        to: now,
        pausedByUs: ours,
    });
    formatPlan(plan).forEach(h.log);
    if (plan.steps.length > 0) {
        const report = await executeSwitch(plan, h.ports, timeoutsOf(i));
        h.log(`resumed ${plan.switched.join(", ")} reading from ${now}`);
        warnWrittenOnTarget(report, sourceLog(i.sourceId).warn);
    }
    return plan;
}

/**
 * The second half of a pending switch, once the hooked resource has moved the VIP: verify through the
 * VIP that `pending.to` answers, resume the tasks, wait Running, confirm they read from it. A failure
 * goes through the executor's recovery (resume where the VIP is known and safe, or name the tasks).
 */
export async function finishSwitch(i: HookedSwitchInputs, h: HookedPorts, pending: PendingSwitch): Promise<void> {
    const tasks = pending.tasks.map((name) => ({ name, stage: "Paused" }));
    const plan = planVipSwitch({
        sourceId: i.sourceId,
        dmAddress: i.dm.address,
        tasks,
        from: pending.from,
        to: pending.to,
        pausedByUs: pending.tasks,
    });
    const moveAt = plan.steps.findIndex((s) => s.kind === "move-vip");
    const report = await executeSwitch({ ...plan, steps: plan.steps.slice(moveAt + 1) }, h.ports, {
        ...timeoutsOf(i),
        continueAfterMove: true,
        gtidS: pending.gtidS,
        dumpIoBytes: pending.dumpIoBytes,
        executedAtCheck: pending.executedAtCheck,
    });
    h.log(`switched to ${pending.to}; resumed ${pending.tasks.join(", ") || "no task"} (${report.steps.length} steps)`);
    warnWrittenOnTarget(report, sourceLog(i.sourceId).warn);
}
