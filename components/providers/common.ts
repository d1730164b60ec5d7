/**
 * What the dynamic providers (Vip, SourceBinding, VipIntent, VipResume) do alike: the log of a source's
 * switch, the live ports of a resource's source, how a recorded state is compared with the inputs (`diff`),
 * and the end of a switch: run the plan → log → written-on-target warning → `lastSwitch`, or a
 * PartialStateError with what the failed run leaves.
 */
import * as pulumi from "@pulumi/pulumi";
import { DmClient } from "../dm";
import type { AddressInputs, DmEndpointInputs, Flavor, SwitchTimeouts } from "../model";
import {
    executeSwitch,
    RuleViolationError,
    SwitchError,
    SwitchPorts,
    SwitchReport,
    TaskStatus,
    warnWrittenOnTarget,
} from "../switch/execute";
import { PortsInput, switchPorts } from "../switch/livePorts";
import { timeoutsOf } from "../switch/options";
import { SwitchPlan } from "../switch/plan";
import { CheckFailure, LastSwitch } from "./inputs";
import { PartialStateError } from "./load";

/** A source's lines in the engine's log, `dm-switch <sourceId>: …`, as information or warning. */
export function sourceLog(sourceId: string): { info: (line: string) => void; warn: (line: string) => void } {
    return {
        info: (line) => void pulumi.log.info(`dm-switch ${sourceId}: ${line}`),
        warn: (line) => void pulumi.log.warn(`dm-switch ${sourceId}: ${line}`),
    };
}

/** What every resource says of its source: where DM is, the replication set, the user, the `tasks` list. */
export interface SourceInputs {
    dm: DmEndpointInputs;
    sourceId: string;
    flavor: Flavor;
    instances: Record<string, AddressInputs>;
    user: string;
    password: string;
    tasks?: string[];
}

/** The live ports of the resource's source; `more`: DM must know the source, the VIP. @default neither */
export function sourcePorts(
    i: SourceInputs,
    dm: DmClient,
    log: (line: string) => void,
    more: Pick<PortsInput, "requireSource" | "vip"> = {},
): SwitchPorts {
    return switchPorts({
        dm,
        sourceId: i.sourceId,
        flavor: i.flavor,
        instances: i.instances,
        user: i.user,
        password: i.password,
        log,
        dmAddress: i.dm.address,
        requestedTasks: i.tasks,
        ...more,
    });
}

/** `check`'s answer: the inputs with the preview's plan (none while any input is refused), and the failures. */
export async function checked<I extends object>(
    news: I,
    failures: CheckFailure[],
    preview: () => Promise<string[]>,
): Promise<{ inputs: I & { plan: string[] }; failures: CheckFailure[] }> {
    return { inputs: { ...news, plan: failures.length === 0 ? await preview() : [] }, failures };
}

/** Fields that record a switch, hold a secret or the provider text: never a change of the desired state. */
const NOT_DESIRED_STATE = ["__provider", "plan", "pausedByUs", "lastSwitch", "password"];

export interface DiffRules {
    /** The resource's own fields that are not desired state either. @default none */
    notDesired?: string[];
    /** Differences `diff` knows beyond the fields (a recorded switch, a rotated password). @default none */
    also?: string[];
    /** Fields whose change makes another resource. @default ["sourceId"] */
    replaceOn?: string[];
    /** Delete before creating the replacement (both would be the same DM source). @default false */
    deleteBeforeReplace?: boolean;
}

/**
 * `diff` of a recorded state (`olds`) and the inputs: a change when a field of the desired state differs,
 * when a failed switch left tasks paused (`pausedByUs`: the next `pulumi up` resumes them), or for a reason
 * of `rules.also`. Logs the preview's plan (`news.plan`).
 */
export function diffState(olds: object, news: object, rules: DiffRules = {}): pulumi.dynamic.DiffResult {
    const o = olds as Record<string, unknown>;
    const n = news as Record<string, unknown>;
    const ignored = new Set([...NOT_DESIRED_STATE, ...(rules.notDesired ?? [])]);
    const differs = (k: string) => JSON.stringify(o[k]) !== JSON.stringify(n[k]);
    const keys = new Set([...Object.keys(o), ...Object.keys(n)].filter((k) => !ignored.has(k)));
    const changed = [...keys].filter(differs);
    if (((o.pausedByUs as string[] | undefined) ?? []).length > 0) {
        changed.push("pausedByUs");
    }
    changed.push(...(rules.also ?? []));
    const plan = (n.plan as string[] | undefined) ?? [];
    if (plan.length > 0) {
        // One message, not one per line: each is a round trip to the engine, and a preview of many sources prints many plans.
        pulumi.log.info(plan.join("\n"));
    }
    return {
        changes: changed.length > 0,
        replaces: (rules.replaceOn ?? ["sourceId"]).filter((k) => o[k] !== undefined && differs(k)),
        ...(rules.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
    };
}

/** Tasks a failed switch leaves paused, by the executor's error (none for a rule violation: it resumed them). */
export function leftPaused(err: unknown): string[] | undefined {
    if (err instanceof SwitchError) {
        return err.pausedTasks;
    }
    if (err instanceof RuleViolationError) {
        return [];
    }
    return undefined;
}

/**
 * Throws what a failed switch leaves for the engine to record: a PartialStateError with `properties(paused)`
 * (and the message `err`'s, plus `addendum(paused)`) after the executor's own errors, `err` otherwise.
 */
export function throwPartial(
    err: unknown,
    id: string,
    properties: (paused: string[]) => Record<string, unknown>,
    addendum: (paused: string[]) => string = () => "",
): never {
    const paused = leftPaused(err);
    if (paused === undefined) {
        throw err;
    }
    throw new PartialStateError(`${(err as Error).message}${addendum(paused)}`, id, properties(paused));
}

/** A switch to run, and what the resource records of it. */
export interface SwitchRun {
    plan: SwitchPlan;
    /** The tasks' statuses the plan was made from. @default read again (none for a finish: its tasks are stopped) */
    statusBefore?: Map<string, TaskStatus>;
    /** gtid-S per task recorded by an earlier run (a finish's stopped tasks). @default read by check-rule */
    gtidS?: Record<string, string>;
    /** Where DM reads from before the switch and after it; the same for a change of settings only. */
    from: string | undefined;
    to: string;
    /** The last switch recorded so far: still the last one when `from` is `to`. @default undefined */
    previous?: LastSwitch;
    /** How replication was held, for the log: "paused" (VIP procedure) or "stopped" (address procedure). */
    held: "paused" | "stopped";
    /** The outputs to record when the switch fails: `paused`, what it leaves paused (see {@link leftPaused}). */
    partialState: (paused: string[], err: SwitchError | RuleViolationError) => Record<string, unknown>;
}

/**
 * Runs the switch of resource `id` through `ports` (with the timeouts `inputs` set), logs it and warns of
 * what was written on the target; returns the new `lastSwitch`.
 */
export async function runSwitch(
    id: string,
    inputs: { sourceId: string } & SwitchTimeouts,
    ports: SwitchPorts,
    r: SwitchRun,
): Promise<LastSwitch | undefined> {
    let report: SwitchReport;
    try {
        report = await executeSwitch(r.plan, ports, {
            ...timeoutsOf(inputs),
            statusBefore: r.statusBefore,
            gtidS: r.gtidS,
        });
    } catch (err) {
        return throwPartial(err, id, (paused) => r.partialState(paused, err as SwitchError | RuleViolationError));
    }
    const log = sourceLog(inputs.sourceId);
    if (report.pausedMs !== undefined) {
        log.info(`replication was ${r.held} for ${report.pausedMs} ms`);
    }
    const written = warnWrittenOnTarget(report, log.warn);
    if (r.from === r.to) {
        return r.previous;
    }
    const { gtidS, pausedMs } = report;
    return { from: r.from, to: r.to, gtidS, pausedMs, ...written, at: new Date().toISOString() };
}
