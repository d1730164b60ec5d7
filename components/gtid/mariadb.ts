/**
 * MariaDB GTID positions and states: `domain-server-seq[,…]` (e.g. `0-1-42,0-2-50,1-2-7`). Pure.
 *
 * A set keeps every (domain, server) pair with its highest sequence number, losslessly, so that a
 * `gtid_binlog_state` (one entry per domain and server) and a `Gtid_list` round-trip through
 * {@link formatMariadb}. Which transactions such a text stands for is a choice; this module makes it
 * **per domain**:
 *
 *   `d-s-n` stands for every transaction of domain d up to sequence number n, whatever server wrote
 *   them; a set covers, in each domain, everything up to its highest sequence number there.
 *   a ⊇ b ⇔ for every domain of b, a has that domain with a highest seq ≥ b's highest seq.
 *
 * Why per domain, not per (domain, server) as DM's go-mysql v1.10–v1.14 does (`Sets[domain][server]`,
 * tiflow#10741, go-mysql#852):
 * - it is MariaDB's own model: a replication position is one GTID per domain (`gtid_slave_pos`,
 *   `MASTER_GTID_POS`), and when a server looks for where to serve a position from, it does not compare
 *   sequence numbers of other servers in the domain (`contains_all_slave_gtid`, sql/sql_repl.cc). With
 *   `gtid_strict_mode` (which dm-switch expects on every instance of the replication set) sequence numbers
 *   of a domain only grow, across failovers: a target whose state is `0-2-50` after a failover from
 *   server 1 has executed `0-1-42`. go-mysql itself moved to one position per domain in v1.15 (#1123).
 * - per (domain, server) refuses safe switches forever after any old failover: the `Gtid_list` of a
 *   binary log (gtid-P) keeps the last GTID of every server that ever wrote to a domain, and DM's gtid-S
 *   never names servers whose era predates the task, so gtid-S ⊇ gtid-P would never hold again.
 * What per domain cannot see — a target that holds a *lower* sequence number than gtid-S from the very
 * same server, i.e. it diverged or skipped transactions — {@link serverRegressions} finds, and
 * `checkSwitch` refuses it (MariaDB would answer DM with error 1236). That check is separate because it
 * is not transitive, while containment must be.
 * Caveat, outside what GTID text can tell: when a replica connects, MariaDB looks for the exact (domain,
 * server) of each position GTID in its binlog state (`check_slave_start_position`). A target promoted
 * with `log_slave_updates=OFF` has no server-1 entry, and serves `0-1-42` only if that is exactly its own
 * `gtid_slave_pos`; per domain, `0-2-50` ⊇ `0-1-42` still holds. The probe gathering gtid-P/gtid-E should
 * require `log_slave_updates=ON` and `gtid_strict_mode=ON` on the target.
 *
 * Text rules (MariaDB's): numbers are decimal, domain and server ids < 2^32, sequence numbers < 2^64;
 * whitespace around elements is allowed; an empty element is an error. `d-s-0` (DM's "from scratch"
 * position, `IsZeroMariaDBGTIDSet`) stands for no transaction and is dropped; repeated (domain, server)
 * pairs keep the highest sequence number. Note `equals` compares entries exactly, so two states can
 * contain each other without being equal (`0-1-42,0-2-50` and `0-2-50`).
 */
import { GtidParseError } from "./errors";
import { Seq, seq as toSeq } from "./runs";

/** A parsed MariaDB GTID state: domain id → server id → highest sequence number (never 0). */
export class MariadbGtidSet {
    /** Always "mariadb". */
    readonly flavor = "mariadb" as const;
    /**
     * @param domains domain id → server id → highest sequence number (a number up to 2^53, a bigint above);
     *   no empty inner map, no 0.
     */
    constructor(readonly domains: ReadonlyMap<number, ReadonlyMap<number, Seq>>) {}
}

/** One `domain-server-seq` triple. */
export interface MariadbGtid {
    /** gtid_domain_id, < 2^32. */
    domain: number;
    /** server_id, < 2^32. */
    server: number;
    /** Sequence number, ≥ 1: a number up to 2^53, a bigint above. */
    seq: Seq;
}

const MAX_ID = 2 ** 32 - 1;
const MAX_SEQ = 2n ** 64n - 1n;
const TRIPLE = /^(\d+)-(\d+)-(\d+)$/;
const MYSQL_LIKE = /[0-9a-f]{8}-[0-9a-f]{4}|:/i;

function isSpace(c: number): boolean {
    return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Parses MariaDB GTID text (`""` and whitespace-only are the empty set).
 * @throws GtidParseError naming the offending element and its offset.
 */
export function parseMariadb(text: string): MariadbGtidSet {
    const domains = new Map<number, Map<number, Seq>>();
    const n = text.length;
    let i = 0;
    while (i < n && isSpace(text.charCodeAt(i))) {
        i++;
    }
    if (i === n) {
        return new MariadbGtidSet(domains);
    }
    // Fast path: `digits-digits-digits` elements read with charCodeAt; anything else goes to slowElement,
    // which names the problem.
    for (let index = 1, start = 0; ; index++) {
        while (i < n && isSpace(text.charCodeAt(i))) {
            i++;
        }
        const from = i;
        let domain = 0;
        let server = 0;
        let seq = 0;
        let c = 0;
        while (i < n && (c = text.charCodeAt(i) - 48) >= 0 && c <= 9) {
            domain = domain * 10 + c;
            i++;
        }
        const d1 = i;
        if (i < n && text.charCodeAt(i) === 45) {
            i++;
        }
        const s0 = i;
        while (i < n && (c = text.charCodeAt(i) - 48) >= 0 && c <= 9) {
            server = server * 10 + c;
            i++;
        }
        const s1 = i;
        if (i < n && text.charCodeAt(i) === 45) {
            i++;
        }
        const q0 = i;
        while (i < n && (c = text.charCodeAt(i) - 48) >= 0 && c <= 9) {
            seq = seq * 10 + c;
            i++;
        }
        const q1 = i;
        while (i < n && isSpace(text.charCodeAt(i))) {
            i++;
        }
        const plain =
            d1 > from &&
            d1 - from <= 10 &&
            s0 === d1 + 1 &&
            s1 > s0 &&
            s1 - s0 <= 10 &&
            q0 === s1 + 1 &&
            q1 > q0 &&
            q1 - q0 <= 15;
        if (!plain || domain > MAX_ID || server > MAX_ID || (i < n && text.charCodeAt(i) !== 44)) {
            const end = text.indexOf(",", start);
            const g = slowElement(text, start, end < 0 ? n : end, index);
            if (g.seq !== 0) {
                put(domains, g.domain, g.server, g.seq);
            }
            i = end < 0 ? n : end;
        } else if (seq !== 0) {
            put(domains, domain, server, seq);
        }
        if (i >= n) {
            break;
        }
        i++;
        start = i;
    }
    return new MariadbGtidSet(domains);
}

/** Parses one element the careful way (long numbers), or throws the error that names its problem. */
function slowElement(text: string, start: number, end: number, index: number): MariadbGtid {
    const raw = text.slice(start, end);
    const element = raw.trim();
    const position = start + (raw.length - raw.trimStart().length);
    const fail = (reason: string) => new GtidParseError({ flavor: "mariadb", element, index, position, reason });
    const m = TRIPLE.exec(element);
    if (m === null) {
        if (element === "") {
            throw fail(`empty element (two commas in a row, or a comma at an end): remove the extra ","`);
        }
        throw fail(
            MYSQL_LIKE.test(element)
                ? "this is a MySQL GTID set (uuid:interval), not a MariaDB one: give the source's flavor as mysql"
                : "expected domain-server-seq, three decimal numbers joined by '-' (e.g. 0-1-42)",
        );
    }
    const domain = Number(m[1]);
    const server = Number(m[2]);
    if (domain > MAX_ID) {
        throw fail(`domain id ${m[1]} is larger than ${MAX_ID}`);
    }
    if (server > MAX_ID) {
        throw fail(`server id ${m[2]} is larger than ${MAX_ID}`);
    }
    const seq = BigInt(m[3]);
    if (seq > MAX_SEQ) {
        throw fail(`sequence number ${m[3]} is larger than ${MAX_SEQ}`);
    }
    return { domain, server, seq: toSeq(seq) };
}

/** Records (domain, server, seq), keeping the highest seq of a pair. */
function put(domains: Map<number, Map<number, Seq>>, domain: number, server: number, seq: Seq): void {
    let servers = domains.get(domain);
    if (servers === undefined) {
        servers = new Map();
        domains.set(domain, servers);
    }
    const had = servers.get(server);
    if (had === undefined || had < seq) {
        servers.set(server, seq);
    }
}

/** The entries, sorted by domain then server id. */
export function mariadbEntries(set: MariadbGtidSet): MariadbGtid[] {
    const out: MariadbGtid[] = [];
    for (const domain of [...set.domains.keys()].sort((x, y) => x - y)) {
        const servers = set.domains.get(domain)!;
        for (const server of [...servers.keys()].sort((x, y) => x - y)) {
            out.push({ domain, server, seq: servers.get(server)! });
        }
    }
    return out;
}

/** Canonical text: `domain-server-seq` sorted by domain then server id, joined by ",". */
export function formatMariadb(set: MariadbGtidSet): string {
    return mariadbEntries(set)
        .map((g) => `${g.domain}-${g.server}-${g.seq}`)
        .join(",");
}

/** The highest sequence number of a domain, or 0 when the set has no transaction in it. */
export function domainPosition(set: MariadbGtidSet, domain: number): Seq {
    let max: Seq = 0;
    for (const seq of set.domains.get(domain)?.values() ?? []) {
        if (seq > max) {
            max = seq;
        }
    }
    return max;
}

/** a ⊇ b per domain: in every domain of b, a reaches at least b's highest sequence number. */
export function containsMariadb(a: MariadbGtidSet, b: MariadbGtidSet): boolean {
    for (const domain of b.domains.keys()) {
        if (domainPosition(a, domain) < domainPosition(b, domain)) {
            return false;
        }
    }
    return true;
}

/** a \ b per domain: the entries of a beyond b's highest sequence number in their domain. */
export function subtractMariadb(a: MariadbGtidSet, b: MariadbGtidSet): MariadbGtidSet {
    const domains = new Map<number, Map<number, Seq>>();
    for (const [domain, servers] of a.domains) {
        const reached = domainPosition(b, domain);
        for (const [server, seq] of servers) {
            if (seq > reached) {
                put(domains, domain, server, seq);
            }
        }
    }
    return new MariadbGtidSet(domains);
}

/** a ∪ b: every (domain, server) of either, with the higher sequence number. */
export function unionMariadb(a: MariadbGtidSet, b: MariadbGtidSet): MariadbGtidSet {
    const domains = new Map<number, Map<number, Seq>>();
    for (const set of [a, b]) {
        for (const [domain, servers] of set.domains) {
            for (const [server, seq] of servers) {
                put(domains, domain, server, seq);
            }
        }
    }
    return new MariadbGtidSet(domains);
}

/** Whether a and b hold exactly the same (domain, server, seq) entries. */
export function equalsMariadb(a: MariadbGtidSet, b: MariadbGtidSet): boolean {
    return formatMariadb(a) === formatMariadb(b);
}

/**
 * The entries of b for which a holds a *lower* sequence number from the same server in the same domain:
 * proof that a lacks them even where a's domain position is ahead (a diverged from b's history, or
 * skipped transactions). MariaDB refuses to serve such a position (error 1236, "the slave has probably
 * diverged"); the per-domain containment cannot see it.
 */
export function serverRegressions(a: MariadbGtidSet, b: MariadbGtidSet): MariadbGtidSet {
    const domains = new Map<number, Map<number, Seq>>();
    for (const [domain, servers] of b.domains) {
        const mine = a.domains.get(domain);
        for (const [server, seq] of servers) {
            const had = mine?.get(server);
            if (had !== undefined && had < seq) {
                put(domains, domain, server, seq);
            }
        }
    }
    return new MariadbGtidSet(domains);
}
