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
 */
import { resolveOptions, ResolvedOptions, SwitchOptions } from "./options";
import { Address, describeStep, Step, SwitchPlan } from "./plan";
import { checkRule, RuleViolationError } from "./rule";
import { pollUntil } from "../util/poll";

export { RuleViolationError } from "./rule";
export type { SwitchOptions } from "./options";

export interface TaskStatus {
    stage: string;
    unit?: string;
    syncerGtid: string;
    errors: string[];
    /** Bytes the syncer has received from its upstream (it survives a pause; a new subtask starts at 0). */
    dumpIoBytes?: number;
}

/** The source's relay log as DM reports it; undefined from {@link SwitchPorts.relay} when relay is off. */
export interface RelayView {
    stage: string;
    /** DM's relay subdirectory, `<server name>.<suffix>` (e.g. `0-2.000002`): it names the server relay reads from. */
    subDir: string;
    errors: string[];
}

/**
 * The shared decision on switching to a target (components/preflight `decide`: the one the policy pack
 * makes), made by {@link SwitchPorts.decide} from DM's source, the tasks' statuses and the target's facts.
 */
export interface Decision {
    ok: boolean;
    /** Every reason the switch is not allowed, one sentence each; empty when ok. */
    reasons: string[];
    /** The reasons that pausing cannot change (all but the GTID rule's): refused before anything is paused. */
    standing: string[];
    /** gtid-S of each task worth waiting for: a lagging target is all that stands in the way. */
    catchUp: string[];
    /** The target's gtid-E the decision was made against. */
    executed: string;
}

export interface SwitchPorts {
    /** Each task's subtask on the source, fetched in parallel. */
    status(tasks: string[]): Promise<Map<string, TaskStatus>>;
    pause(tasks: string[]): Promise<void>;
    resume(tasks: string[]): Promise<void>;
    stopTasks(tasks: string[]): Promise<void>;
    startTasks(tasks: string[], gtidS: Map<string, string>): Promise<void>;
    stopSource(): Promise<void>;
    createSource(address: Address): Promise<void>;
    /** start-relay for the source on the worker it is bound to. */
    startRelay(): Promise<void>;
    /**
     * gtid-P and gtid-E of an instance of the replication set; the server its own transactions name (MySQL:
     * its server_uuid; MariaDB: its server_id); whether it replicates from another server (undefined when
     * its replication status cannot be read).
     */
    targetGtids(
        target: string,
    ): Promise<{ purged: string; executed: string; server: string; replica: boolean | undefined }>;
    /** Waits until `target` has executed `gtid`; false on timeout. */
    waitForCatchUp(target: string, gtid: string, timeoutMs: number): Promise<boolean>;
    /**
     * The shared decision (see {@link Decision}) on `target` with these statuses of every task; `from` is the
     * instance DM reads from now (the target must be in its replication set), `catchUp` the wait just made.
     */
    decide(
        target: string,
        status: Map<string, TaskStatus>,
        context: { from?: string; catchUp?: { timeoutMs: number; waitedMs: number; caughtUp: boolean } },
    ): Promise<Decision>;
    /** a ⊇ b for the source's flavor (GTID set texts). */
    covers(a: string, b: string): boolean;
    /** The transactions of `after` not in `before` that originated at `server` (canonical text, "" for none). */
    writtenBy(before: string, after: string, server: string): string;
    /** The relay log of the source; undefined when relay is not enabled. */
    relay(): Promise<RelayView | undefined>;
    /** How DM names `target` in relay subdirectories: its server_uuid (MySQL) or `domain-server_id` (MariaDB). */
    relayName(target: string): Promise<string>;
    vip?: {
        current(): Promise<string | undefined>;
        moveTo(to: string): Promise<void>;
        /** Throws unless `to` answers through the VIP. */
        verify(to: string): Promise<void>;
    };
    log(line: string): void;
}

export interface SwitchReport {
    plan: SwitchPlan;
    /** gtid-S per task, read with the tasks paused. */
    gtidS: Record<string, string>;
    /** Each syncer's received bytes, read with gtid-S. */
    dumpIoBytes: Record<string, number>;
    /** From the first pause call until every task was Running again (checks included). */
    pausedMs?: number;
    steps: { step: string; ms: number }[];
    /** The target's gtid-E read by check-rule (to pass on with gtidS to a run continuing after the move). */
    executedAtCheck?: string;
    /**
     * Transactions written on the target itself (its own server's GTIDs) from the rule's check until the
     * tasks were resumed or started, while it is a replica: a server written by two servers around a switch
     * is where DM at this build has lost rows (README, Known limits). `replica` is undefined when the
     * target's replication status could not be read: reported then if it had no transaction of its own at
     * the check. Undefined when there were none, the target is no replica (a primary's own writes are its
     * normal stream), or it could not be read at the resume.
     */
    writtenOnTarget?: { target: string; gtids: string; replica: boolean | undefined };
}

/** How much of a long GTID set a warning quotes. */
const QUOTE_MAX = 200;

/**
 * The warning for {@link SwitchReport.writtenOnTarget}: a replica target took writes of its own during the
 * switch, and DM at this build has lost rows of a server written by two servers. Undefined when there were
 * none.
 */
export function writtenOnTargetWarning(report: SwitchReport): string | undefined {
    const w = report.writtenOnTarget;
    if (w === undefined) {
        return undefined;
    }
    const gtids =
        w.gtids.length > QUOTE_MAX ? `${w.gtids.slice(0, QUOTE_MAX)}… (${w.gtids.length} characters)` : w.gtids;
    const who =
        w.replica === true
            ? `${w.target} replicates from another server and took writes of its own while the tasks were paused for the switch: ${gtids}`
            : `${w.target} took writes of its own while the tasks were paused for the switch (${gtids}), after none before; whether it replicates from another server cannot be read with the source's account`;
    return (
        `${who}. DM at this build has lost rows when the server it reads is written by two servers around a switch: check that these reached the downstream; ` +
        "keep writes off a replica during a switch, and before a failover stop writes on the old primary and let the target apply all of them (dm-switch's README, Known limits)"
    );
}

/**
 * Says {@link writtenOnTargetWarning} through `warn` when there is one; returns the field the resources'
 * `lastSwitch` output records it in (empty when nothing was written).
 */
export function warnWrittenOnTarget(report: SwitchReport, warn: (line: string) => void): { writtenOnTarget?: string } {
    const warning = writtenOnTargetWarning(report);
    if (warning === undefined) {
        return {};
    }
    warn(warning);
    return { writtenOnTarget: report.writtenOnTarget!.gtids };
}

/** A switch that failed; `pausedTasks` are left paused (by dm-switch) and must be resumed later. */
export class SwitchError extends Error {
    constructor(
        message: string,
        readonly pausedTasks: string[],
        /** Where the VIP or the source points now: an instance name, or undefined when unknown. */
        readonly now: string | undefined,
    ) {
        super(message);
        this.name = "SwitchError";
    }
}

/** Polls until every task is at `want`; returns the status that showed each one there. */
async function awaitStage(
    ports: SwitchPorts,
    tasks: string[],
    want: string,
    opts: ResolvedOptions,
): Promise<Map<string, TaskStatus>> {
    const there = (s: TaskStatus | undefined) => s?.stage === want && !(want === "Running" && s.errors.length > 0);
    const seenThere = new Map<string, TaskStatus>();
    let pending = [...tasks];
    let status = new Map<string, TaskStatus>();
    const all = await pollUntil(
        async () => {
            // Every pending task in one read: the ports ask DM once for the whole source (one dm-worker
            // request however many tasks; dm-master throttles worker requests), so all are compared each round.
            status = await ports.status(pending);
            for (const t of pending) {
                const s = status.get(t);
                if (there(s)) {
                    seenThere.set(t, s!);
                }
            }
            pending = pending.filter((t) => !seenThere.has(t));
            return pending.length === 0 ? new Map(tasks.map((t) => [t, seenThere.get(t)!])) : undefined;
        },
        { intervalMs: opts.pollIntervalMs, timeoutMs: opts.stageTimeoutMs },
    );
    if (all !== undefined) {
        return all;
    }
    const seen = pending.map((t) => {
        const s = status.get(t);
        return `${t} is ${s?.stage || "unknown"}${s?.errors.length ? ` (${s.errors.join("; ")})` : ""}`;
    });
    throw new Error(`timed out after ${opts.stageTimeoutMs} ms waiting for ${want}: ${seen.join(", ")}`);
}

/**
 * After the resume: proves that replication flows from `target`. A task is confirmed when it is Running
 * without errors and one of: its syncer has received bytes from the upstream since the pause (DM's
 * binlog reader connected to `target` and streams from gtid-S: a position the server could not serve
 * fails before any byte); its syncer checkpoint holds a transaction gtid-S lacks; `target` had nothing
 * newer than gtid-S when the step began (read from the target itself: DM's master status can be seconds
 * old); or relay is on (the syncer then reads relay files, and relay is checked instead). The checkpoint
 * alone would not do: DM flushes it only when an event arrives after checkpoint-flush-interval, so after
 * a short backlog and silence it can stay at gtid-S for good. Relay, when enabled, must read from `target`
 * (its subdirectory names the server) without errors. Polls every pending task at once, like awaitStage.
 */
async function confirmReading(
    ports: SwitchPorts,
    tasks: string[],
    target: string,
    gtidS: Map<string, string>,
    bytesAtPause: Map<string, number>,
    opts: ResolvedOptions,
): Promise<void> {
    if (opts.advanceTimeoutMs <= 0) {
        ports.log(`not confirming that replication flows from ${target} (advanceTimeoutMs is 0)`);
        return;
    }
    const deadline = Date.now() + opts.advanceTimeoutMs;
    const executed = tasks.length > 0 ? (await ports.targetGtids(target)).executed : "";
    const relayOn = (await ports.relay()) !== undefined;
    // A task whose gtid-S this run did not read counts from the checkpoint it shows first.
    const from = new Map(tasks.map((t) => [t, gtidS.get(t)] as const));
    const idle = new Set(tasks.filter((t) => from.get(t) !== undefined && ports.covers(from.get(t)!, executed)));
    const seen = new Map<string, TaskStatus>();
    const confirmed = (t: string, s: TaskStatus | undefined) => {
        if (s === undefined || s.stage !== "Running" || s.errors.length > 0) {
            return false;
        }
        if (from.get(t) === undefined) {
            from.set(t, s.syncerGtid);
            if (ports.covers(s.syncerGtid, executed)) {
                idle.add(t);
            }
        }
        const at = bytesAtPause.get(t);
        const streamed = at !== undefined && s.dumpIoBytes !== undefined && s.dumpIoBytes > at;
        return relayOn || streamed || idle.has(t) || (s.syncerGtid !== "" && !ports.covers(from.get(t)!, s.syncerGtid));
    };
    if (idle.size > 0) {
        ports.log(
            `${target} had nothing newer than gtid-S of ${[...idle].join(", ")}: Running without errors confirms them`,
        );
    }
    let pending = [...tasks];
    const last: { relayName?: string; relay?: RelayView } = {};
    const flowing = await pollUntil(
        async () => {
            if (pending.length > 0) {
                // Every pending task in one read (the ports ask DM once for the whole source), as awaitStage does.
                const status = await ports.status(pending);
                for (const t of pending) {
                    const st = status.get(t);
                    if (st !== undefined) {
                        seen.set(t, st);
                    }
                }
                pending = pending.filter((t) => !confirmed(t, status.get(t)));
            }
            if (pending.length > 0) {
                return undefined;
            }
            last.relay = await ports.relay();
            if (last.relay === undefined) {
                return true;
            }
            last.relayName ??= await ports.relayName(target);
            const r = last.relay;
            return r.stage === "Running" && r.errors.length === 0 && r.subDir.startsWith(`${last.relayName}.`)
                ? true
                : undefined;
        },
        { intervalMs: opts.advancePollMs, timeoutMs: deadline - Date.now() },
    );
    if (flowing) {
        return;
    }
    if (pending.length > 0) {
        const t = pending[0];
        const s = seen.get(t);
        const state =
            s === undefined
                ? "its status could not be read"
                : `it is ${s.stage || "Offline"}${s.errors.length ? ` (${s.errors.join("; ")})` : ""} with checkpoint ${s.syncerGtid || '""'}`;
        const others = pending.length > 1 ? ` (also unconfirmed: ${pending.slice(1).join(", ")})` : "";
        const running = s !== undefined && s.stage === "Running" && s.errors.length === 0;
        const what = running
            ? `the syncer of task ${t} received nothing from ${target} and did not move past gtid-S ${from.get(t) || '""'} although ${target} has newer transactions`
            : `task ${t} did not run without errors`;
        throw new Error(
            `within ${opts.advanceTimeoutMs} ms ${what}: ${state}${others}. ` +
                `DM flushes the checkpoint every checkpoint-flush-interval (30 s by default): check 'query-status ${t}' and the dm-worker log`,
        );
    }
    const r = last.relay!;
    throw new Error(
        `within ${opts.advanceTimeoutMs} ms the relay log did not read from ${target} (${last.relayName}.*) without errors: relay is ${r.stage} in ${r.subDir || '""'}${r.errors.length ? ` (${r.errors.join("; ")})` : ""}. ` +
            "Check 'query-status' of the source and the dm-worker log",
    );
}

/** Runs the plan. Returns a report, or throws SwitchError / RuleViolationError with the world made safe. */
export async function executeSwitch(
    plan: SwitchPlan,
    ports: SwitchPorts,
    options: SwitchOptions & {
        /** Each task's status the plan was made from: the decision before the pause uses it. @default read again */
        statusBefore?: Map<string, TaskStatus>;
    } = {},
): Promise<SwitchReport> {
    const opts = resolveOptions(options);
    const continueAfterMove = opts.continueAfterMove ?? false;
    const gtidS = new Map<string, string>(Object.entries(opts.gtidS ?? {}));
    const bytesAtPause = new Map<string, number>(Object.entries(opts.dumpIoBytes ?? {}));
    const report: SwitchReport = { plan, gtidS: {}, dumpIoBytes: {}, steps: [] };
    // What has happened so far, for the failure path.
    const paused = new Set(
        plan.switched.filter((t) => !plan.steps.some((s) => s.kind === "pause" && s.tasks.includes(t))),
    );
    let pauseStart: number | undefined;
    let moved = continueAfterMove;
    let stopped = false;
    let ruleOk = continueAfterMove;
    let now: string | undefined = continueAfterMove ? plan.to : plan.from;
    // Each task's status as await-paused saw it Paused: check-rule takes gtid-S from it.
    const pausedStatus = new Map<string, TaskStatus>();
    // The target's gtid-E at the first check, and a read of it started with the resume (or start-task).
    let executedAtCheck = options.executedAtCheck;
    let atResume: Promise<{ executed: string; server: string; replica: boolean | undefined } | undefined> | undefined;
    const readAtResume = () => {
        atResume ??= ports.targetGtids(plan.to).catch(() => undefined);
    };

    const run = async (step: Step) => {
        switch (step.kind) {
            case "pause":
                pauseStart ??= Date.now();
                step.tasks.forEach((t) => paused.add(t));
                return ports.pause(step.tasks);
            case "await-paused":
                for (const [t, s] of await awaitStage(ports, step.tasks, "Paused", opts)) {
                    pausedStatus.set(t, s);
                }
                return;
            case "check-rule": {
                const executed = await checkRule(ports, plan, step, opts, gtidS, bytesAtPause, pausedStatus);
                executedAtCheck ??= executed;
                ruleOk = true;
                return;
            }
            case "move-vip":
                moved = true;
                await ports.vip!.moveTo(step.to);
                now = step.to;
                return;
            case "verify-vip":
                return ports.vip!.verify(step.to);
            case "resume":
                readAtResume();
                return ports.resume(step.tasks);
            case "stop-tasks":
                stopped = true;
                return ports.stopTasks(step.tasks);
            case "stop-source":
                return ports.stopSource();
            case "create-source":
                await ports.createSource(step.address);
                now = step.to;
                return;
            case "start-tasks":
                // New subtasks: their syncers count received bytes from 0.
                step.tasks.forEach((t) => bytesAtPause.set(t, 0));
                readAtResume();
                return ports.startTasks(step.tasks, gtidS);
            case "await-running":
                await awaitStage(ports, step.tasks, "Running", opts);
                step.tasks.forEach((t) => paused.delete(t));
                if (pauseStart !== undefined) {
                    report.pausedMs = Date.now() - pauseStart;
                }
                return;
            case "start-relay":
                return ports.startRelay();
            case "confirm-reading":
                return confirmReading(ports, step.tasks, step.target, gtidS, bytesAtPause, opts);
        }
    };

    // 0. Before the first pause, the decision the policy pack makes, on the statuses the plan was made from:
    //    a refusal that pausing cannot change (another replication set, a missing prerequisite, a task list
    //    leaving a task out, a task with errors, DM not knowing the source) or a target that cannot be read
    //    (down, a wrong password) is refused with nothing paused. The GTID rule itself is decided with the
    //    tasks paused (check-rule), when gtid-S has stopped moving.
    const firstCheck = plan.steps.findIndex((s) => s.kind === "check-rule");
    const firstPause = plan.steps.findIndex((s) => s.kind === "pause");
    if (!continueAfterMove && firstCheck !== -1 && (firstPause === -1 || firstPause < firstCheck)) {
        const start = Date.now();
        let standing: string[];
        try {
            const before =
                options.statusBefore ??
                (plan.tasks.length > 0 ? await ports.status(plan.tasks) : new Map<string, TaskStatus>());
            standing = (await ports.decide(plan.to, before, { from: plan.from })).standing;
        } catch (err) {
            const why = `${err instanceof Error ? err.message : String(err)}`.replace(/[.\s]*$/, "");
            ports.log(`deciding on ${plan.to} before the pause failed after ${Date.now() - start} ms: ${why}`);
            throw await recover(plan, ports, opts, {
                paused: [...paused],
                moved,
                stopped,
                ruleOk,
                now,
                failedStep: plan.steps[firstCheck],
                why: paused.size === 0 ? `${why}. No task was paused` : why,
                err,
            });
        }
        if (standing.length > 0) {
            const err = new RuleViolationError(standing.join(" "));
            throw await recover(plan, ports, opts, {
                paused: [...paused],
                moved,
                stopped,
                ruleOk,
                now,
                failedStep: plan.steps[firstCheck],
                why: paused.size === 0 ? `${err.message} No task was paused` : err.message,
                err,
            });
        }
    }
    for (const [i, step] of plan.steps.entries()) {
        const text = describeStep(step, plan);
        const start = Date.now();
        try {
            await run(step);
        } catch (err) {
            const why = err instanceof Error ? err.message : String(err);
            ports.log(`step ${i + 1} failed after ${Date.now() - start} ms: ${text}: ${why}`);
            throw await recover(plan, ports, opts, {
                paused: [...paused],
                moved,
                stopped,
                ruleOk,
                now,
                failedStep: step,
                why,
                err,
            });
        }
        const ms = Date.now() - start;
        report.steps.push({ step: text, ms });
        ports.log(`step ${i + 1}/${plan.steps.length} done in ${ms} ms: ${text}`);
    }
    if (pauseStart !== undefined && report.pausedMs === undefined) {
        report.pausedMs = Date.now() - pauseStart;
    }
    report.gtidS = Object.fromEntries(gtidS);
    report.dumpIoBytes = Object.fromEntries(bytesAtPause);
    report.executedAtCheck = executedAtCheck;
    if (atResume !== undefined && executedAtCheck !== undefined) {
        const after = await atResume;
        if (after === undefined) {
            ports.log(
                `${plan.to} could not be read at the resume: transactions written on it during the switch were not looked for`,
            );
        } else {
            try {
                const gtids = ports.writtenBy(executedAtCheck, after.executed, after.server);
                // Replication status unknown: a target with no transaction of its own at the check was not
                // being written, a replica as far as can be seen.
                const replica =
                    gtids === ""
                        ? false
                        : (after.replica ??
                          (ports.writtenBy("", executedAtCheck, after.server) === "" ? undefined : false));
                if (replica !== false) {
                    report.writtenOnTarget = { target: plan.to, gtids, replica };
                }
            } catch (err) {
                // The switch is done: a set that cannot be compared only leaves this question open.
                ports.log(
                    `transactions written on ${plan.to} during the switch were not looked for: ${err instanceof Error ? err.message : String(err)}`,
                );
            }
        }
    }
    return report;
}

interface FailureState {
    paused: string[];
    moved: boolean;
    stopped: boolean;
    /** The rule was verified against the target in this run. */
    ruleOk: boolean;
    now: string | undefined;
    failedStep: Step;
    why: string;
    err: unknown;
}

/** After a failure: make the world safe (resume where the upstream is known and good) and build the error. */
async function recover(plan: SwitchPlan, ports: SwitchPorts, opts: ResolvedOptions, f: FailureState): Promise<Error> {
    const rule = f.err instanceof RuleViolationError;
    // The cause's own closing period would double the one before the next sentence.
    const why = f.why.replace(/[.\s]*$/, "");
    if (f.failedStep.kind === "confirm-reading" || f.failedStep.kind === "start-relay") {
        // The switch itself is done: nothing to undo. The next `pulumi up` starts relay if it is not running.
        const tasks = plan.switched.length > 0 ? ` and tasks ${plan.switched.join(", ")} run again` : "";
        const what =
            f.failedStep.kind === "start-relay"
                ? `relay could not be started (${why}); run 'pulumi up' again to start it`
                : `replication from ${plan.to} is not confirmed: ${why}`;
        return new SwitchError(
            `DM source ${plan.sourceId} now reads from ${plan.to}${tasks}, but ${what}.`,
            [],
            plan.to,
        );
    }
    const head = rule
        ? `switching DM source ${plan.sourceId} to ${plan.to} is not allowed: ${why}`
        : `switching DM source ${plan.sourceId} to ${plan.to} failed: ${why}`;
    let now = f.now;
    if (plan.mode === "vip" && f.moved && ports.vip) {
        // The VIP may or may not have moved: ask it; if the target does not answer properly, move back.
        try {
            now = await ports.vip.current();
            if (now === plan.to && f.failedStep.kind === "verify-vip" && plan.from) {
                ports.log(`moving the VIP back to ${plan.from}`);
                await ports.vip.moveTo(plan.from);
                await ports.vip.verify(plan.from);
                now = plan.from;
            }
        } catch (err) {
            ports.log(`cannot tell where the VIP points: ${err instanceof Error ? err.message : String(err)}`);
            now = undefined;
        }
    }
    if (plan.mode === "address" && f.stopped) {
        // The tasks are stopped (their checkpoints kept): never guess; the next `pulumi up` continues forward.
        return new SwitchError(
            `${head}. The tasks ${plan.tasks.join(", ")} of DM source ${plan.sourceId} were stopped with their checkpoints kept and are not running yet (a failed start-task may have created some); ` +
                `fix the cause and run 'pulumi up' again to finish the switch to ${plan.to}.`,
            f.paused,
            now,
        );
    }
    if (f.paused.length === 0) {
        return rule ? new RuleViolationError(`${head}.`) : new SwitchError(`${head}.`, [], now);
    }
    // Resuming is safe when DM will read from the server it read from before, or from the target once
    // the rule has been verified against it in this run. In address mode nothing of DM's source has changed
    // before stop-task (a change of settings at the same address included): the tasks read where they did.
    const untouched = plan.mode === "address" && !f.stopped;
    const safe =
        untouched || (now !== undefined && now === plan.from && plan.from !== plan.to) || (now === plan.to && f.ruleOk);
    if (!safe) {
        return new SwitchError(
            `${head}. Tasks ${f.paused.join(", ")} stay paused because it is not known which server the VIP points at; ` +
                `point it at ${plan.from ?? "the old instance"} or ${plan.to}, then run 'pulumi up' again (or 'dmctl --master-addr ${plan.dmAddress} resume-task <task> -s ${plan.sourceId}').`,
            f.paused,
            now,
        );
    }
    try {
        await ports.resume(f.paused);
        await awaitStage(ports, f.paused, "Running", opts);
        ports.log(`resumed ${f.paused.join(", ")} reading from ${now}`);
        const msg = `${head}. Tasks ${f.paused.join(", ")} were resumed and read from ${now}.`;
        return rule ? new RuleViolationError(msg) : new SwitchError(msg, [], now);
    } catch (err) {
        return new SwitchError(
            `${head}. Resuming ${f.paused.join(", ")} failed too (${err instanceof Error ? err.message : String(err)}): they stay paused or are not Running yet; ` +
                `run 'pulumi up' again, or 'dmctl --master-addr ${plan.dmAddress} resume-task <task> -s ${plan.sourceId}'.`,
            f.paused,
            now,
        );
    }
}
