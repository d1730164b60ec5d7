/**
 * The rule of DM's switch procedure ("切换 DM-worker 与上游 MySQL 实例的连接"): DM may read from the
 * target only when gtid-S ⊇ gtid-P (the target still holds every binlog DM has not replicated yet) and
 * gtid-E ⊇ gtid-S (the target has executed everything DM has already replicated). Pure.
 */
import { Flavor, GtidParseError } from "./errors";
import { domainPosition, formatMariadb, MariadbGtidSet, mariadbEntries, serverRegressions } from "./mariadb";
import { scanSwitchRule } from "./mysqlScan";
import { contains, formatGtidSet, GtidSet, parseGtidSet, subtract, union } from "./sets";

/** The rule's answer, with what is missing in canonical text and sentences a person can act on. */
export interface SwitchVerdict {
    /** Both relations hold: gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S. Equals both strings below being "". */
    ok: boolean;
    /**
     * What the target has purged and DM has not replicated (gtid-P \ gtid-S), canonical, "" when nothing.
     * MariaDB: also gtid-P entries ahead of gtid-S from the same server (see `serverRegressions`).
     */
    purgedNotInSyncer: string;
    /**
     * What DM has replicated and the target lacks (gtid-S \ gtid-E), canonical, "" when nothing.
     * MariaDB: also gtid-S entries the target holds only at a lower seq from the same server.
     */
    syncerNotInExecuted: string;
    /** One sentence per failed relation: what is missing and what to do. Empty when ok. */
    reasons: string[];
}

/** The three inputs of the rule, as the server and DM print them. */
export interface SwitchInputs {
    /** The source's flavor; every set is parsed as it. */
    flavor: Flavor;
    /** gtid-S: DM's `syncerBinlogGtid` (query-status) or the checkpoint's `binlog_gtid`. */
    syncer: string;
    /** gtid-P: the target's `@@gtid_purged` (MariaDB: the `Gtid_list` of its oldest binary log). "" when nothing is purged. */
    purged: string;
    /** gtid-E: the target's `@@gtid_executed` (MariaDB: `@@gtid_binlog_state`). */
    executed: string;
}

const LABELS = { syncer: "syncer (gtid-S)", purged: "purged (gtid-P)", executed: "executed (gtid-E)" } as const;
/** How much of a missing set a reason quotes before cutting it. */
const QUOTE_MAX = 200;
/** How many domains a MariaDB reason names before summing up the rest. */
const DOMAINS_MAX = 3;

/**
 * Applies the rule to text: gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S. Strings in, canonical strings out.
 * @throws GtidParseError whose `argument` is `syncer`, `purged` or `executed` and whose message starts
 *   with it (e.g. `executed (gtid-E): element 2 "…" at offset 40 of the mysql GTID set: …`).
 * @throws TypeError when `flavor` is neither "mysql" nor "mariadb".
 */
export function checkSwitch(a: SwitchInputs): SwitchVerdict {
    if (a.flavor !== "mysql" && a.flavor !== "mariadb") {
        throw new TypeError(`flavor must be "mysql" or "mariadb", got ${JSON.stringify(a.flavor)}`);
    }
    // Large MySQL sets in the servers' form: both relations checked where the scanner read them. Only a
    // verdict of "ok" is taken from there; anything else is answered below, from parsed sets, naming what
    // is missing (or what does not parse).
    if (a.flavor === "mysql" && scanSwitchRule(a.syncer, a.purged, a.executed) === true) {
        return { ok: true, purgedNotInSyncer: "", syncerNotInExecuted: "", reasons: [] };
    }
    const parse = (argument: keyof typeof LABELS): GtidSet => {
        try {
            return parseGtidSet(a.flavor, a[argument]);
        } catch (e) {
            throw e instanceof GtidParseError ? e.forArgument(argument, LABELS[argument]) : e;
        }
    };
    return checkSets({ syncer: parse("syncer"), purged: parse("purged"), executed: parse("executed") });
}

/** {@link checkSwitch} for sets already parsed (all of one flavor). */
export function checkSets(s: { syncer: GtidSet; purged: GtidSet; executed: GtidSet }): SwitchVerdict {
    if (
        s.syncer instanceof MariadbGtidSet &&
        s.purged instanceof MariadbGtidSet &&
        s.executed instanceof MariadbGtidSet
    ) {
        return checkMariadb(s.syncer, s.purged, s.executed);
    }
    // Containment first: it allocates nothing, and a subtraction is only needed to name what is missing.
    const missing = (a: GtidSet, b: GtidSet) => (contains(b, a) ? "" : formatGtidSet(subtract(a, b)));
    const purgedNotInSyncer = missing(s.purged, s.syncer);
    const syncerNotInExecuted = missing(s.syncer, s.executed);
    const reasons: string[] = [];
    if (purgedNotInSyncer !== "") {
        reasons.push(
            `the target has purged ${quote(purgedNotInSyncer)} that DM has not replicated yet (gtid-S ⊉ gtid-P): ` +
                `the binlogs DM still needs are gone from the target; choose another target or re-migrate the source (full dump and load)${tagNote(purgedNotInSyncer)}.`,
        );
    }
    if (syncerNotInExecuted !== "") {
        reasons.push(
            `the target lacks ${quote(syncerNotInExecuted)} that DM has already replicated (gtid-E ⊉ gtid-S): ` +
                `wait for the target to catch up, or choose another target${tagNote(syncerNotInExecuted)}.`,
        );
    }
    return { ok: reasons.length === 0, purgedNotInSyncer, syncerNotInExecuted, reasons };
}

function checkMariadb(syncer: MariadbGtidSet, purged: MariadbGtidSet, executed: MariadbGtidSet): SwitchVerdict {
    const purgedLag = subtract(purged, syncer) as MariadbGtidSet;
    const purgedAhead = serverRegressions(syncer, purged);
    const executedLag = subtract(syncer, executed) as MariadbGtidSet;
    const executedBehind = serverRegressions(executed, syncer);
    const reasons: string[] = [];
    if (purgedLag.domains.size > 0) {
        const where = domainList(
            purgedLag,
            (d) =>
                `in domain ${d} its oldest binlog starts after ${top(purged, d)} while DM is only at ${top(syncer, d)}`,
        );
        reasons.push(
            `the target has purged binlogs DM still needs (gtid-S ⊉ gtid-P): ${where}; choose another target or re-migrate the source (full dump and load).`,
        );
    }
    const ahead = mariadbEntries(purgedAhead).filter((g) => !purgedLag.domains.has(g.domain));
    if (ahead.length > 0) {
        const g = ahead[0];
        const more =
            ahead.length > 1 ? ` (and ${ahead.length - 1} more such server${ahead.length > 2 ? "s" : ""})` : "";
        reasons.push(
            `the target's oldest binlog starts after ${g.domain}-${g.server}-${g.seq} from server ${g.server} in domain ${g.domain}, while DM has replicated only ` +
                `${g.domain}-${g.server}-${syncer.domains.get(g.domain)!.get(g.server)} from that server${more} (gtid-S ⊉ gtid-P): ` +
                "the transactions in between are purged; choose another target or re-migrate the source (full dump and load).",
        );
    }
    if (executedLag.domains.size > 0) {
        const where = domainList(executedLag, (d) => {
            const has =
                domainPosition(executed, d) > 0
                    ? `the target's binlog reaches only ${top(executed, d)}`
                    : "the target has no transaction of that domain";
            return `in domain ${d} DM is at ${top(syncer, d)} while ${has}`;
        });
        reasons.push(
            `the target lacks transactions DM has already replicated (gtid-E ⊉ gtid-S): ${where}; wait for the target to catch up, or choose another target.`,
        );
    }
    const behind = mariadbEntries(executedBehind).filter((g) => !executedLag.domains.has(g.domain));
    if (behind.length > 0) {
        const g = behind[0];
        const more =
            behind.length > 1 ? ` (and ${behind.length - 1} more such server${behind.length > 2 ? "s" : ""})` : "";
        reasons.push(
            `the target's binlog has ${g.domain}-${g.server}-${executed.domains.get(g.domain)!.get(g.server)} as its last transaction from server ${g.server} ` +
                `in domain ${g.domain}, behind ${g.domain}-${g.server}-${g.seq} that DM has already replicated from that server${more} (gtid-E ⊉ gtid-S): ` +
                "the target diverged or skipped transactions, and MariaDB would refuse DM's position (error 1236); choose another target.",
        );
    }
    return {
        ok: reasons.length === 0,
        purgedNotInSyncer: formatMariadb(union(purgedLag, purgedAhead) as MariadbGtidSet),
        syncerNotInExecuted: formatMariadb(union(executedLag, executedBehind) as MariadbGtidSet),
        reasons,
    };
}

/** The entry holding a domain's position (its highest seq), as text; "nothing" when the domain is absent. */
function top(set: MariadbGtidSet, domain: number): string {
    const servers = set.domains.get(domain);
    if (servers === undefined) {
        return "nothing of that domain";
    }
    const seq = domainPosition(set, domain);
    const server = Math.min(...[...servers].filter(([, s]) => s === seq).map(([id]) => id));
    return `${domain}-${server}-${seq}`;
}

/** "in domain 0 …, in domain 1 … and 4 more domains" for the domains of `set`, sorted. */
function domainList(set: MariadbGtidSet, describe: (domain: number) => string): string {
    const domains = [...set.domains.keys()].sort((x, y) => x - y);
    const named = domains.slice(0, DOMAINS_MAX).map(describe).join(", ");
    const rest = domains.length - DOMAINS_MAX;
    return rest > 0 ? `${named}, and ${rest} more domain${rest > 1 ? "s" : ""}` : named;
}

/** A canonical set, cut at an element or interval boundary when long. */
function quote(text: string): string {
    if (text.length <= QUOTE_MAX) {
        return text;
    }
    const cut = Math.max(text.lastIndexOf(",", QUOTE_MAX), text.lastIndexOf(":", QUOTE_MAX));
    const elements = text.split(",").length;
    return `${text.slice(0, cut)}… (${elements} UUID${elements > 1 ? "s" : ""}, ${text.length} characters in all)`;
}

/** A note when a missing MySQL set holds tagged GTIDs (`uuid:tag:…`), which DM cannot parse at all. */
function tagNote(text: string): string {
    return /:[a-z_]/.test(text) ? ", and note that DM cannot parse tagged GTIDs at all (tiflow#12629)" : "";
}
