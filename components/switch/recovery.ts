/**
 * The failure path of the executor (./execute.ts): after a step fails, make the world safe (resume the
 * paused tasks where the upstream DM reads from is known and satisfies the rule, move a VIP back from a
 * target that does not answer) and build the error that says what is left and how to continue.
 */
import type { ResolvedOptions } from "./options";
import type { Step, SwitchPlan } from "./plan";
import { RuleViolationError } from "./rule";
import { SwitchError, SwitchPorts } from "./types";
import { awaitStage } from "./waits";

/** What a run had done when a step failed, and the failure. */
export interface FailureState {
    /** Tasks dm-switch paused that are not Running again. */
    paused: string[];
    /** The VIP may have moved. */
    moved: boolean;
    /** stop-task began (address mode). */
    stopped: boolean;
    /** The rule was verified against the target in this run. */
    ruleOk: boolean;
    /** Where the VIP or the source pointed, as far as the run knows: an instance name, or undefined. */
    now: string | undefined;
    failedStep: Step;
    /** The cause, one sentence (a closing period is dropped). */
    why: string;
    err: unknown;
}

/** After a failure: make the world safe (resume where the upstream is known and good) and build the error. */
export async function recover(
    plan: SwitchPlan,
    ports: SwitchPorts,
    opts: ResolvedOptions,
    f: FailureState,
): Promise<Error> {
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
                `fix the cause and run 'pulumi up' again to finish the switch to ${plan.to}` +
                (rule
                    ? ", or point the source at another instance of its replication set: the switch is finished there."
                    : "."),
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
