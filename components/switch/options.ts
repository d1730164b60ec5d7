/**
 * The executor's options and their defaults, in one place. Pure: no I/O, no @pulumi/* import.
 *
 * Options come from resource inputs the user may leave unset, so an absent value and `undefined` must mean
 * the same thing: `{...defaults, ...options}` would let an explicit `undefined` erase a default (and a
 * deadline of `Date.now() + undefined` is NaN: a wait that never times out, or `MASTER_GTID_WAIT(…, NaN)`).
 */

import { SwitchTimeouts, TIMEOUT_DEFAULTS, TIMEOUT_KEYS } from "../model";

// The three timeouts are defined once, with their defaults, in ../model.ts.
export type { SwitchTimeouts } from "../model";

export interface SwitchOptions extends SwitchTimeouts {
    /**
     * Continue a switch whose VIP was moved by someone else (a resource hooked with `vipHooks`): the
     * steps before the move have run and the rule was verified. @default undefined (a whole switch)
     */
    continueAfterMove?: boolean;
    /**
     * The shortest pause between two reads of a stage wait (await-paused, await-running); a wait of many
     * tasks reads less often (see {@link stagePollMs}). @default 10
     */
    pollIntervalMs?: number;
    /** Pause between polls of the confirmation. @default 100 */
    advancePollMs?: number;
    /**
     * gtid-S per task, read by an earlier run of the same switch (a hooked VIP: the run before the move).
     * @default undefined (read by this run's check-rule step)
     */
    gtidS?: Record<string, string>;
    /** The syncers' received bytes read with gtid-S by that earlier run. @default undefined */
    dumpIoBytes?: Record<string, number>;
    /** The target's gtid-E read by that earlier run's check-rule step. @default undefined */
    executedAtCheck?: string;
}

/** The defaults of every option with one. */
export const SWITCH_DEFAULTS = {
    pollIntervalMs: 10,
    ...TIMEOUT_DEFAULTS,
    advancePollMs: 100,
} as const;

/** Options with every default applied. */
export type ResolvedOptions = typeof SWITCH_DEFAULTS extends infer D
    ? { -readonly [K in keyof D]: number } & Omit<SwitchOptions, keyof D>
    : never;

/**
 * `options` over the defaults, an `undefined` value leaving the default in place.
 * @throws TypeError naming the option when a timeout is not a finite number ≥ 0.
 */
export function resolveOptions(options: SwitchOptions = {}): ResolvedOptions {
    const out: Record<string, unknown> = { ...SWITCH_DEFAULTS };
    for (const [k, v] of Object.entries(options)) {
        if (v !== undefined) {
            out[k] = v;
        }
    }
    for (const k of Object.keys(SWITCH_DEFAULTS)) {
        const v = out[k];
        if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
            throw new TypeError(
                `${k} must be a number of milliseconds ≥ 0, got ${typeof v === "number" ? String(v) : JSON.stringify(v)}: set it or leave it out for ${SWITCH_DEFAULTS[k as keyof typeof SWITCH_DEFAULTS]}`,
            );
        }
    }
    return out as ResolvedOptions;
}

/** Only the timeouts of `t` that are set: what a resource passes on, so that unset stays unset. */
export function timeoutsOf(t: SwitchTimeouts): SwitchTimeouts {
    const out: SwitchTimeouts = {};
    for (const k of TIMEOUT_KEYS) {
        if (t[k] !== undefined && t[k] !== null) {
            out[k] = t[k];
        }
    }
    return out;
}

/**
 * The pause between two reads of a stage wait of `tasks` tasks: 3 ms a task, at least `pollIntervalMs`, at
 * most 30 ms. Each read is one dm-worker request through dm-master's one token bucket (10 a second after a
 * burst of 40, shared with every other reader of that dm-master); once it is spent, each read waits ≈ 100 ms.
 * DM takes longer to pause and resume more tasks, so reading them less often costs little. bench:switch,
 * 2026-12-07, MariaDB, 10 tasks: 264 ms median paused reading every 10 ms, 189–210 ms every 30 ms
 * (docs/performance.md).
 */
export function stagePollMs(pollIntervalMs: number, tasks: number): number {
    return Math.max(pollIntervalMs, Math.min(30, 3 * tasks));
}
