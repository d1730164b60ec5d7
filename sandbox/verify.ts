/**
 * Is the downstream what the upstream is? Per task schema and table: row count and a checksum
 * (`SUM(CRC32(...))` over every column as text, the same expression on both sides), polled until they
 * agree — DM has caught up — or the time runs out. And: are the load's sequence numbers complete and
 * unique (no row lost, none written twice)?
 *
 * The upstream is the instance the VIP points at (after a switch, the replica), read directly.
 */
import * as crypto from "node:crypto";
import { pollUntil } from "../components/util/poll";
import type { Sandbox } from "./index";
import type { MariadbInstance } from "./server";
import { ident } from "./sql";

/** One table on both sides. */
export interface TableVerdict {
    table: string;
    upstreamRows: number;
    downstreamRows: number;
    upstreamChecksum: string;
    /** "missing" when the table does not exist downstream. */
    downstreamChecksum: string;
    equal: boolean;
}

/** One task schema on both sides: rows summed, checksum over its tables' checksums. */
export interface SchemaVerdict {
    upstreamRows: number;
    downstreamRows: number;
    upstreamChecksum: string;
    downstreamChecksum: string;
    equal: boolean;
    tables: TableVerdict[];
}

/** The outcome of verifyReplicated. */
export interface Verification {
    /** Every schema equal. */
    equal: boolean;
    /** The instance compared with the downstream. */
    upstream: "primary" | "replica";
    /** How long it took DM to catch up (or the whole timeout). */
    waitedMs: number;
    schemas: Record<string, SchemaVerdict>;
}

/** How long to wait and what to compare. */
export interface VerifyOptions {
    /** How long to wait for the downstream to catch up. @default 60000 */
    timeoutMs?: number;
    /** @default 200 */
    intervalMs?: number;
    /** Compare with this instance. @default the one the VIP points at (primary when none) */
    upstream?: "primary" | "replica";
    /** @default every task schema */
    schemas?: string[];
}

/** The checksum expression for a table's columns (ordered as upstream has them). */
function checksumSql(schema: string, table: string, columns: string[]): string {
    const cols = columns.map((c) => `COALESCE(CAST(${ident(c)} AS CHAR), '\\\\N')`).join(", ");
    return `SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT_WS('#', ${cols}))), 0) AS c FROM ${ident(schema)}.${ident(table)}`;
}

async function tablesOf(inst: MariadbInstance, schema: string): Promise<Map<string, string[]>> {
    const rows = await inst.query(
        "SELECT c.table_name AS t, c.column_name AS c FROM information_schema.columns c JOIN information_schema.tables t " +
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name " +
            "WHERE c.table_schema = ? AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position",
        [schema],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
        const t = String(r.t ?? r.T ?? r.TABLE_NAME);
        out.set(t, [...(out.get(t) ?? []), String(r.c ?? r.C ?? r.COLUMN_NAME)]);
    }
    return out;
}

async function sums(
    inst: MariadbInstance,
    schema: string,
    table: string,
    columns: string[],
): Promise<{ rows: number; checksum: string }> {
    try {
        const r = (await inst.query(checksumSql(schema, table, columns)))[0];
        return { rows: Number(r.n), checksum: String(r.c) };
    } catch (e) {
        if (
            (e as { code?: string }).code === "ER_NO_SUCH_TABLE" ||
            (e as { code?: string }).code === "ER_BAD_DB_ERROR"
        ) {
            return { rows: 0, checksum: "missing" };
        }
        throw e;
    }
}

const digest = (parts: string[]) => crypto.createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 16);

async function compareSchema(up: MariadbInstance, down: MariadbInstance, schema: string): Promise<SchemaVerdict> {
    const tables = await tablesOf(up, schema);
    const verdicts: TableVerdict[] = [];
    for (const [table, columns] of [...tables].sort(([a], [b]) => a.localeCompare(b))) {
        const [u, d] = await Promise.all([sums(up, schema, table, columns), sums(down, schema, table, columns)]);
        verdicts.push({
            table,
            upstreamRows: u.rows,
            downstreamRows: d.rows,
            upstreamChecksum: u.checksum,
            downstreamChecksum: d.checksum,
            equal: u.rows === d.rows && u.checksum === d.checksum,
        });
    }
    return {
        upstreamRows: verdicts.reduce((a, v) => a + v.upstreamRows, 0),
        downstreamRows: verdicts.reduce((a, v) => a + v.downstreamRows, 0),
        upstreamChecksum: digest(verdicts.map((v) => `${v.table}:${v.upstreamRows}:${v.upstreamChecksum}`)),
        downstreamChecksum: digest(verdicts.map((v) => `${v.table}:${v.downstreamRows}:${v.downstreamChecksum}`)),
        equal: verdicts.every((v) => v.equal),
        tables: verdicts,
    };
}

/** Waits until the downstream equals the upstream for every task schema (or the timeout) and reports per schema. */
export async function verifyReplicated(sb: Sandbox, o: VerifyOptions = {}): Promise<Verification> {
    const upstream = o.upstream ?? (await sb.vipTarget()) ?? "primary";
    const up = sb[upstream];
    const schemas = o.schemas ?? sb.tasks.map((t) => t.schema);
    const timeoutMs = o.timeoutMs ?? 60_000;
    const t0 = performance.now();
    let last: Verification | undefined;
    const caughtUp = await pollUntil(
        async () => {
            const verdicts = await Promise.all(schemas.map((s) => compareSchema(up, sb.downstream, s)));
            const schemasOut = Object.fromEntries(schemas.map((s, i) => [s, verdicts[i]]));
            last = {
                equal: verdicts.every((v) => v.equal),
                upstream,
                waitedMs: performance.now() - t0,
                schemas: schemasOut,
            };
            return last.equal ? last : undefined;
        },
        { intervalMs: o.intervalMs ?? 200, timeoutMs },
    );
    return caughtUp ?? last!;
}

/** The load's sequence numbers in one schema's table `t`. */
export interface SequenceReport {
    rows: number;
    distinct: number;
    maxSeq: number;
    /** Sequence numbers absent from 1…max(maxSeq, expected last seq). */
    missing: number;
    /** Rows beyond one per sequence number. */
    duplicates: number;
    /** Up to 10 of each, for the message. */
    firstMissing: number[];
    firstDuplicated: number[];
    ok: boolean;
}

/**
 * Checks `t` of every task schema on `on` (default the downstream): sequence numbers 1…max with no gap
 * and no duplicate; with `expectedLastSeq` (the load's `schemas[s].lastSeq`) a lost tail counts as missing.
 */
export async function checkSequences(
    sb: Sandbox,
    o: { on?: "downstream" | "primary" | "replica"; expectedLastSeq?: Record<string, number>; schemas?: string[] } = {},
): Promise<Record<string, SequenceReport>> {
    const inst = sb[o.on ?? "downstream"];
    const out: Record<string, SequenceReport> = {};
    for (const schema of o.schemas ?? sb.tasks.map((t) => t.schema)) {
        const t = `${ident(schema)}.t`;
        const r = (
            await inst.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d, COALESCE(MAX(seq), 0) AS hi FROM ${t}`)
        )[0];
        const rows = Number(r.n);
        const distinct = Number(r.d);
        const maxSeq = Number(r.hi);
        const top = Math.max(maxSeq, o.expectedLastSeq?.[schema] ?? 0);
        const gaps = await inst.query(
            `SELECT s FROM (SELECT 1 AS s UNION ALL SELECT a.seq + 1 FROM ${t} a) c WHERE s <= ? AND NOT EXISTS (SELECT 1 FROM ${t} b WHERE b.seq = c.s) ORDER BY s LIMIT 10`,
            [top],
        );
        const dups = await inst.query(`SELECT seq FROM ${t} GROUP BY seq HAVING COUNT(*) > 1 ORDER BY seq LIMIT 10`);
        const missing = top - distinct;
        out[schema] = {
            rows,
            distinct,
            maxSeq,
            missing,
            duplicates: rows - distinct,
            firstMissing: gaps.map((g) => Number(g.s)),
            firstDuplicated: dups.map((d) => Number(d.seq)),
            ok: missing === 0 && rows === distinct,
        };
    }
    return out;
}
