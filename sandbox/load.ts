/**
 * A write load on the sandbox: per task schema, one writer inserting sequence-numbered rows into `t`
 * (`seq` 1, 2, 3, … with no gap; `id` new for every attempt) at a steady rate, through the VIP or
 * straight to the primary.
 *
 * It survives a VIP switch: a broken connection is re-opened (with back-off while the VIP points
 * nowhere). A write whose outcome is unknown (the connection broke after the INSERT was sent) is
 * resolved by reading back, on the server that received it — found by the `@@server_id` the connection
 * reported, not through the VIP, which may point elsewhere now — after that server has finished the
 * connection's thread (so a commit still under way cannot land after the read). Found: the sequence
 * number is done; not found: it is written again. So "no gap, no duplicate" downstream is a real check.
 */
import type { Connection } from "mysql2/promise";
import { pollUntil, sleep } from "../components/util/poll";
import type { Sandbox } from "./index";
import { connect, ident, SqlTarget } from "./sql";

/** What startLoad writes, how fast and where. */
export interface LoadOptions {
    /** Rows per second over all schemas (split evenly between their writers). */
    rowsPerSec: number;
    /** Write through the VIP (what follows a switch) or straight to the primary. */
    via: "vip" | "primary";
    /** Which task schemas to write: the first N tasks, or task names. @default every task */
    tasks?: number | string[];
    /** How long an unknown outcome may wait for its server to answer the read-back. @default 30000 */
    resolveTimeoutMs?: number;
    /** One line per reconnect and per resolved unknown outcome. @default no output */
    log?: (line: string) => void;
}

/** Per schema, what the writer did. */
export interface SchemaLoad {
    /** Rows known written (each sequence number once). */
    written: number;
    /** The last sequence number written (the table holds 1…lastSeq when nothing was lost). */
    lastSeq: number;
    /** Failed connects and failed writes. */
    errors: number;
    /** Writes whose outcome was unknown and was resolved by reading back. */
    resolved: number;
    /** Sequence numbers whose outcome stayed unknown (their server never answered the read-back). */
    unresolved: number[];
}

/** What a load did, in total and per schema. */
export interface LoadResult {
    written: number;
    errors: number;
    resolved: number;
    unresolved: number;
    elapsedMs: number;
    schemas: Record<string, SchemaLoad>;
}

/** A running load. */
export interface Load {
    /** Totals so far. */
    progress(): { written: number; errors: number };
    /** Stops writing (an unknown outcome in flight is resolved first) and reports. */
    stop(): Promise<LoadResult>;
}

/** Starts the writers; they run until stop(). */
export function startLoad(sb: Sandbox, o: LoadOptions): Load {
    if (!(o.rowsPerSec > 0)) {
        throw new TypeError(`startLoad: rowsPerSec ${o.rowsPerSec} must be a positive number of rows per second.`);
    }
    const chosen =
        o.tasks === undefined
            ? sb.tasks
            : typeof o.tasks === "number"
              ? sb.tasks.slice(0, o.tasks)
              : sb.tasks.filter((t) => (o.tasks as string[]).includes(t.name));
    if (chosen.length === 0) {
        throw new TypeError(
            `startLoad: tasks ${JSON.stringify(o.tasks)} selects no task of the sandbox (${sb.tasks.map((t) => t.name).join(", ")}).`,
        );
    }
    const target: SqlTarget =
        o.via === "vip"
            ? { host: sb.vip.host, port: sb.vip.port, ...sb.admin }
            : { host: sb.primary.host, port: sb.primary.port, ...sb.admin };
    const rate = o.rowsPerSec / chosen.length;
    const t0 = performance.now();
    const state = { stopping: false };
    const writers = chosen.map((t) => new Writer(sb, t.schema, target, rate, o, state));
    const runs = writers.map((w) => w.run());
    return {
        progress: () => ({
            written: writers.reduce((a, w) => a + w.s.written, 0),
            errors: writers.reduce((a, w) => a + w.s.errors, 0),
        }),
        async stop() {
            state.stopping = true;
            await Promise.all(runs);
            const schemas = Object.fromEntries(writers.map((w) => [w.schema, w.s]));
            const sum = (f: (s: SchemaLoad) => number) => writers.reduce((a, w) => a + f(w.s), 0);
            return {
                written: sum((s) => s.written),
                errors: sum((s) => s.errors),
                resolved: sum((s) => s.resolved),
                unresolved: sum((s) => s.unresolved.length),
                elapsedMs: performance.now() - t0,
                schemas,
            };
        },
    };
}

type Outcome = "written" | "not written" | "unknown";

class Writer {
    readonly s: SchemaLoad = { written: 0, lastSeq: 0, errors: 0, resolved: 0, unresolved: [] };
    private conn?: Connection;
    private server?: { serverId: number; connectionId: number };
    private nextId = 0;
    private readonly table: string;

    constructor(
        private readonly sb: Sandbox,
        readonly schema: string,
        private readonly target: SqlTarget,
        private readonly rate: number,
        private readonly o: LoadOptions,
        private readonly state: { stopping: boolean },
    ) {
        this.table = `${ident(schema)}.${ident("t")}`;
    }

    /** Opens a connection (through the VIP: to whichever server answers) and notes which server it is. */
    private async open(): Promise<Connection> {
        if (this.conn) {
            return this.conn;
        }
        const conn = await connect(this.target);
        conn.on("error", () => undefined);
        try {
            const [rows] = await conn.query("SELECT @@server_id AS sid, CONNECTION_ID() AS cid");
            const r = (rows as { sid: string | number; cid: string | number }[])[0];
            this.server = { serverId: Number(r.sid), connectionId: Number(r.cid) };
        } catch (e) {
            conn.destroy();
            throw e;
        }
        this.conn = conn;
        return conn;
    }

    private drop(): void {
        this.conn?.destroy();
        this.conn = undefined;
    }

    async run(): Promise<void> {
        // Continue after what the table holds (a second load on the same sandbox).
        while (!this.state.stopping) {
            try {
                const [rows] = await (
                    await this.open()
                ).query(`SELECT COALESCE(MAX(seq), 0) AS s, COALESCE(MAX(id), 0) AS i FROM ${this.table}`);
                const r = (rows as { s: string; i: string }[])[0];
                this.s.lastSeq = Number(r.s);
                this.nextId = Number(r.i) + 1;
                break;
            } catch {
                this.s.errors++;
                this.drop();
                await sleep(100);
            }
        }
        const start = performance.now();
        let done = 0;
        let backoff = 20;
        while (!this.state.stopping) {
            const due = Math.floor(((performance.now() - start) / 1000) * this.rate);
            // After an outage, catch up at most 100 ms of writes rather than bursting the whole backlog.
            done = Math.max(done, due - Math.ceil(this.rate / 10));
            if (done >= due) {
                await sleep(Math.max(1, ((done + 1) / this.rate) * 1000 - (performance.now() - start)));
                continue;
            }
            let conn: Connection;
            try {
                conn = await this.open();
                backoff = 20;
            } catch {
                this.s.errors++;
                await sleep(backoff);
                backoff = Math.min(backoff * 2, 500);
                continue;
            }
            const seq = this.s.lastSeq + 1;
            const id = this.nextId++;
            try {
                await conn.query(`INSERT INTO ${this.table} (id, seq, payload) VALUES (?, ?, ?)`, [
                    id,
                    seq,
                    `seq ${seq} attempt ${id}`,
                ]);
                this.wrote(seq);
                done++;
            } catch (e) {
                this.s.errors++;
                const err = e as { fatal?: boolean; errno?: number; code?: string; message?: string };
                const server = this.server!;
                this.drop();
                // The server answered with an error: the autocommit INSERT did not commit. Otherwise: unknown.
                const outcome: Outcome = !err.fatal && err.errno ? "not written" : await this.resolve(seq, server);
                this.o.log?.(
                    `load ${this.schema}: seq ${seq} failed (${err.code ?? err.errno ?? err.message ?? "error"}) on server_id ${server.serverId}: ${outcome}`,
                );
                if (outcome === "written") {
                    this.s.resolved++;
                    this.wrote(seq);
                    done++;
                } else if (outcome === "unknown") {
                    this.s.unresolved.push(seq);
                    this.s.lastSeq = seq;
                    done++;
                } else {
                    await sleep(backoff);
                }
            }
        }
        this.drop();
    }

    private wrote(seq: number): void {
        this.s.lastSeq = seq;
        this.s.written++;
    }

    /** Reads back, on the server that received the write, whether `seq` is there. */
    private async resolve(seq: number, server: { serverId: number; connectionId: number }): Promise<Outcome> {
        const inst = [this.sb.primary, this.sb.replica].find((i) => i.serverId === server.serverId);
        if (!inst) {
            return "unknown";
        }
        const deadline = Date.now() + (this.o.resolveTimeoutMs ?? 30_000);
        const answer = await pollUntil<Outcome>(
            async () => {
                let conn: Connection | undefined;
                try {
                    conn = await connect({ host: inst.host, port: inst.port, ...this.sb.admin });
                    const c = conn;
                    // The old connection's thread may still be committing: wait until the server has ended it.
                    const ended = await pollUntil(
                        async () => {
                            const [p] = await c.query(
                                "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE id = ?",
                                [server.connectionId],
                            );
                            return Number((p as { n: string }[])[0].n) === 0 ? true : undefined;
                        },
                        { intervalMs: 20, timeoutMs: deadline - Date.now() },
                    );
                    if (!ended) {
                        return "unknown";
                    }
                    const [rows] = await c.query(`SELECT COUNT(*) AS n FROM ${this.table} WHERE seq = ?`, [seq]);
                    return Number((rows as { n: string }[])[0].n) > 0 ? "written" : "not written";
                } catch {
                    return undefined; // the server is unreachable or restarting: ask again
                } finally {
                    conn?.destroy();
                }
            },
            { intervalMs: 200, timeoutMs: deadline - Date.now() },
        );
        return answer ?? "unknown";
    }
}
