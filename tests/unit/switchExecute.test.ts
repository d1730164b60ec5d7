/**
 * The executor's failure semantics, against an in-memory DM and VIP. GTID sets are simplified to
 * "everything up to n" (the real algebra has its own tests): gtid-S = n ⊇ gtid-P = p iff p ≤ n.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
    Decision,
    executeSwitch,
    RuleViolationError,
    SwitchError,
    SwitchPorts,
    TaskStatus,
    warnWrittenOnTarget,
    writtenOnTargetWarning,
} from "../../components/switch/execute";
import { resolveOptions } from "../../components/switch/options";
import { planAddressSwitch, planVipSwitch } from "../../components/switch/plan";

interface Faults {
    pause?: boolean;
    move?: "throw" | "throw-after-moving";
    verify?: boolean;
    resume?: number; // fail this many resume calls
    vipUnreadable?: boolean;
    createSource?: boolean;
    /** The resumed syncers never move their checkpoint. */
    stuck?: boolean;
    /** The resumed syncers receive no byte from the upstream. */
    silent?: boolean;
    startRelay?: boolean;
    /** The n-th read of a target's GTID sets fails (1: the first). */
    failTargetRead?: number;
}

class World implements SwitchPorts {
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
    relayState: { stage: string; subDir: string; errors: string[] } | undefined;
    /** Reasons of the shared decision that pausing cannot change (another replication set, a prerequisite…). */
    standing: string[] = [];
    /** Each decision's context, in order. */
    decisions: { target: string; tasks: string[]; from?: string; caughtUp?: boolean }[] = [];
    /** The timeout of each catch-up wait. */
    waits: number[] = [];

    constructor(
        tasks: Record<string, string>,
        readonly faults: Faults = {},
    ) {
        for (const [t, stage] of Object.entries(tasks)) {
            this.stages.set(t, stage);
            this.gtid.set(t, "90");
        }
    }
    async status(tasks: string[]) {
        this.reads.push(...tasks);
        for (const t of tasks) {
            const upstream = this.servers[(this.vipAt === this.sourceAt ? this.vipAt : this.sourceAt) ?? ""];
            if (this.resumed.has(t) && this.stages.get(t) === "Running" && !this.faults.stuck && upstream) {
                this.gtid.set(t, String(Math.min(Number(this.gtid.get(t)) + 1, upstream.executed)));
            }
        }
        const bytes = (t: string) => (this.reportBytes ? { dumpIoBytes: this.bytes.get(t) ?? 3595 } : {});
        return new Map<string, TaskStatus>(
            tasks.map((t) => [
                t,
                { stage: this.stages.get(t) ?? "", syncerGtid: this.gtid.get(t) ?? "", errors: [], ...bytes(t) },
            ]),
        );
    }
    async pause(tasks: string[]) {
        this.calls.push(`pause ${tasks}`);
        if (this.faults.pause) throw new Error("dm-master unreachable");
        tasks.forEach((t) => this.stages.set(t, "Paused"));
    }
    async resume(tasks: string[]) {
        this.calls.push(`resume ${tasks}`);
        if ((this.faults.resume ?? 0) > 0) {
            this.faults.resume!--;
            throw new Error("resume rejected: worker offline");
        }
        tasks.forEach((t) => {
            this.stages.set(t, "Running");
            this.resumed.add(t);
            // The reconnect's first events (fake rotate, format description, Gtid_list).
            this.bytes.set(t, (this.bytes.get(t) ?? 3595) + (this.faults.silent ? 0 : 108));
        });
    }
    async stopTasks(tasks: string[]) {
        this.calls.push(`stop-task ${tasks}`);
        tasks.forEach((t) => this.stages.delete(t));
    }
    async startTasks(tasks: string[], gtidS: Map<string, string>) {
        this.calls.push(`start-task ${tasks.map((t) => `${t}@${gtidS.get(t)}`)}`);
        tasks.forEach((t) => {
            this.stages.set(t, "Running");
            this.resumed.add(t);
            // A new subtask: its counter starts again from 0.
            this.bytes.set(t, this.faults.silent ? 0 : 108);
        });
    }
    async startRelay() {
        this.calls.push("start-relay");
        if (this.faults.startRelay) throw new Error("worker1 is offline");
        this.relayState = { stage: "Running", subDir: `0-${this.sourceAt}.000002`, errors: [] };
    }
    async stopSource() {
        this.calls.push("stop-source");
        this.sourceAt = undefined;
    }
    async createSource(address: { host: string; port: number }) {
        this.calls.push(`create-source ${address.host}:${address.port}`);
        if (this.faults.createSource) throw new Error("worker refused the source");
        this.sourceAt = address.host;
    }
    async targetGtids(target: string) {
        const s = this.servers[target];
        if (++this.targetReads === this.faults.failTargetRead) {
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
        return this.relayState;
    }
    async relayName(target: string) {
        return `0-${target}`;
    }
    vip = {
        current: async () => {
            if (this.faults.vipUnreadable) throw new Error("socket gone");
            return this.vipAt;
        },
        moveTo: async (to: string) => {
            this.calls.push(`move ${to}`);
            if (this.faults.move === "throw") throw new Error("socket gone");
            this.vipAt = to;
            if (this.faults.move === "throw-after-moving") {
                this.faults.vipUnreadable = true;
                throw new Error("socket gone");
            }
        },
        verify: async (to: string) => {
            this.calls.push(`verify ${to}`);
            if (this.faults.verify && to === "b") throw new Error("server_id 2 expected, got 1");
        },
    };
    log(line: string) {
        this.lines.push(line);
    }
}

const plan = (w: World, extra: Partial<Parameters<typeof planVipSwitch>[0]> = {}) =>
    planVipSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        tasks: [...w.stages].map(([name, stage]) => ({ name, stage })),
        ...extra,
    });
const opts = { stageTimeoutMs: 200, catchUpTimeoutMs: 50, pollIntervalMs: 1, advanceTimeoutMs: 200, advancePollMs: 1 };

/** Runs `then` right after each VIP move of `w` (inside the pause). */
function afterMove(w: World, then: () => void): void {
    const move = w.vip.moveTo;
    w.vip.moveTo = async (to) => {
        await move(to);
        then();
    };
}

test("a healthy VIP switch pauses, moves, verifies, resumes and reports gtid-S and the pause", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    const r = await executeSwitch(plan(w), w, opts);
    assert.deepEqual(w.calls, ["pause t1,t2", "move b", "verify b", "resume t1,t2"]);
    assert.deepEqual(r.gtidS, { t1: "90", t2: "90" });
    assert.equal(typeof r.pausedMs, "number");
    assert.equal(r.steps.length, 8);
    assert.equal(w.vipAt, "b");
    assert.ok(
        Number(w.gtid.get("t1")) > 90 && Number(w.gtid.get("t2")) > 90,
        "the switch ends once both syncers moved past gtid-S",
    );
});

test("transactions written on the target between the check and the resume are reported", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    afterMove(w, () => {
        w.ownFrom.b = 101;
        w.servers.b.executed = 103;
    });
    const r = await executeSwitch(plan(w), w, opts);
    assert.deepEqual(r.writtenOnTarget, { target: "b", gtids: "b:101-103", replica: true });
    assert.equal(r.executedAtCheck, "100");
    assert.deepEqual(w.calls, ["pause t1,t2", "move b", "verify b", "resume t1,t2"]);
    assert.match(
        writtenOnTargetWarning(r) ?? "",
        /^b replicates from another server and took writes of its own while the tasks were paused for the switch: b:101-103\. DM at this build has lost rows/,
    );
    const warned: string[] = [];
    assert.deepEqual(
        warnWrittenOnTarget(r, (l) => warned.push(l)),
        { writtenOnTarget: "b:101-103" },
    );
    assert.deepEqual(warned, [writtenOnTargetWarning(r)]);
});

test("writes on a target that is no replica are its normal stream: not reported; replication status unknown: reported only for a target that wrote nothing before", async () => {
    const written = (w: World) => {
        afterMove(w, () => {
            w.ownFrom.b ??= 101;
            w.servers.b.executed = 103;
        });
        return w;
    };
    const primary = written(new World({ t1: "Running" }));
    primary.replicas.b = false;
    primary.ownFrom.b = 1;
    assert.equal((await executeSwitch(plan(primary), primary, opts)).writtenOnTarget, undefined);
    const unknown = written(new World({ t1: "Running" }));
    unknown.replicas.b = undefined;
    const r = await executeSwitch(plan(unknown), unknown, opts);
    assert.deepEqual(r.writtenOnTarget, { target: "b", gtids: "b:101-103", replica: undefined });
    assert.match(
        writtenOnTargetWarning(r) ?? "",
        /^b took writes of its own while the tasks were paused for the switch \(b:101-103\), after none before; whether it replicates/,
    );
    const wroteBefore = written(new World({ t1: "Running" }));
    wroteBefore.replicas.b = undefined;
    wroteBefore.ownFrom.b = 50;
    assert.equal((await executeSwitch(plan(wroteBefore), wroteBefore, opts)).writtenOnTarget, undefined);
});

test("check-rule reads every task again right before the move and takes gtid-S from that read", async () => {
    const w = new World({ t1: "Running", t2: "Running", t3: "Paused" });
    let readsBeforeMove: string[] = [];
    afterMove(w, () => {
        readsBeforeMove = [...w.reads];
    });
    const r = await executeSwitch(plan(w), w, opts);
    // The plan's statuses (read by the run itself here: no statusBefore), t1 and t2 until Paused, then every task.
    assert.deepEqual(readsBeforeMove, ["t1", "t2", "t3", "t1", "t2", "t1", "t2", "t3"]);
    assert.deepEqual(r.gtidS, { t1: "90", t2: "90", t3: "90" });
    assert.deepEqual(
        w.decisions.map((d) => [d.tasks.join(","), d.from]),
        [
            ["t1,t2,t3", "a"],
            ["t1,t2,t3", "a"],
        ],
        "the shared decision before the pause and with the tasks paused, against the instance DM reads from",
    );
});

test("statuses handed in by the provider are used before the pause instead of reading the tasks again", async () => {
    const w = new World({ t1: "Running" });
    const before = await w.status(["t1"]);
    w.reads = [];
    let readsBeforePause: string[] | undefined;
    const pause = w.pause.bind(w);
    w.pause = async (tasks) => {
        readsBeforePause ??= [...w.reads];
        await pause(tasks);
    };
    await executeSwitch(plan(w), w, { ...opts, statusBefore: before });
    assert.deepEqual(readsBeforePause, []);
});

test("a refusal pausing cannot change is made before any task is paused, as the policy pack makes it", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    w.standing = [
        "target b (b:3306) is not in the replication set of a (a:3306) (both servers have server_id 1): DM can switch only between instances of one replication set; choose one of them.",
    ];
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof RuleViolationError);
        assert.equal(
            err.message,
            "switching DM source src to b is not allowed: target b (b:3306) is not in the replication set of a (a:3306) (both servers have server_id 1): DM can switch only between instances of one replication set; choose one of them. No task was paused.",
        );
        return true;
    });
    assert.deepEqual(w.calls, [], "nothing paused, moved or resumed");
    assert.equal(w.vipAt, "a");
});

test("a refusal that appears while the tasks are paused resumes them and moves nothing", async () => {
    const w = new World({ t1: "Running" });
    const pause = w.pause.bind(w);
    w.pause = async (tasks) => {
        await pause(tasks);
        w.standing = ["target b (b:3306): binlog_format is STATEMENT; DM needs ROW."];
    };
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /^RuleViolationError: switching DM source src to b is not allowed: target b \(b:3306\): binlog_format is STATEMENT; DM needs ROW\. Tasks t1 were resumed and read from a\.$/,
    );
    assert.deepEqual(w.calls, ["pause t1", "resume t1"]);
    assert.equal(w.vipAt, "a");
});

const concurrent: { name: string; tasks: Record<string, string>; meddle: (w: World) => void; says: RegExp }[] = [
    {
        name: "someone resumes a task dm-switch paused",
        tasks: { t1: "Running", t2: "Running" },
        meddle: (w) => w.stages.set("t1", "Running"),
        says: /t1 is Running, not Paused as dm-switch left it/,
    },
    {
        name: "someone resumes a task that was paused before the switch",
        tasks: { t1: "Running", t2: "Paused" },
        meddle: (w) => w.stages.set("t2", "Running"),
        says: /t2 is Running, although it was Paused when the switch began/,
    },
    {
        name: "someone resumes and pauses again a task dm-switch paused",
        tasks: { t1: "Running" },
        meddle: (w) => w.gtid.set("t1", "95"),
        says: /t1 was resumed and paused again \(its checkpoint moved from 90 to 95\)/,
    },
];

for (const c of concurrent) {
    test(`another switch under way is refused before the move: ${c.name}`, async () => {
        const w = new World(c.tasks);
        // Right after await-paused has seen every task Paused.
        const status = w.status.bind(w);
        let reads = 0;
        w.status = async (ts) => {
            const r = await status(ts);
            // One read of every task before the pause, then one of every awaited task (all Paused at once).
            if (++reads === 2) c.meddle(w);
            return r;
        };
        await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
            assert.ok(err instanceof SwitchError);
            assert.match(
                err.message,
                /^switching DM source src to b failed: another switch of DM source src is under way \(another stack, or dmctl\): /,
            );
            assert.match(err.message, c.says);
            assert.match(err.message, /Tasks .* were resumed and read from a\.$/);
            assert.deepEqual(err.pausedTasks, []);
            return true;
        });
        assert.ok(!w.calls.some((x) => x.startsWith("move")), w.calls.join(", "));
        assert.equal(w.vipAt, "a");
    });
}

test("a source re-bound to another dm-worker during the pause (its tasks Stopped at the checkpoint they paused at) is no other switch: it goes on", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    const status = w.status.bind(w);
    let reads = 0;
    w.status = async (ts) => {
        const r = await status(ts);
        // After await-paused: DM brings the subtasks back on a spare worker, Stopped, checkpoint unchanged.
        if (++reads === 2) ["t1", "t2"].forEach((t) => w.stages.set(t, "Stopped"));
        return r;
    };
    await executeSwitch(plan(w), w, opts);
    assert.equal(w.vipAt, "b");
    assert.deepEqual([w.stages.get("t1"), w.stages.get("t2")], ["Running", "Running"]);
});

test("a task resumed by someone else during the catch-up wait is found by the read after the wait: no move", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    w.servers.b.executed = 80;
    const wait = w.waitForCatchUp.bind(w);
    w.waitForCatchUp = async (target, gtid, timeoutMs) => {
        w.stages.set("t2", "Running");
        w.servers.b.executed = 100;
        return wait(target, gtid, timeoutMs);
    };
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /another switch of DM source src is under way \(another stack, or dmctl\): t2 is Running, not Paused as dm-switch left it\. Let it finish, then run 'pulumi up' again\. Tasks t1, t2 were resumed and read from a\.$/,
    );
    assert.equal(w.vipAt, "a");
});

test("a change of settings at the same address refused before stop-task resumes the tasks: DM's source is untouched", async () => {
    const w = new World({ t1: "Running" });
    w.servers.a.purged = 95;
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "a",
        toAddress: { host: "a", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
        reconfigure: "user",
    });
    await assert.rejects(executeSwitch(p, w, opts), (err: unknown) => {
        assert.ok(err instanceof RuleViolationError);
        assert.match(err.message, /task t1: purged 91-95\. Tasks t1 were resumed and read from a\.$/);
        return true;
    });
    assert.deepEqual(w.calls, ["pause t1", "resume t1"]);
    assert.equal(w.stages.get("t1"), "Running");
});

test("timeouts left unset (undefined) keep their defaults: the catch-up wait gets 10000 ms, not NaN", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.executed = 80;
    w.caughtUpOnWait = true;
    await executeSwitch(plan(w), w, {
        pollIntervalMs: 1,
        advancePollMs: 1,
        stageTimeoutMs: undefined,
        catchUpTimeoutMs: undefined,
        advanceTimeoutMs: undefined,
    });
    assert.equal(w.waits.length, 1);
    assert.ok(w.waits[0] > 9000 && w.waits[0] <= 10000, `waited up to ${w.waits[0]} ms`);
    assert.deepEqual(
        resolveOptions({ stageTimeoutMs: undefined, catchUpTimeoutMs: undefined, advanceTimeoutMs: undefined }),
        {
            pollIntervalMs: 10,
            stageTimeoutMs: 30000,
            catchUpTimeoutMs: 10000,
            advanceTimeoutMs: 60000,
            advancePollMs: 100,
        },
    );
    assert.throws(() => resolveOptions({ stageTimeoutMs: Number.NaN }), {
        name: "TypeError",
        message: "stageTimeoutMs must be a number of milliseconds ≥ 0, got NaN: set it or leave it out for 30000",
    });
});

test("nothing written on the target: nothing reported; the target unreadable at the resume: said, and the switch stands", async () => {
    const quiet = new World({ t1: "Running" });
    const q = await executeSwitch(plan(quiet), quiet, opts);
    assert.equal(q.writtenOnTarget, undefined);
    assert.deepEqual(
        warnWrittenOnTarget(q, () => assert.fail("no warning when nothing was written")),
        {},
    );
    // Reads: before the pause, check-rule, at the resume (fails), confirm-reading.
    const w = new World({ t1: "Running" }, { failTargetRead: 3 });
    const r = await executeSwitch(plan(w), w, opts);
    assert.equal(r.writtenOnTarget, undefined);
    assert.equal(w.vipAt, "b");
    assert.ok(
        w.lines.includes(
            "b could not be read at the resume: transactions written on it during the switch were not looked for",
        ),
        w.lines.join("\n"),
    );
});

test("an address switch reports transactions written on the target before start-task", async () => {
    const w = new World({ t1: "Running" });
    const stop = w.stopTasks.bind(w);
    w.stopTasks = async (tasks) => {
        await stop(tasks);
        w.ownFrom.b = 101;
        w.servers.b.executed = 101;
    };
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
    });
    const r = await executeSwitch(p, w, opts);
    assert.deepEqual(r.writtenOnTarget, { target: "b", gtids: "b:101-101", replica: true });
});

test("a target missing replicated GTIDs is refused, the VIP unmoved and the tasks resumed", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.executed = 80;
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof RuleViolationError);
        assert.equal(
            err.message,
            "switching DM source src to b is not allowed: task t1: lacks 81-90. Tasks t1 were resumed and read from a.",
        );
        return true;
    });
    assert.deepEqual(w.calls, ["pause t1", "wait b 90", "resume t1"]);
    assert.equal(w.vipAt, "a");
    assert.equal(w.stages.get("t1"), "Running");
});

test("a lagging target that catches up within the wait is accepted", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.executed = 80;
    w.caughtUpOnWait = true;
    await executeSwitch(plan(w), w, opts);
    assert.equal(w.vipAt, "b");
});

test("a target that purged binlogs DM still needs is refused without waiting", async () => {
    const w = new World({ t1: "Running" });
    w.servers.b.purged = 95;
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /task t1: purged 91-95\. Tasks t1 were resumed and read from a\./,
    );
    assert.ok(!w.calls.some((c) => c.startsWith("wait")));
});

test("a failed VIP move that left the VIP where it was resumes the tasks", async () => {
    const w = new World({ t1: "Running" }, { move: "throw" });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        (err: unknown) =>
            err instanceof SwitchError &&
            err.pausedTasks.length === 0 &&
            /socket gone\. Tasks t1 were resumed and read from a\./.test(err.message),
    );
    assert.equal(w.stages.get("t1"), "Running");
});

test("a VIP in an unknown state leaves the tasks paused and says how to continue", async () => {
    const w = new World({ t1: "Running", t2: "Running" }, { move: "throw-after-moving" });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, ["t1", "t2"]);
        assert.equal(err.now, undefined);
        assert.match(
            err.message,
            /Tasks t1, t2 stay paused because it is not known which server the VIP points at; point it at a or b, then run 'pulumi up' again \(or 'dmctl --master-addr dm:8261 resume-task <task> -s src'\)\./,
        );
        return true;
    });
    assert.equal(w.stages.get("t1"), "Paused");
});

test("a target that does not answer through the VIP is rolled back before resuming", async () => {
    const w = new World({ t1: "Running" }, { verify: true });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /server_id 2 expected, got 1\. Tasks t1 were resumed and read from a\./,
    );
    assert.deepEqual(w.calls, ["pause t1", "move b", "verify b", "move a", "verify a", "resume t1"]);
    assert.equal(w.vipAt, "a");
});

test("a resume that keeps failing leaves the tasks paused, recorded for the next run", async () => {
    const w = new World({ t1: "Running" }, { resume: 2 });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, ["t1"]);
        assert.equal(err.now, "b");
        assert.match(
            err.message,
            /Resuming t1 failed too \(resume rejected: worker offline\): they stay paused or are not Running yet; run 'pulumi up' again/,
        );
        return true;
    });
    // The next run: the VIP is at the target, the task is ours to resume.
    const again = planVipSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: w.vipAt,
        to: "b",
        tasks: [{ name: "t1", stage: "Paused" }],
        pausedByUs: ["t1"],
    });
    await executeSwitch(again, w, opts);
    assert.equal(w.stages.get("t1"), "Running");
});

test("a resume failing once is retried by the recovery and succeeds", async () => {
    const w = new World({ t1: "Running" }, { resume: 1 });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        (err: unknown) => err instanceof SwitchError && err.pausedTasks.length === 0 && err.now === "b",
    );
    assert.equal(w.stages.get("t1"), "Running");
});

test("a task that never reaches Paused fails the switch with the stage seen, and nothing moves", async () => {
    const w = new World({ t1: "Running" });
    w.pause = async (tasks) => {
        w.calls.push(`pause ${tasks}`);
        tasks.forEach((t) => w.stages.set(t, "Pausing"));
    };
    await assert.rejects(executeSwitch(plan(w), w, opts), /timed out after 200 ms waiting for Paused: t1 is Pausing/);
    assert.equal(w.vipAt, "a");
});

test("a pause that fails changes nothing and resumes what may have been paused", async () => {
    const w = new World({ t1: "Running" }, { pause: true });
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /dm-master unreachable\. Tasks t1 were resumed and read from a\./,
    );
});

test("an address switch restarts the tasks from gtid-S at the new address", async () => {
    const w = new World({ t1: "Running", t2: "Paused" });
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [...w.stages].map(([name, stage]) => ({ name, stage })),
    });
    await executeSwitch(p, w, opts);
    assert.deepEqual(w.calls, [
        "pause t1",
        "stop-task t1,t2",
        "stop-source",
        "create-source b:3306",
        "start-task t1@90,t2@90",
        "pause t2",
    ]);
    assert.equal(w.stages.get("t1"), "Running");
    assert.equal(w.stages.get("t2"), "Paused");
});

test("an address switch failing after stop-task tells the next pulumi up to finish", async () => {
    const w = new World({ t1: "Running" }, { createSource: true });
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
    });
    await assert.rejects(
        executeSwitch(p, w, opts),
        /worker refused the source\. The tasks t1 of DM source src were stopped with their checkpoints kept and are not running yet \(a failed start-task may have created some\); fix the cause and run 'pulumi up' again to finish the switch to b\./,
    );
});

test("a target that cannot be read is refused before any task is paused", async () => {
    const w = new World({ t1: "Running" });
    w.targetGtids = async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:3307");
    };
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.match(
            err.message,
            /^switching DM source src to b failed: connect ECONNREFUSED 127\.0\.0\.1:3307\. No task was paused/,
        );
        assert.deepEqual(err.pausedTasks, []);
        return true;
    });
    assert.deepEqual(w.calls, [], "nothing was paused, moved or resumed");
    assert.equal(w.vipAt, "a");
});

test("a task whose subtask is Offline cannot prove gtid-S: the switch is refused and the VIP stays", async () => {
    // t2's worker is gone: DM reports no stage for it. Not running, it is not paused or awaited, and
    // check-rule, reading it, finds nothing to check.
    const w = new World({ t1: "Running", t2: "" });
    w.gtid.set("t2", "");
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, /gtid-S cannot be read: t2 is Offline/);
        return true;
    });
    assert.ok(!w.calls.some((c) => c.startsWith("move")), `the VIP did not move: ${w.calls.join(", ")}`);
    assert.equal(w.vipAt, "a");
    assert.equal(w.stages.get("t1"), "Running", "t1 was resumed");
});

test("a worker lost after the tasks were seen Paused: gtid-S was read then; the failed resume names the tasks", async () => {
    const w = new World({ t1: "Running", t2: "Running" });
    afterMove(w, () => {
        w.faults.resume = 10;
    });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, ["t1", "t2"]);
        return true;
    });
    assert.equal(w.vipAt, "b");
});

test("a syncer that never moves past gtid-S while the target has newer transactions fails loudly; the switch stands", async () => {
    const w = new World({ t1: "Running", t2: "Running" }, { stuck: true });
    await assert.rejects(executeSwitch(plan(w), w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, []);
        assert.equal(err.now, "b");
        assert.match(
            err.message,
            /^DM source src now reads from b and tasks t1, t2 run again, but replication from b is not confirmed: within 200 ms the syncer of task t1 received nothing from b and did not move past gtid-S 90 although b has newer transactions: it is Running with checkpoint 90 \(also unconfirmed: t2\)\. DM flushes the checkpoint every checkpoint-flush-interval \(30 s by default\): check 'query-status t1'/,
        );
        return true;
    });
    assert.equal(w.vipAt, "b", "nothing is undone: the rule held and the tasks run");
    assert.deepEqual(w.calls, ["pause t1,t2", "move b", "verify b", "resume t1,t2"]);
});

test("a target with nothing newer than gtid-S confirms a Running task without waiting for its checkpoint", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.servers.b.executed = 90;
    await executeSwitch(plan(w), w, opts);
    assert.ok(
        w.lines.some((l) => l === "b had nothing newer than gtid-S of t1: Running without errors confirms them"),
        w.lines.join("\n"),
    );
});

test("a task that pauses with an error after the resume is reported with DM's error", async () => {
    const w = new World({ t1: "Running" });
    const resume = w.resume.bind(w);
    w.resume = async (tasks) => {
        await resume(tasks);
        // Running for the stage wait, then DM's binlog reader fails.
        let reads = 0;
        const status = w.status.bind(w);
        w.status = async (ts) =>
            ++reads <= 1
                ? status(ts)
                : new Map(
                      ts.map((t) => [
                          t,
                          {
                              stage: "Paused",
                              syncerGtid: "90",
                              errors: ["ERROR 1236 (HY000): could not find GTID state"],
                          },
                      ]),
                  );
    };
    await assert.rejects(
        executeSwitch(plan(w), w, opts),
        /not confirmed: .*task t1 .*it is Paused \(ERROR 1236 \(HY000\): could not find GTID state\) with checkpoint 90/,
    );
});

test("relay, when enabled, must read from the target without errors", async () => {
    const w = new World({ t1: "Running" });
    w.relayState = { stage: "Running", subDir: "0-a.000001", errors: [] };
    let reads = 0;
    w.relay = async () => (++reads < 3 ? w.relayState : { stage: "Running", subDir: "0-b.000002", errors: [] });
    await executeSwitch(plan(w), w, opts);
    assert.equal(reads, 3, "polled until relay read from b");

    const stuck = new World({ t1: "Running" });
    stuck.relayState = { stage: "Paused", subDir: "0-a.000001", errors: ["[code=30044] fake rotate event"] };
    await assert.rejects(
        executeSwitch(plan(stuck), stuck, opts),
        /within 200 ms the relay log did not read from b \(0-b\.\*\) without errors: relay is Paused in 0-a\.000001 \(\[code=30044\] fake rotate event\)/,
    );
});

test("advanceTimeoutMs 0 skips the confirmation and says so", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    const r = await executeSwitch(plan(w), w, { ...opts, advanceTimeoutMs: 0 });
    assert.equal(r.steps.length, 8);
    assert.ok(w.lines.includes("not confirming that replication flows from b (advanceTimeoutMs is 0)"));
});

test("an address switch whose syncer does not move says the switch is done, not that tasks are stopped", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
    });
    await assert.rejects(executeSwitch(p, w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.equal(err.now, "b");
        assert.match(
            err.message,
            /^DM source src now reads from b and tasks t1 run again, but replication from b is not confirmed/,
        );
        assert.doesNotMatch(err.message, /stopped/);
        return true;
    });
});

test("a switch continued after a hooked move confirms against the gtid-S its first half read", async () => {
    const w = new World({ t1: "Running" });
    const p = plan(w);
    const moveAt = p.steps.findIndex((s) => s.kind === "move-vip");
    const first = await executeSwitch({ ...p, steps: p.steps.slice(0, moveAt) }, w, opts);
    assert.deepEqual(first.gtidS, { t1: "90" });
    w.vipAt = "b";
    // The target moves ahead, and the syncer's first checkpoint after the resume is already past gtid-S.
    w.gtid.set("t1", "92");
    const second = await executeSwitch({ ...p, steps: p.steps.slice(moveAt + 1) }, w, {
        ...opts,
        continueAfterMove: true,
        gtidS: first.gtidS,
    });
    assert.deepEqual(second.gtidS, { t1: "90" });
    assert.equal(w.stages.get("t1"), "Running");
});

test("an address switch of a relay-enabled source starts relay once the tasks run, and confirms it reads from the target", async () => {
    const w = new World({ t1: "Running" });
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
        relay: true,
    });
    await executeSwitch(p, w, opts);
    assert.deepEqual(w.calls, [
        "pause t1",
        "stop-task t1",
        "stop-source",
        "create-source b:3306",
        "start-task t1@90",
        "start-relay",
    ]);
    assert.equal(w.relayState?.subDir, "0-b.000002");
});

test("a start-relay that fails after the tasks run says the switch is done and the next pulumi up starts relay", async () => {
    const w = new World({ t1: "Running" }, { startRelay: true });
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
        relay: true,
    });
    await assert.rejects(executeSwitch(p, w, opts), (err: unknown) => {
        assert.ok(err instanceof SwitchError);
        assert.deepEqual(err.pausedTasks, []);
        assert.equal(
            err.message,
            "DM source src now reads from b and tasks t1 run again, but relay could not be started (worker1 is offline); run 'pulumi up' again to start it.",
        );
        return true;
    });
    assert.equal(w.stages.get("t1"), "Running");
});

test("a task whose gtid-S this run did not read is confirmed by its first checkpoint when the target has nothing newer", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.servers.b.executed = 90;
    w.vipAt = "b";
    const p = plan(w);
    const afterMove = p.steps.slice(p.steps.findIndex((s) => s.kind === "move-vip") + 1);
    w.stages.set("t1", "Paused");
    await executeSwitch({ ...p, steps: afterMove }, w, { ...opts, continueAfterMove: true });
    assert.equal(w.stages.get("t1"), "Running");
});

test("a syncer that streams from the target since the resume is confirmed even while DM has not flushed its checkpoint", async () => {
    // DM flushes the checkpoint only when an event arrives after checkpoint-flush-interval: after a short
    // backlog and silence it stays at gtid-S. The bytes the reader received show the stream instead.
    const w = new World({ t1: "Running", t2: "Running" }, { stuck: true });
    w.reportBytes = true;
    const r = await executeSwitch(plan(w), w, opts);
    assert.deepEqual(r.dumpIoBytes, { t1: 3595, t2: 3595 }, "read with gtid-S, while paused");
    assert.equal(w.vipAt, "b");

    const silent = new World({ t1: "Running" }, { stuck: true, silent: true });
    silent.reportBytes = true;
    await assert.rejects(
        executeSwitch(plan(silent), silent, opts),
        /received nothing from b and did not move past gtid-S 90/,
    );
});

test("an address switch counts a restarted task's bytes from 0, not from the old subtask's count", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.reportBytes = true;
    const p = planAddressSwitch({
        sourceId: "src",
        dmAddress: "dm:8261",
        from: "a",
        to: "b",
        toAddress: { host: "b", port: 3306 },
        tasks: [{ name: "t1", stage: "Running" }],
    });
    await executeSwitch(p, w, opts);
    assert.equal(w.bytes.get("t1"), 108, "fewer bytes than the old subtask had, and still confirmed");
});

test("relay on: the syncers read relay files, so Running without errors and relay reading from the target confirm them", async () => {
    const w = new World({ t1: "Running" }, { stuck: true });
    w.relayState = { stage: "Running", subDir: "0-b.000002", errors: [] };
    await executeSwitch(plan(w), w, opts);
    assert.equal(w.stages.get("t1"), "Running");
});

test("settleAll waits for every call before throwing the first failure", async () => {
    const { settleAll } = await import("../../components/providers/ports");
    const done: string[] = [];
    const err = await settleAll(["fails fast", "slow"], async (t) => {
        if (t === "fails fast") throw new Error(`${t} failed`);
        await new Promise((r) => setTimeout(r, 30));
        done.push(t);
    }).then(
        () => undefined,
        (e: unknown) => e,
    );
    assert.ok(err instanceof Error && err.message === "fails fast failed");
    assert.deepEqual(done, ["slow"], "the slow call finished before the error was thrown");
});

test("await-paused and await-running read every pending task in one status read per round (one DM request for the source)", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const w = new World(Object.fromEntries(names.map((t) => [t, "Running"])));
    const slow = new Set(["t3", "t7"]);
    const pause = w.pause.bind(w);
    w.pause = async (ts) => {
        await pause(ts);
        slow.forEach((t) => w.stages.set(t, "Pausing"));
    };
    const status = w.status.bind(w);
    let afterPause = 0;
    w.status = async (ts) => {
        w.calls.push(`status ${ts}`);
        const r = await status(ts);
        // t3 and t7 reach Paused after two rounds of await-paused.
        if (w.calls.some((c) => c.startsWith("pause")) && ++afterPause === 2) {
            slow.forEach((t) => w.stages.set(t, "Paused"));
        }
        return r;
    };
    const r = await executeSwitch(plan(w), w, opts);
    const all = names.join(",");
    const pausedAt = w.calls.indexOf(`pause ${all}`);
    assert.deepEqual(w.calls.slice(pausedAt, pausedAt + 5), [
        `pause ${all}`,
        `status ${all}`,
        "status t3,t7",
        "status t3,t7",
        `status ${all}`,
    ]);
    const resumedAt = w.calls.indexOf(`resume ${all}`);
    assert.deepEqual(w.calls[resumedAt + 1], `status ${all}`, "await-running: every task in one read");
    assert.deepEqual(Object.keys(r.gtidS), names, "gtid-S of every task, in the plan's order");
});
