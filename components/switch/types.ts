/**
 * What the executor (./execute.ts) talks to and what it returns: the ports, the statuses and decisions
 * they give, the report of a switch and the error of a failed one. Types only, but for SwitchError.
 */
import type { Address, SwitchPlan } from "./plan";

/** A task's subtask on the source, as {@link SwitchPorts.status} reads it. */
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

/** What the executor changes and reads, narrowed to what a switch needs (live: ./livePorts.ts; tests: fakes). */
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

/** What a switch did: the answer of executeSwitch (./execute.ts), which the resources' `lastSwitch` output records. */
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
