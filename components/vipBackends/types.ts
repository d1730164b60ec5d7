/**
 * A VIP backend: the thing that decides which instance of a replication set answers at the VIP.
 * Instances are named by the stack ("mysql-a", "mysql-b"); each backend maps names to its own words
 * (HAProxy server names, Route53 record values, ENI ids).
 */
export interface VipBackend {
    /** What this backend is, for messages: "HAProxy backend mysql at /run/haproxy.sock". */
    readonly description: string;
    /** The instance the VIP points at now; `undefined` when none is; an error when more than one is. */
    current(): Promise<string | undefined>;
    /** Points the VIP at `target` only; returns once the change is in effect. Idempotent. */
    moveTo(target: string): Promise<void>;
    /**
     * Checks, before any DM task is paused, that a move could succeed (the zone, record or ENIs exist,
     * credentials are there); fails with an error naming the argument at fault. @default no check
     */
    preflight?(): Promise<void>;
}

/** A VIP that points at more than one instance at once: DM's connections could reach different servers. */
export class VipSplitError extends Error {
    constructor(
        readonly description: string,
        readonly instances: string[],
    ) {
        super(
            `${description} points at ${instances.join(" and ")} at once, so DM's connections may reach different servers; ` +
                `leave exactly one enabled (dm-switch will not guess which).`,
        );
        this.name = "VipSplitError";
    }
}
