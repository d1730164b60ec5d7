/**
 * MySQL GTID sets: `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,…`, including MySQL 8.4 tagged GTIDs
 * (`uuid:1-5:mytag:1-3`). Pure.
 *
 * Accepted text, following MySQL's own parser (`Gtid_set::add_gtid_text`) where DM's go-mysql agrees:
 * - elements separated by commas; whitespace (spaces, tabs, newlines — servers print `,\n`) around every
 *   token; empty elements (`a,,b`, a trailing comma) are skipped, as MySQL does;
 * - a UUID in 8-4-4-4-12 hex form, any case, then one or more `:interval` (`n` or `n-m`, 1 ≤ n ≤ m ≤ 2^63-2);
 *   a `:tag` (`[A-Za-z_][A-Za-z0-9_]{0,31}`, case-insensitive) switches the following intervals to the
 *   tagged member `uuid:tag`, a different transaction source from the untagged `uuid`;
 * - DM's "start from scratch" set `uuid:0` alone means the empty set (DM `IsZeroMySQLGTIDSet`).
 * Rejected, unlike MySQL (which ignores them silently) but like go-mysql: an interval whose end is before its
 * start (`5-3`), a UUID or tag with no interval. DM's go-mysql cannot parse tags at all (tiflow#12629).
 */
import { GtidParseError } from "./errors";
import { scanMysql } from "./mysqlScan";
import {
    formatRuns,
    plusOne,
    Runs,
    RunsBuilder,
    runsContain,
    runsEqual,
    runsSubtract,
    runsUnion,
    Seq,
    seq,
} from "./runs";

/** A parsed MySQL GTID set: transaction source (`uuid` or `uuid:tag`, lowercase) → canonical runs. */
export class MysqlGtidSet {
    /** Always "mysql". */
    readonly flavor = "mysql" as const;
    /** @param sids transaction source (`uuid` or `uuid:tag`, lowercase) → non-empty canonical runs. */
    constructor(readonly sids: ReadonlyMap<string, Runs>) {}
}

/** The largest sequence number MySQL accepts: 2^63 - 2 (`GNO_END` is 2^63 - 1, exclusive). */
export const MAX_GNO = 2n ** 63n - 2n;

const COMMA = 44;
const DASH = 45;
const COLON = 58;
const UUID_LENGTH = 36;
const TAG_MAX = 32;
/** DM's "replicate from scratch" GTID set (`IsZeroMySQLGTIDSet`): one UUID with interval 0. */
const DM_ZERO = /^\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*:\s*0\s*$/i;
const MARIADB_LIKE = /^\d+-\d+-\d+$/;

function isSpace(c: number): boolean {
    return c === 32 || (c >= 9 && c <= 13);
}

function isTagStart(c: number): boolean {
    return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isTagChar(c: number): boolean {
    return isTagStart(c) || (c >= 48 && c <= 57);
}

function skipSpace(t: string, i: number): number {
    while (i < t.length && isSpace(t.charCodeAt(i))) {
        i++;
    }
    return i;
}

/** The UUID at `i` in lowercase, or undefined when the 36 characters there are not one. */
function readUuid(t: string, i: number): string | undefined {
    if (i + UUID_LENGTH > t.length) {
        return undefined;
    }
    let upper = false;
    for (let k = 0; k < UUID_LENGTH; k++) {
        const c = t.charCodeAt(i + k);
        if (k === 8 || k === 13 || k === 18 || k === 23) {
            if (c !== DASH) {
                return undefined;
            }
        } else if (c >= 65 && c <= 70) {
            upper = true;
        } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) {
            return undefined;
        }
    }
    const uuid = t.slice(i, i + UUID_LENGTH);
    return upper ? uuid.toLowerCase() : uuid;
}

/** The comma-delimited element that starts at `start`, trimmed (for error messages). */
function elementAt(t: string, start: number): string {
    const end = t.indexOf(",", start);
    return t.slice(start, end < 0 ? t.length : end).trim();
}

/** The parse error for the element starting at `start`. */
function failAt(t: string, start: number, index: number, reason: string): GtidParseError {
    return new GtidParseError({ flavor: "mysql", element: elementAt(t, start), index, position: start, reason });
}

/** Why the element at `start` does not begin with a UUID. */
function notUuid(t: string, start: number): string {
    return MARIADB_LIKE.test(elementAt(t, start))
        ? "this is a MariaDB GTID (domain-server-seq), not a MySQL one: give the source's flavor as mariadb"
        : "expected a server UUID (8-4-4-4-12 hexadecimal digits, e.g. 3e11fa47-71ca-11e1-9e33-c80aa9429562) followed by :interval";
}

/** Why there is no number at `i` (`what` names the expected number). */
function notNumber(t: string, i: number, what: string): string {
    const got = i < t.length ? JSON.stringify(t[i]) : "the end of the text";
    return `expected ${what} (a number from 1) or a tag after ":", found ${got}: write uuid:1-5 or uuid:tag:1-5`;
}

/** A number of 16 or more digits, exact; undefined when outside 1 … 2^63-2. */
function longNumber(digits: string): Seq | undefined {
    const big = BigInt(digits);
    return big > MAX_GNO || big === 0n ? undefined : seq(big);
}

/**
 * The number in t[from, to) that the inline read could not take (no digits, 0, or 16 digits and more),
 * exact; the element's error naming `what` when there is none or it is outside 1 … 2^63-2.
 */
function slowNumber(t: string, from: number, to: number, start: number, index: number, what: string): Seq {
    const long = to === from ? undefined : longNumber(t.slice(from, to));
    if (long === undefined) {
        throw failAt(t, start, index, to === from ? notNumber(t, to, what) : outOfRange(t.slice(from, to)));
    }
    return long;
}

/** The lowercase tag at `from`, or the reason it is not one. */
function tagAt(t: string, from: number): { tag: string; end: number } | string {
    let i = from;
    while (i < t.length && isTagChar(t.charCodeAt(i))) {
        i++;
    }
    if (i - from > TAG_MAX) {
        return `tag "${t.slice(from, i)}" is longer than ${TAG_MAX} characters (MySQL's limit)`;
    }
    return { tag: t.slice(from, i).toLowerCase(), end: i };
}

/**
 * One pass over the text with `charCodeAt`, every cursor a local variable: this loop runs once per
 * character of sets of many megabytes (a server's `gtid_executed`), so numbers are read inline as exact
 * doubles up to 15 digits, and only longer ones go through BigInt.
 */
function parseMysqlText(t: string): MysqlGtidSet {
    const n = t.length;
    const builders = new Map<string, RunsBuilder>();
    let i = 0;
    let index = 0;
    for (;;) {
        let c = 0;
        while (i < n && ((c = t.charCodeAt(i)) === COMMA || isSpace(c))) {
            i++;
        }
        if (i >= n) {
            break;
        }
        index++;
        const start = i;
        const uuid = readUuid(t, i);
        if (uuid === undefined) {
            throw failAt(t, start, index, notUuid(t, start));
        }
        i = skipSpace(t, i + UUID_LENGTH);
        let key = uuid;
        let tag = "";
        let builder: RunsBuilder | undefined;
        let count = 0;
        while (i < n && t.charCodeAt(i) === COLON) {
            i++;
            while (i < n && isSpace((c = t.charCodeAt(i)))) {
                i++;
            }
            if (i < n && isTagStart(c)) {
                if (tag !== "" && count === 0) {
                    throw failAt(t, start, index, `tag "${tag}" has no interval: write uuid:${tag}:1-5`);
                }
                const r = tagAt(t, i);
                if (typeof r === "string") {
                    throw failAt(t, start, index, r);
                }
                tag = r.tag;
                key = `${uuid}:${tag}`;
                builder = undefined;
                count = 0;
                i = skipSpace(t, r.end);
                continue;
            }
            // The first number of the interval.
            let from = i;
            let v = 0;
            while (i < n && (c = t.charCodeAt(i) - 48) >= 0 && c <= 9) {
                v = v * 10 + c;
                i++;
            }
            let first: Seq = v;
            if (i - from > 15 || v === 0) {
                first = slowNumber(t, from, i, start, index, "a sequence number");
            }
            let last: Seq = first;
            i = skipSpace(t, i);
            if (i < n && t.charCodeAt(i) === DASH) {
                i = skipSpace(t, i + 1);
                from = i;
                v = 0;
                while (i < n && (c = t.charCodeAt(i) - 48) >= 0 && c <= 9) {
                    v = v * 10 + c;
                    i++;
                }
                last = v;
                if (i - from > 15 || v === 0) {
                    last = slowNumber(t, from, i, start, index, "the end of the interval");
                }
                if (last < first) {
                    throw failAt(
                        t,
                        start,
                        index,
                        `interval ${first}-${last} ends before it starts: write ${last}-${first}`,
                    );
                }
                i = skipSpace(t, i);
            }
            if (builder === undefined) {
                builder = builders.get(key);
                if (builder === undefined) {
                    const comma = t.indexOf(",", i);
                    builder = new RunsBuilder(((comma < 0 ? n : comma) - i) >> 3);
                    builders.set(key, builder);
                }
            }
            builder.add(first, plusOne(last));
            count++;
        }
        if (count === 0) {
            throw failAt(
                t,
                start,
                index,
                tag === ""
                    ? `UUID ${uuid} has no interval: write ${uuid}:1-5`
                    : `tag "${tag}" has no interval: write uuid:${tag}:1-5`,
            );
        }
        if (i < n && t.charCodeAt(i) !== COMMA) {
            throw failAt(
                t,
                start,
                index,
                `unexpected ${JSON.stringify(t[i])} after the intervals: separate elements with "," and intervals with ":"`,
            );
        }
    }
    const sids = new Map<string, Runs>();
    for (const [key, b] of builders) {
        sids.set(key, b.finish());
    }
    return new MysqlGtidSet(sids);
}

function outOfRange(digits: string): string {
    return BigInt(digits) === 0n
        ? `sequence number 0 is not a transaction (they start at 1): write uuid:1-5, or "" for the empty set`
        : `sequence number ${digits} is outside 1…${MAX_GNO} (the range MySQL accepts)`;
}

/**
 * Parses MySQL GTID set text (`""` and whitespace-only are the empty set). Large sets in the servers' own
 * form go through the WebAssembly scanner (mysqlScan.ts), everything else through the parser above.
 * @throws GtidParseError naming the offending element and its offset.
 */
export function parseMysql(text: string): MysqlGtidSet {
    if (text.length < 64 && DM_ZERO.test(text)) {
        return new MysqlGtidSet(new Map());
    }
    const scanned = scanMysql(text);
    return scanned === undefined ? parseMysqlText(text) : new MysqlGtidSet(scanned);
}

/** The parser above alone, never the scanner: the reference the scanner is tested against. */
export function parseMysqlExact(text: string): MysqlGtidSet {
    return parseMysqlText(text);
}

/** Canonical text: sources sorted (untagged before tagged, tags sorted), lowercase, intervals merged, "," between UUIDs. */
export function formatMysql(set: MysqlGtidSet): string {
    const keys = [...set.sids.keys()].sort();
    let out = "";
    let prev = "";
    for (const key of keys) {
        const uuid = key.slice(0, UUID_LENGTH);
        if (uuid !== prev) {
            out += out === "" ? uuid : `,${uuid}`;
            prev = uuid;
        }
        if (key.length > UUID_LENGTH) {
            out += key.slice(UUID_LENGTH);
        }
        out += formatRuns(set.sids.get(key)!);
    }
    return out;
}

/** a ⊇ b: every transaction of b is in a (tagged and untagged members apart). */
export function containsMysql(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
    for (const [key, rb] of b.sids) {
        const ra = a.sids.get(key);
        if (ra === undefined || !runsContain(ra, rb)) {
            return false;
        }
    }
    return true;
}

/** a \ b: the transactions of a that b lacks. */
export function subtractMysql(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
    const sids = new Map<string, Runs>();
    for (const [key, ra] of a.sids) {
        const rb = b.sids.get(key);
        const rest = rb === undefined ? ra : runsSubtract(ra, rb);
        if (rest.length > 0) {
            sids.set(key, rest);
        }
    }
    return new MysqlGtidSet(sids);
}

/** a ∪ b. */
export function unionMysql(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
    const sids = new Map(a.sids);
    for (const [key, rb] of b.sids) {
        const ra = sids.get(key);
        sids.set(key, ra === undefined ? rb : runsUnion(ra, rb));
    }
    return new MysqlGtidSet(sids);
}

/** Whether a and b hold exactly the same transactions. */
export function equalsMysql(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
    if (a.sids.size !== b.sids.size) {
        return false;
    }
    for (const [key, ra] of a.sids) {
        const rb = b.sids.get(key);
        if (rb === undefined || !runsEqual(ra, rb)) {
            return false;
        }
    }
    return true;
}
