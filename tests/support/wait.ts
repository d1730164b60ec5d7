/**
 * Waiting in tests: {@link within} asks again through components/util/poll.ts's pollUntil and fails
 * as an assertion naming what did not happen, so a test's wait reads as what it expects.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../../components/util/poll";

/**
 * Calls `attempt` every `intervalMs` until it returns something other than undefined, and returns that;
 * after `timeoutMs` fails with an AssertionError whose message is `what` (a function: read at the failure,
 * so it can show the last answer).
 */
export async function within<T>(
    what: string | (() => string),
    attempt: () => T | undefined | Promise<T | undefined>,
    opts: { intervalMs: number; timeoutMs: number },
): Promise<T> {
    const got = await pollUntil(attempt, opts);
    if (got === undefined) {
        assert.fail(typeof what === "function" ? what() : what);
    }
    return got;
}
