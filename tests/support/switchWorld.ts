/**
 * The executor's world in memory: DM's tasks and source, the VIP, the servers' GTID sets, behind
 * SwitchPorts. GTID sets are simplified to "everything up to n" (the real algebra has its own tests):
 * gtid-S = n ⊇ gtid-P = p iff p ≤ n. Faults and interleavings are options of the world, so a test says
 * what goes wrong instead of overwriting a port.
 */
import { Decision, SwitchPorts, TaskStatus } from "../../components/switch/execute";
import { planAddressSwitch, planVipSwitch } from "../../components/switch/plan";

/** What relay reports (undefined: relay off). */
export type RelayState = { stage: string; subDir: string; errors: string[] } | undefined;

/** What goes wrong, and what else happens during a switch. Every field is off by default. */
export interface WorldOptions {
    /** pause-task fails (dm-master unreachable). @default false */
    failPause?: boolean;
    /** The stage pause-task leaves the tasks in ("Pausing": they never reach Paused). @default "Paused" */
    stageAfterPause?: string;
    /** The VIP move fails, leaving the VIP where it was ("throw") or moved but unreadable. @default undefined */
    failMove?: "throw" | "throw-after-moving";
    /** The target does not answer through the VIP (its verification fails). @default false */
    failVerify?: boolean;
    /** This many resume-task calls fail (worker offline). Counts down. @default 0 */
    failResume?: number;
    /** Reading where the VIP points fails. @default false */
    vipUnreadable?: boolean;
    /** operate-source create fails. @default false */
    failCreateSource?: boolean;
    /** The resumed syncers never move their checkpoint. @default false */
    stuck?: boolean;
    /** The resumed syncers receive no byte from the upstream. @default false */
    silent?: boolean;
    /** start-relay fails (worker offline). @default false */
    failStartRelay?: boolean;
    /** The n-th read of a target's GTID sets fails (1: the first). @default undefined */
    failTargetRead?: number;
    /** Every read of a target's GTID sets fails with this message. @default undefined */
    targetUnreadable?: string;
    /** After the resume, every status read but the first says Paused with this error. @default undefined */
    pausedWithErrorAfterResume?: string;
    /** Relay's answers, one a read (the last one repeats); unset: `relayState`. @default undefined */
    relayAnswers?: RelayState[];
    /** Each status read is recorded in `calls` as `status <tasks>`. @default false */
    recordStatusReads?: boolean;
    /** Runs before pause-task. @default undefined */
    beforePause?: (w: World) => void;
    /** Runs after pause-task changed the stages. @default undefined */
    afterPause?: (w: World) => void;
    /** Runs right after each VIP move (inside the pause). @default undefined */
    afterMove?: (w: World) => void;
    /** Runs after stop-task. @default undefined */
    afterStopTasks?: (w: World) => void;
    /** Runs before each catch-up wait. @default undefined */
    beforeCatchUpWait?: (w: World) => void;
    /** Runs after the n-th status read (1: the first) has been answered. @default undefined */
    afterStatusRead?: (w: World, n: number) => void;
}

export class World implements SwitchPorts {
    stages = new Map<string, string>();
    gtid = new Map<string, string>();
    vipAt: string | undefined = "a";
    sourceAt: string | undefined = "a";
    servers: Record<string, { purged: number; executed: number }> = {
        a: { purged: 0, executed: 100 },
        b: { purged: 0, executed: 100 },
    };
    calls: string[] = [];
    lines: string[] = [];
    caughtUpOnWait = false;
    targetReads = 0;
    /** Every task status read, in order. */
    reads: string[] = [];
    /** How many status reads (calls of `status`) were answered. */
    statusReads = 0;
    /** How many times relay was read. */
    relayReads = 0;
    /** Whether each server replicates from another (undefined: cannot be read). a writes, b replicates. */
    replicas: Record<string, boolean | undefined> = { a: false, b: true };
    /** The first transaction each server wrote itself (none: a pure replica). */
    ownFrom: Record<string, number> = { a: 1 };
    /** Tasks resumed or started by the switch: their checkpoint moves one transaction per status read. */
    resumed = new Set<string>();
    /** Each syncer's received bytes, reported in the status when `reportBytes`. */
    bytes = new Map<string, number>();
    reportBytes = false;
    /** undefined: relay off. */
    relayState: RelayState;
    /** Reasons of the shared decision that pausing cannot change (another replication set, a prerequisite…). */
    standing: string[] = [];
    /** Each decision's context, in order. */
    decisions: { target: string; tasks: string[]; from?: string; caughtUp?: boolean }[] = [];
    /** The timeout of each catch-up wait. */
    waits: number[] = [];
    /** Status reads since the last resume (for `pausedWithErrorAfterResume`). */
    private readsSinceResume: number | undefined;

    constructor(
        tasks: Record<string, string>,
        readonly options: WorldOptions = {},
    ) {
        for (const [t, stage] of Object.entries(tasks)) {
            this.stages.set(t, stage);
            this.gtid.set(t, "90");
        }
    }
    async status(tasks: string[]) {
        if (this.options.recordStatusReads) this.calls.push(`status ${tasks}`);
        const failing = this.options.pausedWithErrorAfterResume;
        if (failing !== undefined && this.readsSinceResume !== undefined && ++this.readsSinceResume > 1) {
            return new Map<string, TaskStatus>(
                tasks.map((t) => [t, { stage: "Paused", syncerGtid: "90", errors: [failing] }]),
            );
        }
        this.reads.push(...tasks);
        for (const t of tasks) {
            const upstream = this.servers[(this.vipAt === this.sourceAt ? this.vipAt : this.sourceAt) ?? ""];
            if (this.resumed.has(t) && this.stages.get(t) === "Running" && !this.options.stuck && upstream) {
                this.gtid.set(t, String(Math.min(Number(this.gtid.get(t)) + 1, upstream.executed)));
            }
        }
        const bytes = (t: string) => (this.reportBytes ? { dumpIoBytes: this.bytes.get(t) ?? 3595 } : {});
        const answer = new Map<string, TaskStatus>(
            tasks.map((t) => [
                t,
                { stage: this.stages.get(t) ?? "", syncerGtid: this.gtid.get(t) ?? "", errors: [], ...bytes(t) },
            ]),
        );
        this.options.afterStatusRead?.(this, ++this.statusReads);
        return answer;
    }
    async pause(tasks: string[]) {
        this.options.beforePause?.(this);
        this.calls.push(`pause ${tasks}`);
        if (this.options.failPause) throw new Error("dm-master unreachable");
        tasks.forEach((t) => this.stages.set(t, this.options.stageAfterPause ?? "Paused"));
        this.options.afterPause?.(this);
    }
    async resume(tasks: string[]) {
        this.calls.push(`resume ${tasks}`);
        if ((this.options.failResume ?? 0) > 0) {
            this.options.failResume!--;
            throw new Error("resume rejected: worker offline");
        }
        tasks.forEach((t) => {
            this.stages.set(t, "Running");
            this.resumed.add(t);
            // The reconnect's first events (fake rotate, format description, Gtid_list).
            this.bytes.set(t, (this.bytes.get(t) ?? 3595) + (this.options.silent ? 0 : 108));
        });
        this.readsSinceResume = 0;
    }
    async stopTasks(tasks: string[]) {
        this.calls.push(`stop-task ${tasks}`);
        tasks.forEach((t) => this.stages.delete(t));
        this.options.afterStopTasks?.(this);
    }
    async startTasks(tasks: string[], gtidS: Map<string, string>) {
        this.calls.push(`start-task ${tasks.map((t) => `${t}@${gtidS.get(t)}`)}`);
        tasks.forEach((t) => {
            this.stages.set(t, "Running");
            this.resumed.add(t);
            // A task stopped before this world began (a finish) starts from the gtid-S it was given.
            if (!this.gtid.has(t)) this.gtid.set(t, gtidS.get(t) ?? "");
            // A new subtask: its counter starts again from 0.
            this.bytes.set(t, this.options.silent ? 0 : 108);
        });
    }
    async startRelay() {
        this.calls.push("start-relay");
        if (this.options.failStartRelay) throw new Error("worker1 is offline");
        this.relayState = { stage: "Running", subDir: `0-${this.sourceAt}.000002`, errors: [] };
    }
    async stopSource() {
        this.calls.push("stop-source");
        this.sourceAt = undefined;
    }
    async createSource(address: { host: string; port: number }) {
        this.calls.push(`create-source ${address.host}:${address.port}`);
        if (this.options.failCreateSource) throw new Error("worker refused the source");
        this.sourceAt = address.host;
    }
    async targetGtids(target: string) {
        if (this.options.targetUnreadable !== undefined) throw new Error(this.options.targetUnreadable);
        const s = this.servers[target];
        if (++this.targetReads === this.options.failTargetRead) {
            throw new Error("connection refused");
        }
        return {
            purged: String(s.purged),
            executed: String(s.executed),
            server: target,
            replica: this.replicas[target],
        };
    }
    async waitForCatchUp(target: string, gtid: string, timeoutMs: number) {
        this.options.beforeCatchUpWait?.(this);
        this.calls.push(`wait ${target} ${gtid}`);
        this.waits.push(timeoutMs);
        if (this.caughtUpOnWait) this.servers[target].executed = Number(gtid);
        return this.caughtUpOnWait;
    }
    rule(syncer: string, purged: string, executed: string) {
        const [s, p, e] = [Number(syncer), Number(purged), Number(executed)];
        const reasons = [...(p > s ? [`purged ${s + 1}-${p}`] : []), ...(s > e ? [`lacks ${e + 1}-${s}`] : [])];
        return {
            ok: reasons.length === 0,
            purgedNotInSyncer: p > s ? `${s + 1}-${p}` : "",
            syncerNotInExecuted: s > e ? `${e + 1}-${s}` : "",
            reasons,
        };
    }
    /** The decision over the simplified rule, plus the injected standing reasons. */
    async decide(
        target: string,
        status: Map<string, TaskStatus>,
        context: { from?: string; catchUp?: { caughtUp: boolean } },
    ): Promise<Decision> {
        this.decisions.push({
            target,
            tasks: [...status.keys()],
            from: context.from,
            caughtUp: context.catchUp?.caughtUp,
        });
        const s = await this.targetGtids(target);
        const verdicts = [...status].map(([t, st]) => ({ t, st, v: this.rule(st.syncerGtid, s.purged, s.executed) }));
        const ruleReasons = verdicts.flatMap(({ t, v }) => v.reasons.map((r) => `task ${t}: ${r}`));
        const failed = verdicts.filter(({ v }) => !v.ok);
        const lagOnly =
            this.standing.length === 0 && failed.length > 0 && failed.every(({ v }) => v.purgedNotInSyncer === "");
        return {
            ok: failed.length === 0 && this.standing.length === 0,
            reasons: [...this.standing, ...ruleReasons],
            standing: [...this.standing],
            catchUp: lagOnly ? failed.map(({ st }) => st.syncerGtid) : [],
            executed: s.executed,
        };
    }
    covers(a: string, b: string) {
        return Number(a) >= Number(b);
    }
    /** Transactions numbered from `ownFrom[server]` on were written on that server itself. */
    writtenBy(before: string, after: string, server: string) {
        const first = Math.max(Number(before) + 1, this.ownFrom[server] ?? Infinity);
        return first <= Number(after) ? `${server}:${first}-${after}` : "";
    }
    async relay() {
        const answers = this.options.relayAnswers;
        this.relayReads++;
        return answers ? answers[Math.min(this.relayReads, answers.length) - 1] : this.relayState;
    }
    async relayName(target: string) {
        return `0-${target}`;
    }
    vip = {
        current: async () => {
            if (this.options.vipUnreadable) throw new Error("socket gone");
            return this.vipAt;
        },
        moveTo: async (to: string) => {
            this.calls.push(`move ${to}`);
            if (this.options.failMove === "throw") throw new Error("socket gone");
            this.vipAt = to;
            if (this.options.failMove === "throw-after-moving") {
                this.options.vipUnreadable = true;
                throw new Error("socket gone");
            }
            this.options.afterMove?.(this);
        },
        verify: async (to: string) => {
            this.calls.push(`verify ${to}`);
            if (this.options.failVerify && to === "b") throw new Error("server_id 2 expected, got 1");
        },
    };
    log(line: string) {
        this.lines.push(line);
    }
}

/** The VIP switch of DM source src from a to b over the world's tasks, as they stand. */
export const plan = (w: World, extra: Partial<Parameters<typeof planVipSwitch>[0]> = {}) =>
    planVipSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        tasks: [...w.stages].map(([name, stage]) => ({ name, stage })),
        ...extra,
    });

/** The address switch of DM source src from a to b (b:3306) of one Running task t1, unless `extra` says otherwise. */
export const addressPlan = (extra: Partial<Parameters<typeof planAddressSwitch>[0]> = {}) =>
    planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
        ...extra,
    });

/** The step kinds of an address switch (a change of settings at the same address included), relay off. */
export const ADDRESS_SWITCH_STEPS = [
    "pause",
    "await-paused",
    "check-rule",
    "stop-tasks",
    "stop-source",
    "create-source",
    "start-tasks",
    "pause",
    "await-running",
    "confirm-reading",
];

/** Short waits: the world answers at once. */
export const opts = {
    stageTimeoutMs: 200,
    catchUpTimeoutMs: 50,
    pollIntervalMs: 1,
    advanceTimeoutMs: 200,
    advancePollMs: 1,
};
