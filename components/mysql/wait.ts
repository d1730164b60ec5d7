/**
 * Waiting until a server has executed a GTID set — "the target has caught up" before a switch.
 *
 * MySQL: `WAIT_FOR_EXECUTED_GTID_SET(set, seconds)` waits on `gtid_executed` on any server, replica or
 * not. MariaDB has no equivalent for the binary log: `MASTER_GTID_WAIT(pos, seconds)` waits on
 * `gtid_slave_pos`, which only a replica's SQL thread moves, so on a server that is not a replica it
 * would wait for ever; and what DM reads is the binary log. So for MariaDB the question asked is
 * "does `@@gtid_binlog_state` reach the position", checked first and after every wait: a replica
 * waits server-side with `MASTER_GTID_WAIT` in slices of at most a second, any other server is polled.
 */
import { contains, domainPosition, mariadbEntries, MariadbGtidSet } from "../gtid";
import { pollUntil, sleep } from "../util/poll";
import { mariadbSet } from "./facts";
import { ER_SPECIFIC_ACCESS_DENIED_ERROR, MARIADB_GTID_SQL, withConnection } from "./probe";
import { Flavor, MysqlEndpoint, Query } from "./types";

/** Options of {@link waitForCatchUp}. */
export interface CatchUpOptions {
    /** Pause between two reads of `gtid_binlog_state` on a MariaDB server that is not a replica. @default 100 */
    intervalMs?: number;
    /** Stops the wait (between two statements) with the signal's reason. */
    signal?: AbortSignal;
}

/** The outcome of a catch-up wait: a timeout is an answer, not an error. */
export interface CatchUpResult {
    caughtUp: boolean;
    /** Time spent, for the caller's report. */
    waitedMs: number;
}

/**
 * Waits up to `timeoutMs` until the server at `ep` has executed `gtid` (a MySQL GTID set, or a
 * MariaDB GTID list), then says whether it had. `timeoutMs ≤ 0` only checks. MySQL rounds the timeout
 * up to whole seconds (5.7 takes no fraction). Throws {@link ProbeError} when the server cannot be asked
 * (a malformed MySQL set is the server's error), a TypeError naming the argument for a malformed MariaDB list.
 */
export async function waitForCatchUp(
    ep: MysqlEndpoint,
    flavor: Flavor,
    gtid: string,
    timeoutMs: number,
    opts: CatchUpOptions = {},
): Promise<CatchUpResult> {
    if (flavor === "mariadb") wanted(gtid);
    return withConnection(ep, "catch-up wait", (q) => waitForCatchUpWith(q, flavor, gtid, timeoutMs, opts));
}

/** The MariaDB set to reach; a TypeError naming the argument when malformed. */
function wanted(gtid: string): MariadbGtidSet {
    return mariadbSet(gtid.replace(/\s+/g, ""), "waitForCatchUp argument gtid");
}

/**
 * The position `MASTER_GTID_WAIT` takes: one GTID per domain, the one with the domain's highest sequence
 * number (the lowest server id among equals), which is all MariaDB compares.
 */
function positionOf(set: MariadbGtidSet): string {
    const out: string[] = [];
    let last: number | undefined;
    for (const g of mariadbEntries(set)) {
        if (g.domain !== last && g.seq === domainPosition(set, g.domain)) {
            out.push(`${g.domain}-${g.server}-${g.seq}`);
            last = g.domain;
        }
    }
    return out.join(",");
}

/** {@link waitForCatchUp} over an open connection (`q`): the statements, without the connecting. */
export async function waitForCatchUpWith(
    q: Query,
    flavor: Flavor,
    gtid: string,
    timeoutMs: number,
    opts: CatchUpOptions = {},
): Promise<CatchUpResult> {
    const start = Date.now();
    const done = (caughtUp: boolean): CatchUpResult => ({ caughtUp, waitedMs: Date.now() - start });
    const want = gtid.replace(/\s+/g, "");
    if (want === "") return done(true);
    if (flavor === "mysql") {
        if (timeoutMs <= 0) {
            const [row] = await q("SELECT GTID_SUBSET(?, @@GLOBAL.gtid_executed) AS done", [want]);
            return done(Number(row?.done) === 1);
        }
        const [row] = await q("SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS result", [want, Math.ceil(timeoutMs / 1000)]);
        const result = Number(row?.result);
        if (result !== 0 && result !== 1)
            throw new Error(`WAIT_FOR_EXECUTED_GTID_SET returned ${String(row?.result)} (expected 0 or 1)`);
        return done(result === 0);
    }
    const target = wanted(want);
    const position = positionOf(target);
    const reached = async () => {
        opts.signal?.throwIfAborted();
        const [row] = await q(MARIADB_GTID_SQL);
        return contains(mariadbSet(String(row?.gtid_binlog_state ?? ""), "gtid_binlog_state"), target);
    };
    if (await reached()) return done(true);
    // Without the privilege to see replica status, poll gtid_binlog_state (works on any server).
    const isReplica =
        (
            await q("SHOW ALL SLAVES STATUS").catch((e: { errno?: number }) => {
                if (e.errno === ER_SPECIFIC_ACCESS_DENIED_ERROR) return [];
                throw e;
            })
        ).length > 0;
    const deadline = start + Math.max(0, timeoutMs);
    if (deadline - Date.now() <= 0) return done(false);
    const intervalMs = opts.intervalMs ?? 100;
    const caughtUp = await pollUntil(
        async () => {
            if (!isReplica) return (await reached()) || undefined;
            const [row] = await q("SELECT MASTER_GTID_WAIT(?, ?) AS result", [
                position,
                Math.max(0, Math.min(deadline - Date.now(), 1000)) / 1000,
            ]);
            if (await reached()) return true;
            // MASTER_GTID_WAIT returns at once when gtid_slave_pos is there but the binlog is not: pause as a
            // server that is not a replica would (after a wait server-side the next slice starts at once).
            if (Number(row?.result) !== -1) await sleep(Math.min(intervalMs, deadline - Date.now()), opts.signal);
            return undefined;
        },
        { intervalMs: isReplica ? 0 : intervalMs, timeoutMs: deadline - Date.now(), signal: opts.signal },
    );
    // An aborted wait throws the signal's reason, as reached() does between two statements.
    opts.signal?.throwIfAborted();
    return done(caughtUp === true);
}
