/**
 * The one way dm-switch waits: `sleep`, and `pollUntil`, which asks again until an answer comes or
 * time runs out. Every wait in the product (DM stages, a catch-up, AWS changes, the sandbox's servers)
 * goes through these two, so interval, deadline and abort behave the same everywhere. No imports.
 */

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects: the caller looks at the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const t = setTimeout(done, Math.max(0, ms));
        function done() {
            clearTimeout(t);
            signal?.removeEventListener("abort", done);
            resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
    });
}

/** Bounds of a {@link pollUntil}. */
export interface PollOptions {
    /** Pause between two attempts. */
    intervalMs: number;
    /** How long to keep asking, from the first attempt; 0 makes one attempt. */
    timeoutMs: number;
    /** Ends the wait early (pollUntil then returns undefined). @default undefined */
    signal?: AbortSignal;
}

/**
 * Calls `attempt` until it returns something other than `undefined`, and returns that. The first attempt
 * is immediate; the last one starts no later than the deadline, so a wait ends within one interval of
 * the awaited moment. Returns `undefined` when the time ran out or `signal` aborted: the caller names
 * what it waited for in its own error. An attempt that throws ends the wait with that error (an attempt
 * that should survive a failing read catches it and returns undefined).
 */
export async function pollUntil<T>(
    attempt: () => T | undefined | Promise<T | undefined>,
    opts: PollOptions,
): Promise<T | undefined> {
    const deadline = Date.now() + Math.max(0, opts.timeoutMs);
    for (;;) {
        if (opts.signal?.aborted) return undefined;
        const answer = await attempt();
        if (answer !== undefined) return answer;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await sleep(Math.min(opts.intervalMs, left), opts.signal);
    }
}
