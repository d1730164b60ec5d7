/**
 * The little MariaDB GTID arithmetic the probe needs to decide "has this server caught up": parse
 * `domain-server-seq` lists and compare them per domain. Pure.
 *
 * Kept here rather than in components/gtid because that module (the full MySQL/MariaDB set algebra)
 * was being written at the same time; when it offers MariaDB positions, these three functions can
 * delegate to it.
 */

/** One MariaDB GTID: `domain-server-seq`. Sequence numbers are 64-bit, hence bigint. */
export interface MariadbGtid {
    domain: number;
    server: number;
    seq: bigint;
}

/**
 * Parses a MariaDB GTID list (`@@gtid_binlog_state`, `@@gtid_slave_pos`, a `Gtid_list` event's
 * `[0-1-5,1-2-3]`): comma-separated `domain-server-seq`, whitespace and surrounding brackets ignored,
 * `""` is empty. Throws a TypeError naming the bad element.
 */
export function parseMariadbGtids(text: string): MariadbGtid[] {
    const body = text.replace(/\s+/g, "").replace(/^\[(.*)\]$/, "$1");
    if (body === "") return [];
    return body.split(",").map((part) => {
        const m = /^(\d+)-(\d+)-(\d+)$/.exec(part);
        if (!m) {
            throw new TypeError(
                `"${part}" in MariaDB GTID list "${text}" is not domain-server-seq (for example 0-1-42).`,
            );
        }
        return { domain: Number(m[1]), server: Number(m[2]), seq: BigInt(m[3]) };
    });
}

/**
 * The position a list stands for: per domain, the GTID with the highest sequence number (MariaDB
 * numbers each domain's transactions in one increasing sequence whatever server wrote them, which
 * `gtid_strict_mode` enforces). Sorted by domain.
 */
export function mariadbPosition(gtids: MariadbGtid[]): MariadbGtid[] {
    const best = new Map<number, MariadbGtid>();
    for (const g of gtids) {
        const cur = best.get(g.domain);
        if (!cur || g.seq > cur.seq) best.set(g.domain, g);
    }
    return [...best.values()].sort((a, b) => a.domain - b.domain);
}

/** Formats GTIDs as MariaDB writes them: `0-1-5,1-2-3`. */
export function formatMariadbGtids(gtids: MariadbGtid[]): string {
    return gtids.map((g) => `${g.domain}-${g.server}-${g.seq}`).join(",");
}

/**
 * The domains where `have` has not reached `want` (empty when it has): a domain is reached when
 * `have` holds a sequence number ≥ `want`'s highest in that domain — the comparison MariaDB's own
 * `MASTER_GTID_WAIT` makes.
 */
export function mariadbMissing(have: MariadbGtid[], want: MariadbGtid[]): MariadbGtid[] {
    const reached = new Map(mariadbPosition(have).map((g) => [g.domain, g.seq]));
    return mariadbPosition(want).filter((g) => (reached.get(g.domain) ?? -1n) < g.seq);
}
