/**
 * The executor's waits (./execute.ts): a stage of every task, and the proof after the resume that
 * replication flows from the target. Both poll through components/util/poll.ts, every pending task in one
 * status read a round.
 */
import { pollUntil } from "../util/poll";
import { ResolvedOptions, stagePollMs } from "./options";
import type { RelayView, SwitchPorts, TaskStatus } from "./types";

/** Polls until every task is at `want`; returns the status that showed each one there. */
export async function awaitStage(
    ports: SwitchPorts,
    tasks: string[],
    want: string,
    opts: ResolvedOptions,
): Promise<Map<string, TaskStatus>> {
    const there = (s: TaskStatus | undefined) => s?.stage === want && !(want === "Running" && s.errors.length > 0);
    const seenThere = new Map<string, TaskStatus>();
    let pending = [...tasks];
    let status = new Map<string, TaskStatus>();
    const all = await pollUntil(
        async () => {
            // Every pending task in one read: the ports ask DM once for the whole source (one dm-worker
            // request however many tasks; dm-master throttles worker requests), so all are compared each round.
            status = await ports.status(pending);
            for (const t of pending) {
                const s = status.get(t);
                if (there(s)) {
                    seenThere.set(t, s!);
                }
            }
            pending = pending.filter((t) => !seenThere.has(t));
            return pending.length === 0 ? new Map(tasks.map((t) => [t, seenThere.get(t)!])) : undefined;
        },
        { intervalMs: stagePollMs(opts.pollIntervalMs, tasks.length), timeoutMs: opts.stageTimeoutMs },
    );
    if (all !== undefined) {
        return all;
    }
    const seen = pending.map((t) => {
        const s = status.get(t);
        return `${t} is ${s?.stage || "unknown"}${s?.errors.length ? ` (${s.errors.join("; ")})` : ""}`;
    });
    throw new Error(`timed out after ${opts.stageTimeoutMs} ms waiting for ${want}: ${seen.join(", ")}`);
}

/**
 * After the resume: proves that replication flows from `target`. A task is confirmed when it is Running
 * without errors and one of: its syncer has received bytes from the upstream since the pause (DM's
 * binlog reader connected to `target` and streams from gtid-S: a position the server could not serve
 * fails before any byte); its syncer checkpoint holds a transaction gtid-S lacks; `target` had nothing
 * newer than gtid-S when the step began (read from the target itself: DM's master status can be seconds
 * old); or relay is on (the syncer then reads relay files, and relay is checked instead). The checkpoint
 * alone would not do: DM flushes it only when an event arrives after checkpoint-flush-interval, so after
 * a short backlog and silence it can stay at gtid-S for good. Relay, when enabled, must read from `target`
 * (its subdirectory names the server) without errors. Polls every pending task at once, like awaitStage.
 */
export async function confirmReading(
    ports: SwitchPorts,
    tasks: string[],
    target: string,
    gtidS: Map<string, string>,
    bytesAtPause: Map<string, number>,
    opts: ResolvedOptions,
): Promise<void> {
    if (opts.advanceTimeoutMs <= 0) {
        ports.log(`not confirming that replication flows from ${target} (advanceTimeoutMs is 0)`);
        return;
    }
    const deadline = Date.now() + opts.advanceTimeoutMs;
    const executed = tasks.length > 0 ? (await ports.targetGtids(target)).executed : "";
    const relayOn = (await ports.relay()) !== undefined;
    // A task whose gtid-S this run did not read counts from the checkpoint it shows first.
    const from = new Map(tasks.map((t) => [t, gtidS.get(t)] as const));
    const idle = new Set(tasks.filter((t) => from.get(t) !== undefined && ports.covers(from.get(t)!, executed)));
    const seen = new Map<string, TaskStatus>();
    const confirmed = (t: string, s: TaskStatus | undefined) => {
        if (s === undefined || s.stage !== "Running" || s.errors.length > 0) {
            return false;
        }
        if (from.get(t) === undefined) {
            from.set(t, s.syncerGtid);
            if (ports.covers(s.syncerGtid, executed)) {
                idle.add(t);
            }
        }
        const at = bytesAtPause.get(t);
        const streamed = at !== undefined && s.dumpIoBytes !== undefined && s.dumpIoBytes > at;
        return relayOn || streamed || idle.has(t) || (s.syncerGtid !== "" && !ports.covers(from.get(t)!, s.syncerGtid));
    };
    if (idle.size > 0) {
        ports.log(
            `${target} had nothing newer than gtid-S of ${[...idle].join(", ")}: Running without errors confirms them`,
        );
    }
    let pending = [...tasks];
    const last: { relayName?: string; relay?: RelayView } = {};
    const flowing = await pollUntil(
        async () => {
            if (pending.length > 0) {
                // Every pending task in one read (the ports ask DM once for the whole source), as awaitStage does.
                const status = await ports.status(pending);
                for (const t of pending) {
                    const st = status.get(t);
                    if (st !== undefined) {
                        seen.set(t, st);
                    }
                }
                pending = pending.filter((t) => !confirmed(t, status.get(t)));
            }
            if (pending.length > 0) {
                return undefined;
            }
            last.relay = await ports.relay();
            if (last.relay === undefined) {
                return true;
            }
            last.relayName ??= await ports.relayName(target);
            const r = last.relay;
            return r.stage === "Running" && r.errors.length === 0 && r.subDir.startsWith(`${last.relayName}.`)
                ? true
                : undefined;
        },
        { intervalMs: opts.advancePollMs, timeoutMs: deadline - Date.now() },
    );
    if (flowing) {
        return;
    }
    if (pending.length > 0) {
        const t = pending[0];
        const s = seen.get(t);
        const state =
            s === undefined
                ? "its status could not be read"
                : `it is ${s.stage || "Offline"}${s.errors.length ? ` (${s.errors.join("; ")})` : ""} with checkpoint ${s.syncerGtid || '""'}`;
        const others = pending.length > 1 ? ` (also unconfirmed: ${pending.slice(1).join(", ")})` : "";
        const running = s !== undefined && s.stage === "Running" && s.errors.length === 0;
        const what = running
            ? `the syncer of task ${t} received nothing from ${target} and did not move past gtid-S ${from.get(t) || '""'} although ${target} has newer transactions`
            : `task ${t} did not run without errors`;
        throw new Error(
            `within ${opts.advanceTimeoutMs} ms ${what}: ${state}${others}. ` +
                `DM flushes the checkpoint every checkpoint-flush-interval (30 s by default): check 'query-status ${t}' and the dm-worker log`,
        );
    }
    const r = last.relay!;
    throw new Error(
        `within ${opts.advanceTimeoutMs} ms the relay log did not read from ${target} (${last.relayName}.*) without errors: relay is ${r.stage} in ${r.subDir || '""'}${r.errors.length ? ` (${r.errors.join("; ")})` : ""}. ` +
            "Check 'query-status' of the source and the dm-worker log",
    );
}
