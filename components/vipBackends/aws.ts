/**
 * The AWS VIP backends' entry point and what they share: where the API is, the check that credentials
 * and a region are there before anything changes, and the bounded waits.
 *
 * `components/providers/ports.ts` loads this module on demand; this module loads the Route53 or EC2
 * client on demand too, so a stack pays only for the SDK it uses.
 */
import { pollUntil as poll } from "../util/poll";
import type { EniBackendInputs, Route53BackendInputs } from "./awsInputs";
import type { VipBackend } from "./types";

/** The one sleep (components/util/poll.ts), under the name the backends import. */
export { sleep } from "../util/poll";

/** A VIP backend that can check, before any DM task is paused, that a move could succeed. */
export interface AwsVipBackend extends VipBackend {
    /** Fails with an error naming the argument at fault when the AWS side cannot carry the VIP. */
    preflight(): Promise<void>;
}

/** The backend a Vip's `backend` input describes: a Route53 record or an ENI secondary private IP. */
export function awsVipBackend(b: Route53BackendInputs | EniBackendInputs): AwsVipBackend {
    switch (b.kind) {
        case "route53":
            return new (require("./route53") as typeof import("./route53")).Route53Vip(b);
        case "eni":
            return new (require("./eni") as typeof import("./eni")).EniVip(b);
        default:
            throw new TypeError(
                `backend.kind must be "route53" or "eni" for an AWS VIP, got ${JSON.stringify((b as { kind?: unknown }).kind)}`,
            );
    }
}

/** A wait on the AWS API that ran out of time; `lastSeen` says what the last read returned. */
export class AwsWaitTimeoutError extends Error {
    constructor(
        message: string,
        /** What was awaited: "change C123 INSYNC", "10.0.1.100 on eni-…". */
        readonly awaited: string,
        readonly lastSeen: string,
    ) {
        super(message);
        this.name = "AwsWaitTimeoutError";
    }
}

/** Bounds of a wait. */
export interface AwsWaitOptions {
    /** Pause between two reads. */
    intervalMs: number;
    /** How long to read before giving up. */
    timeoutMs: number;
    /** Ends the wait early with an AwsWaitTimeoutError. @default undefined */
    signal?: AbortSignal;
}

/**
 * Reads until `done(value)` holds, at most `timeoutMs`; the first read is immediate. A read that throws
 * ends the wait with that error (AWS SDK calls already retry transient failures). The one poll
 * (components/util/poll.ts) with this module's error.
 */
export async function pollUntil<T>(
    what: { description: string; awaited: string; show: (v: T) => string },
    read: () => Promise<T>,
    done: (v: T) => boolean,
    opts: AwsWaitOptions,
): Promise<T> {
    const seen: { last?: { v: T } } = {};
    const attempt = async () => {
        seen.last = { v: await read() };
        return done(seen.last.v) ? seen.last : undefined;
    };
    // A signal aborted before the first read still gets one read: the error quotes what was last seen.
    const got = (await poll(attempt, opts)) ?? (seen.last === undefined ? await attempt() : undefined);
    if (got !== undefined) {
        return got.v;
    }
    const last = seen.last!;
    const why = opts.signal?.aborted ? "the wait was aborted" : `not within ${opts.timeoutMs} ms`;
    throw new AwsWaitTimeoutError(
        `${what.description}: ${what.awaited}: ${why}; last seen: ${what.show(last.v)}. Check the AWS console or CLI, raise backend.timeoutMs if AWS is slow, then retry.`,
        what.awaited,
        what.show(last.v),
    );
}

/** An AWS SDK error as one line: its code and message (never the request, which may carry signatures). */
export function awsErrorText(err: unknown): string {
    if (err instanceof Error) {
        return `${err.name}: ${err.message}`.replace(/\s+/g, " ");
    }
    return String(err);
}

/** The error name (AWS error code) of an SDK error, or "". */
export function awsErrorCode(err: unknown): string {
    return err instanceof Error ? ((err as { Code?: string }).Code ?? err.name) : "";
}

/** What `checkAwsAccess` needs of an SDK client: its resolved configuration providers. */
export interface AwsClientLike {
    config: { region: () => Promise<string>; credentials: () => Promise<unknown> };
}

/**
 * Resolves the client's region and credentials, so a stack without them fails before any DM task is
 * paused instead of in the middle of a move. The SDK caches what it resolves: later calls do not repeat it.
 */
export async function checkAwsAccess(
    client: AwsClientLike,
    kind: "route53" | "eni",
    description: string,
): Promise<void> {
    try {
        await client.config.region();
    } catch (err) {
        throw new Error(
            `backend.region: no AWS region for the ${kind} backend (${awsErrorText(err)}); set backend.region, AWS_REGION or the profile's region.`,
        );
    }
    try {
        await client.config.credentials();
    } catch (err) {
        throw new Error(
            `${description}: no AWS credentials for the ${kind} backend (${awsErrorText(err)}); ` +
                "set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or task role provides them.",
        );
    }
}

/** Throws one error listing every failure of a pure check, for a backend built without the provider's `check`. */
export function throwIfInvalid(failures: { property: string; reason: string }[]): void {
    if (failures.length > 0) {
        throw new TypeError(failures.map((f) => f.reason).join("; "));
    }
}
