/**
 * Executes a switch plan (./plan.ts) through narrow ports, so the same code runs against real DM,
 * MariaDB and VIP backends in `pulumi up` and against fakes in unit tests.
 *
 * Failure semantics (the heart of it):
 * - Every precondition is checked before the VIP or the source changes; the rule is re-checked here,
 *   with the tasks paused, whatever preview said.
 * - After a pause, every exit path resumes the tasks when that is safe (the upstream DM reads from is
 *   known and satisfies the rule) and otherwise fails with a SwitchError that lists the paused tasks,
 *   the reason and how to continue; the provider records them so the next `pulumi up` resumes them.
 *
 * This file is the runner: the state of a run, one step at a time, the decision before the pause. Its
 * parts: ./types.ts (the ports, the report, SwitchError), ./waits.ts (the stage and confirmation waits),
 * ./rule.ts (check-rule), ./recovery.ts (the failure path), ./report.ts (the written-on-target report).
 */
import { resolveOptions, ResolvedOptions, SwitchOptions } from "./options";
import { enterWindow } from "./windows";
import { describeStep, Step, SwitchPlan } from "./plan";
import { recover } from "./recovery";
import { findWrittenOnTarget, TargetAtResume } from "./report";
import { checkRule, RuleViolationError } from "./rule";
import type { SwitchPorts, SwitchReport, TaskStatus } from "./types";
import { awaitStage, confirmReading } from "./waits";

// The executor's names, where they have always been imported from (the providers, the tests).
export { RuleViolationError } from "./rule";
export type { SwitchOptions } from "./options";
export { SwitchError } from "./types";
export type { Decision, RelayView, SwitchPorts, SwitchReport, TaskStatus } from "./types";
export { warnWrittenOnTarget, writtenOnTargetWarning } from "./report";

/** Options of {@link executeSwitch}: the switch's options and what the plan was made from. */
export interface ExecuteOptions extends SwitchOptions {
    /** Each task's status the plan was made from: the decision before the pause uses it. @default read again */
    statusBefore?: Map<string, TaskStatus>;
}

/** What a run has done so far: what the steps read and what the failure path must undo or report. */
interface RunState {
    /** Tasks paused by dm-switch and not Running again (by this run, or an earlier one: the plan's own). */
    paused: Set<string>;
    /** When the first pause call was made. @default undefined (no pause yet) */
    pauseStart?: number;
    /** The VIP may have moved (move-vip began, or a hooked VIP moved before this run). */
    moved: boolean;
    /** stop-task began: the tasks are gone from the source, their checkpoints kept. */
    stopped: boolean;
    /** The rule was verified against the target (by this run's check-rule, or before a hooked move). */
    ruleOk: boolean;
    /** Where the VIP or the source points: an instance name, or undefined when unknown. */
    now: string | undefined;
    /** Each task's status as await-paused saw it Paused: check-rule takes gtid-S from it. */
    pausedStatus: Map<string, TaskStatus>;
    /** gtid-S per task, read by check-rule (or by the run before a hooked move). */
    gtidS: Map<string, string>;
    /** Each syncer's received bytes with gtid-S (0 for a subtask start-task creates). */
    bytesAtPause: Map<string, number>;
    /** The target's gtid-E at the first check. @default undefined (not checked yet) */
    executedAtCheck?: string;
    /** A read of the target started with the resume (or start-task). @default undefined (not resumed yet) */
    atResume?: Promise<TargetAtResume | undefined>;
}

/** The state a run of `plan` starts from: a whole switch, or the half after a hooked VIP moved. */
function startState(plan: SwitchPlan, opts: ResolvedOptions): RunState {
    const continueAfterMove = opts.continueAfterMove ?? false;
    const finish = plan.finish ?? false;
    return {
        // Tasks the plan resumes but does not pause were left paused by an earlier, failed run (a finish's are stopped).
        paused: new Set(
            finish
                ? []
                : plan.switched.filter((t) => !plan.steps.some((s) => s.kind === "pause" && s.tasks.includes(t))),
        ),
        moved: continueAfterMove,
        stopped: finish,
        ruleOk: continueAfterMove,
        now: continueAfterMove ? plan.to : plan.from,
        pausedStatus: new Map(),
        gtidS: new Map(Object.entries(opts.gtidS ?? {})),
        bytesAtPause: new Map(Object.entries(opts.dumpIoBytes ?? {})),
        executedAtCheck: opts.executedAtCheck,
    };
}

/** Runs one step against the ports, recording in `state` what it did. */
async function runStep(
    step: Step,
    plan: SwitchPlan,
    ports: SwitchPorts,
    opts: ResolvedOptions,
    state: RunState,
    report: SwitchReport,
): Promise<void> {
    const readAtResume = () => {
        state.atResume ??= ports.targetGtids(plan.to).catch(() => undefined);
    };
    switch (step.kind) {
        case "pause":
            state.pauseStart ??= Date.now();
            step.tasks.forEach((t) => state.paused.add(t));
            return ports.pause(step.tasks);
        case "await-paused":
            for (const [t, s] of await awaitStage(ports, step.tasks, "Paused", opts)) {
                state.pausedStatus.set(t, s);
            }
            return;
        case "check-rule": {
            const { gtidS, bytesAtPause, pausedStatus } = state;
            const executed = await checkRule(ports, plan, step, opts, gtidS, bytesAtPause, pausedStatus);
            state.executedAtCheck ??= executed;
            state.ruleOk = true;
            return;
        }
        case "move-vip":
            state.moved = true;
            await ports.vip!.moveTo(step.to);
            state.now = step.to;
            return;
        case "verify-vip":
            return ports.vip!.verify(step.to);
        case "resume":
            readAtResume();
            return ports.resume(step.tasks);
        case "stop-tasks":
            state.stopped = true;
            return ports.stopTasks(step.tasks);
        case "stop-source":
            return ports.stopSource();
        case "create-source":
            await ports.createSource(step.address);
            state.now = step.to;
            return;
        case "start-tasks":
            // New subtasks: their syncers count received bytes from 0.
            step.tasks.forEach((t) => state.bytesAtPause.set(t, 0));
            readAtResume();
            return ports.startTasks(step.tasks, state.gtidS);
        case "await-running":
            await awaitStage(ports, step.tasks, "Running", opts);
            step.tasks.forEach((t) => state.paused.delete(t));
            if (state.pauseStart !== undefined) {
                report.pausedMs = Date.now() - state.pauseStart;
            }
            return;
        case "start-relay":
            return ports.startRelay();
        case "confirm-reading":
            return confirmReading(ports, step.tasks, step.target, state.gtidS, state.bytesAtPause, opts);
    }
}

/**
 * Before the first pause, the decision the policy pack makes, on the statuses the plan was made from:
 * the reasons that pausing cannot change (another replication set, a missing prerequisite, a task list
 * leaving a task out, a task with errors, DM not knowing the source). Throws when the tasks or the target
 * cannot be read (down, a wrong password). The GTID rule itself is decided with the tasks paused
 * (check-rule), when gtid-S has stopped moving.
 */
async function standingReasons(
    plan: SwitchPlan,
    ports: SwitchPorts,
    statusBefore: Map<string, TaskStatus> | undefined,
): Promise<string[]> {
    const before =
        statusBefore ?? (plan.tasks.length > 0 ? await ports.status(plan.tasks) : new Map<string, TaskStatus>());
    return (await ports.decide(plan.to, before, { from: plan.from })).standing;
}

/** Runs the plan. Returns a report, or throws SwitchError / RuleViolationError with the world made safe. */
export async function executeSwitch(
    plan: SwitchPlan,
    ports: SwitchPorts,
    options: ExecuteOptions = {},
): Promise<SwitchReport> {
    const opts = resolveOptions(options);
    const state = startState(plan, opts);
    const report: SwitchReport = { plan, gtidS: {}, dumpIoBytes: {}, steps: [] };
    const fail = (failedStep: Step, why: string, err: unknown) =>
        recover(plan, ports, opts, {
            paused: [...state.paused],
            moved: state.moved,
            stopped: state.stopped,
            ruleOk: state.ruleOk,
            now: state.now,
            failedStep,
            why,
            err,
        });

    const firstCheck = plan.steps.findIndex((s) => s.kind === "check-rule");
    const firstPause = plan.steps.findIndex((s) => s.kind === "pause");
    // A finish's check-rule is its first step: nothing changes before it decides.
    const before = !opts.continueAfterMove && !plan.finish && firstCheck !== -1;
    if (before && (firstPause === -1 || firstPause < firstCheck)) {
        const start = Date.now();
        // A refusal, or a target that cannot be read, is refused with nothing paused.
        const refusal = await standingReasons(plan, ports, options.statusBefore).then(
            (standing) => {
                const err = new RuleViolationError(standing.join(" "));
                return standing.length > 0 ? { why: err.message, err } : undefined;
            },
            (err: unknown) => {
                const why = `${err instanceof Error ? err.message : String(err)}`.replace(/[.\s]*$/, "");
                ports.log(`deciding on ${plan.to} before the pause failed after ${Date.now() - start} ms: ${why}`);
                return { why: `${why}.`, err };
            },
        );
        if (refusal !== undefined) {
            const why = state.paused.size === 0 ? `${refusal.why} No task was paused` : refusal.why;
            throw await fail(plan.steps[firstCheck], why, refusal.err);
        }
    }
    // The switches of one dm-master go one at a time (./windows.ts); the wait is before the first pause.
    const window = firstPause === -1 ? undefined : await enterWindow(plan.dmAddress);
    if (window !== undefined && window.waitedMs > 0) {
        ports.log(`waited ${window.waitedMs} ms for other switches of this dm-master to finish`);
    }
    try {
        for (const [i, step] of plan.steps.entries()) {
            const text = describeStep(step, plan);
            const start = Date.now();
            try {
                await runStep(step, plan, ports, opts, state, report);
            } catch (err) {
                const why = err instanceof Error ? err.message : String(err);
                ports.log(`step ${i + 1} failed after ${Date.now() - start} ms: ${text}: ${why}`);
                throw await fail(step, why, err);
            }
            const ms = Date.now() - start;
            report.steps.push({ step: text, ms });
            ports.log(`step ${i + 1}/${plan.steps.length} done in ${ms} ms: ${text}`);
        }
    } finally {
        window?.leave();
    }
    if (state.pauseStart !== undefined && report.pausedMs === undefined) {
        report.pausedMs = Date.now() - state.pauseStart;
    }
    report.gtidS = Object.fromEntries(state.gtidS);
    report.dumpIoBytes = Object.fromEntries(state.bytesAtPause);
    report.executedAtCheck = state.executedAtCheck;
    if (state.atResume !== undefined && state.executedAtCheck !== undefined) {
        const written = findWrittenOnTarget(ports, plan.to, state.executedAtCheck, await state.atResume);
        if (written !== undefined) {
            report.writtenOnTarget = written;
        }
    }
    return report;
}
