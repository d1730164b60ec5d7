/**
 * The steps of a switch, as data. `pulumi preview` prints a plan (in dmctl words) and `pulumi up`
 * executes the same object (./execute.ts). Pure: no I/O, no @pulumi/* import.
 *
 * The two procedures are DM's ("切换 DM-worker 与上游 MySQL 实例的连接"):
 * - VIP mode: pause every task of the source → move the VIP → resume;
 * - address mode: stop-task → operate-source stop → operate-source create (new address) → start-task.
 * Both first check the rule gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S against the target. dm-switch pauses
 * before reading gtid-S even in address mode: the pause flushes the checkpoint, so the gtid-S checked
 * is exactly the position the tasks will restart from.
 */

import type { Address } from "../model";

export type { Address } from "../model";

export type SwitchMode = "vip" | "address";

/** A task of the source as DM reports it when the plan is made. */
export interface TaskState {
    name: string;
    /** DM's stage of the task's subtask on this source: Running, Paused, … */
    stage: string;
}

export type Step =
    /** pause-task each task (OpenAPI: POST /api/v1/tasks/{t}/stop). */
    | { kind: "pause"; tasks: string[] }
    /** query-status until every subtask is Paused: the checkpoint is flushed, gtid-S final. */
    | { kind: "await-paused"; tasks: string[] }
    /** Read gtid-S of every task and gtid-P/gtid-E of the target; wait for a lagging target; enforce the rule. */
    | { kind: "check-rule"; tasks: string[]; target: string }
    | { kind: "move-vip"; from?: string; to: string }
    /** Connect through the VIP and check the target answers (server_id / server_uuid). */
    | { kind: "verify-vip"; to: string }
    | { kind: "resume"; tasks: string[] }
    /** stop-task: removes the subtasks, keeps the downstream checkpoint. */
    | { kind: "stop-tasks"; tasks: string[] }
    | { kind: "stop-source" }
    | { kind: "create-source"; to: string; address: Address }
    /** start-task from the checkpoint, meta binlog-gtid = gtid-S so the precheck cannot reject it (tiflow#11648). */
    | { kind: "start-tasks"; tasks: string[] }
    /** query-status until every subtask is Running with the syncer unit. */
    | { kind: "await-running"; tasks: string[] }
    /**
     * start-relay for the source on its worker, once the tasks run (address mode, relay on): a source
     * created with relay on would make start-task fail, because DM's checkpoints name the old relay
     * subdirectory ("UUID suffix … not found"); started later, relay takes over from the running syncers.
     */
    | { kind: "start-relay" }
    /**
     * Replication really flows from `target`: each task's syncer checkpoint moves past gtid-S (unless the
     * target had nothing newer when the step began), and the source's relay, when enabled, reads from
     * `target` without errors. Runs after the pause has ended: it does not lengthen it.
     */
    | { kind: "confirm-reading"; tasks: string[]; target: string };

export interface SwitchPlan {
    mode: SwitchMode;
    sourceId: string;
    dmAddress: string;
    /** Instance the source reads from before the switch (undefined: unknown or none). */
    from?: string;
    to: string;
    /** Every task of the source: the rule must hold for each, paused or not. */
    tasks: string[];
    /** Tasks dm-switch pauses and resumes. */
    switched: string[];
    /** Tasks not running before the switch (paused by someone else, offline, stopped): checked, left as they are, reported. */
    leftPaused: string[];
    /** Address mode: the source's relay is re-created off and started after the tasks. @default undefined */
    relay?: boolean;
    /** Address mode at the same address: the settings the source is re-created with (AddressPlanInput.reconfigure). @default undefined */
    reconfigure?: string;
    /**
     * The plan finishes an address switch an earlier, failed run left with the tasks stopped (their
     * checkpoints kept, gtid-S recorded in the resource's state): the tasks have no subtask, so check-rule
     * decides on the recorded gtid-S (ExecuteOptions.gtidS), and nothing is paused. @default undefined
     */
    finish?: boolean;
    /**
     * Each task's stage when the plan was made: check-rule refuses to go on when a task that was not running
     * runs now (someone else is switching or resuming the source). @default undefined (not known)
     */
    stages?: Record<string, string>;
    steps: Step[];
}

export interface VipPlanInput {
    sourceId: string;
    dmAddress: string;
    tasks: TaskState[];
    from?: string;
    to: string;
    /** Tasks a previous, failed `pulumi up` paused and could not resume: ours to resume. */
    pausedByUs?: string[];
}

export interface AddressPlanInput extends VipPlanInput {
    toAddress: Address;
    /** The source's relay log is on: it is re-created without relay, and relay is started once the tasks run. @default false */
    relay?: boolean;
    /**
     * The source runs relay now (by its configuration, or start-relay), or cannot start it (no dm-worker bound).
     * With `relay` on and `from` = `to`, false adds a start-relay step: an address switch stopped before its
     * own. @default undefined (not known: none added)
     */
    liveRelay?: boolean;
    /**
     * Settings of the source that change (e.g. "user, password"): with `from` = `to` the whole procedure runs
     * at the same address to re-create the source with them, instead of the nothing-to-do plan. @default undefined
     */
    reconfigure?: string;
}

/** What the finish of an address switch left with the tasks stopped is planned from (see {@link planFinishStopped}). */
export interface FinishPlanInput {
    sourceId: string;
    dmAddress: string;
    /** The tasks the failed run stopped, with their checkpoints kept (the resource's `stoppedTasks`). */
    stopped: string[];
    /**
     * Stopped tasks whose subtask exists on the source again: a start-task of the failed run that dm-master
     * answered with an error (38045: the worker did not confirm in time) had stored it. DM runs them from
     * their checkpoint; starting them again would fail (46014, already exists). @default none
     */
    created?: string[];
    /** The instance DM's source reads from now (a name or host:port); undefined: the source is stopped. */
    live?: string;
    /** The live source runs relay (by its configuration or start-relay), or cannot start it (no dm-worker bound). @default false */
    liveRelay?: boolean;
    to: string;
    toAddress: Address;
    /** The inputs ask for relay: it is started once the tasks run, unless it runs already. @default false */
    relay?: boolean;
    /** Settings of the live source that differ from the inputs (at the target): it is re-created with them. @default undefined */
    reconfigure?: string;
}

/** Stages in which a task is replicating (or about to) and so must be paused around the switch. */
export const ACTIVE_STAGES = new Set(["Running", "New", "Resuming"]);

/**
 * What both procedures share: the plan's fields but its steps, every task's name (`all`), and the tasks
 * to pause (the running ones). `switched` adds the tasks an earlier run paused (ours to resume).
 */
function planBase(mode: SwitchMode, input: VipPlanInput) {
    const ours = new Set(input.pausedByUs ?? []);
    const { tasks } = input;
    const switched = tasks.filter((t) => ACTIVE_STAGES.has(t.stage) || ours.has(t.name)).map((t) => t.name);
    const base = {
        mode,
        sourceId: input.sourceId,
        dmAddress: input.dmAddress,
        from: input.from,
        to: input.to,
        tasks: tasks.map((t) => t.name),
        switched,
        leftPaused: tasks.filter((t) => !switched.includes(t.name)).map((t) => t.name),
        stages: Object.fromEntries(tasks.map((t) => [t.name, t.stage])),
    };
    return { base, all: base.tasks, toPause: tasks.filter((t) => ACTIVE_STAGES.has(t.stage)).map((t) => t.name) };
}

/** The VIP procedure; when the VIP already points at the target, only the resumption of our paused tasks. */
export function planVipSwitch(input: VipPlanInput): SwitchPlan {
    const { base, all, toPause } = planBase("vip", input);
    const { switched } = base;
    if (input.from === input.to) {
        const ours = (input.pausedByUs ?? []).filter((t) => all.includes(t));
        const steps: Step[] =
            ours.length === 0
                ? []
                : [
                      { kind: "check-rule", tasks: all, target: input.to },
                      { kind: "resume", tasks: ours },
                      { kind: "await-running", tasks: ours },
                      { kind: "confirm-reading", tasks: ours, target: input.to },
                  ];
        // Left as they are: the tasks that were not running (those running go on running).
        return { ...base, switched: ours, steps };
    }
    const steps: Step[] = [];
    if (toPause.length > 0) {
        steps.push({ kind: "pause", tasks: toPause });
    }
    if (switched.length > 0) {
        steps.push({ kind: "await-paused", tasks: switched });
    }
    steps.push({ kind: "check-rule", tasks: all, target: input.to });
    steps.push({ kind: "move-vip", from: input.from, to: input.to });
    steps.push({ kind: "verify-vip", to: input.to });
    if (switched.length > 0) {
        steps.push({ kind: "resume", tasks: switched });
        steps.push({ kind: "await-running", tasks: switched });
    }
    steps.push({ kind: "confirm-reading", tasks: switched, target: input.to });
    return { ...base, steps };
}

/**
 * The address procedure. Every task is stopped and started again (stop-task removes the subtasks,
 * which `operate-source stop` requires); tasks that were paused before are started and paused again,
 * so their stage is as it was.
 */
export function planAddressSwitch(input: AddressPlanInput): SwitchPlan {
    const { base: common, all, toPause } = planBase("address", input);
    const { switched, leftPaused } = common;
    const base = {
        ...common,
        ...(input.relay ? { relay: true } : {}),
        ...(input.reconfigure ? { reconfigure: input.reconfigure } : {}),
    };
    if (input.from === input.to && !input.reconfigure) {
        const same: SwitchPlan = { ...planVipSwitch(input), mode: "address" };
        if (!input.relay || input.liveRelay !== false) {
            return same;
        }
        // Relay on in the inputs, off in DM: started before the confirmation, which then checks it too.
        const confirm = same.steps.filter((s) => s.kind === "confirm-reading");
        const steps: Step[] = [...same.steps.filter((s) => s.kind !== "confirm-reading"), { kind: "start-relay" }];
        return { ...same, relay: true, steps: [...steps, ...confirm] };
    }
    const steps: Step[] = [];
    if (toPause.length > 0) {
        steps.push({ kind: "pause", tasks: toPause });
    }
    if (all.length > 0) {
        steps.push({ kind: "await-paused", tasks: all });
    }
    steps.push({ kind: "check-rule", tasks: all, target: input.to });
    if (all.length > 0) {
        steps.push({ kind: "stop-tasks", tasks: all });
    }
    steps.push({ kind: "stop-source" });
    steps.push({ kind: "create-source", to: input.to, address: input.toAddress });
    if (all.length > 0) {
        steps.push({ kind: "start-tasks", tasks: all });
    }
    if (leftPaused.length > 0) {
        steps.push({ kind: "pause", tasks: leftPaused });
    }
    if (switched.length > 0) {
        steps.push({ kind: "await-running", tasks: switched });
    }
    if (input.relay) {
        steps.push({ kind: "start-relay" });
    }
    steps.push({ kind: "confirm-reading", tasks: switched, target: input.to });
    return { ...base, steps };
}

/**
 * The rest of an address switch whose run failed after stop-task: decide on the target with the gtid-S each
 * task stopped at; stop DM's source when it still reads elsewhere or has other settings; create it at the
 * target; start-task from the checkpoint each task not already started again; wait until every one runs;
 * relay; confirm. Forward only: the tasks are never started against a target that fails the rule.
 */
export function planFinishStopped(input: FinishPlanInput): SwitchPlan {
    const all = input.stopped;
    const created = new Set(input.created ?? []);
    const recreate = input.live !== undefined && (input.live !== input.to || input.reconfigure !== undefined);
    const create = input.live === undefined || recreate;
    const toStart = all.filter((t) => !created.has(t));
    const steps: Step[] = [{ kind: "check-rule", tasks: all, target: input.to }];
    if (recreate) {
        steps.push({ kind: "stop-source" });
    }
    if (create) {
        steps.push({ kind: "create-source", to: input.to, address: input.toAddress });
    }
    if (toStart.length > 0) {
        steps.push({ kind: "start-tasks", tasks: toStart });
    }
    if (all.length > 0) {
        steps.push({ kind: "await-running", tasks: all });
    }
    const startRelay = !!input.relay && (create || !input.liveRelay);
    if (startRelay) {
        steps.push({ kind: "start-relay" });
    }
    steps.push({ kind: "confirm-reading", tasks: all, target: input.to });
    return {
        mode: "address",
        sourceId: input.sourceId,
        dmAddress: input.dmAddress,
        // The decision compares with no previous upstream: DM's source may already be gone from it.
        from: undefined,
        to: input.to,
        tasks: all,
        switched: all,
        leftPaused: [],
        finish: true,
        ...(startRelay ? { relay: true } : {}),
        ...(input.reconfigure ? { reconfigure: input.reconfigure } : {}),
        steps,
    };
}

/** One step in the words of the manual procedure (dmctl and SQL), for previews and logs. */
export function describeStep(
    step: Step,
    plan: Pick<SwitchPlan, "dmAddress" | "sourceId" | "relay" | "finish">,
): string {
    const dmctl = `dmctl --master-addr ${plan.dmAddress}`;
    const each = (tasks: string[], cmd: (t: string) => string) => tasks.map(cmd).join("; ");
    switch (step.kind) {
        case "pause":
            return each(step.tasks, (t) => `${dmctl} pause-task ${t} -s ${plan.sourceId}`);
        case "await-paused":
            return `${dmctl} query-status … until ${step.tasks.join(", ")} are Paused (checkpoint flushed)`;
        case "check-rule": {
            const tasks = step.tasks.join(", ") || "no task";
            const gtidS = plan.finish
                ? `gtid-S of ${tasks} is the checkpoint each stopped at (recorded in the state)`
                : `read syncerBinlogGtid (gtid-S) of ${tasks}`;
            return `${gtidS}; on ${step.target} read gtid_purged (gtid-P) and gtid_executed (gtid-E); require gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S`;
        }
        case "move-vip":
            return `point the VIP at ${step.to}${step.from ? ` (was ${step.from})` : ""}`;
        case "verify-vip":
            return `connect through the VIP and check that ${step.to} answers (server_id)`;
        case "resume":
            return each(step.tasks, (t) => `${dmctl} resume-task ${t} -s ${plan.sourceId}`);
        case "stop-tasks":
            return each(step.tasks, (t) => `${dmctl} stop-task ${t}`);
        case "stop-source":
            return `${dmctl} operate-source stop ${plan.sourceId}`;
        case "create-source":
            return `${dmctl} operate-source create ${plan.sourceId}.yaml  # from: host ${step.address.host}, port ${step.address.port} (${step.to})${plan.relay ? ", enable-relay: false until the tasks run" : ""}`;
        case "start-relay":
            return `${dmctl} start-relay -s ${plan.sourceId} <its worker>  # relay takes over from the running tasks`;
        case "start-tasks":
            return each(
                step.tasks,
                (t) => `${dmctl} start-task ${t}.yaml  # meta binlog-gtid: gtid-S, from the checkpoint`,
            );
        case "await-running":
            return `${dmctl} query-status … until ${step.tasks.join(", ")} are Running`;
        case "confirm-reading": {
            const syncers =
                step.tasks.length > 0
                    ? `until the syncers of ${step.tasks.join(", ")} read from ${step.target} (binlog bytes received since the pause, or a checkpoint past gtid-S) and `
                    : "until ";
            return `${dmctl} query-status … ${syncers}the relay log, if enabled, is read from ${step.target} without errors`;
        }
    }
}

/** The whole plan as numbered lines. */
export function formatPlan(plan: SwitchPlan): string[] {
    if (plan.steps.length === 0) {
        return [`DM source ${plan.sourceId} already reads from ${plan.to}: nothing to do.`];
    }
    const head = plan.finish
        ? `DM source ${plan.sourceId}: finishing an address switch to ${plan.to}: tasks ${plan.tasks.join(", ")} are stopped with their checkpoints kept${plan.reconfigure ? ` (new settings: ${plan.reconfigure})` : ""}`
        : plan.reconfigure
          ? `DM source ${plan.sourceId}: new settings (${plan.reconfigure}), the address procedure at the same address (${plan.to})`
          : plan.from === plan.to
            ? `DM source ${plan.sourceId} already reads from ${plan.to}; what an earlier switch left to do:`
            : `DM source ${plan.sourceId}: ${plan.mode} switch ${plan.from ?? "(unknown)"} → ${plan.to}`;
    const left =
        plan.leftPaused.length > 0
            ? [`  tasks not running before the switch stay as they are: ${plan.leftPaused.join(", ")}`]
            : [];
    return [head, ...plan.steps.map((s, i) => `  ${i + 1}. ${describeStep(s, plan)}`), ...left];
}
