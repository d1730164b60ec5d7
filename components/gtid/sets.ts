/**
 * The flavor-independent GTID set operations: each checks that both sets have one flavor and
 * dispatches to `mysql.ts` or `mariadb.ts`. Pure.
 */
import { Flavor } from "./errors";
import {
    containsMariadb,
    equalsMariadb,
    formatMariadb,
    MariadbGtidSet,
    parseMariadb,
    subtractMariadb,
    unionMariadb,
} from "./mariadb";
import { containsMysql, equalsMysql, formatMysql, MysqlGtidSet, parseMysql, subtractMysql, unionMysql } from "./mysql";
import { Seq } from "./runs";

/**
 * A parsed GTID set of one flavor. Opaque: build it with {@link parseGtidSet}, read it with
 * {@link formatGtidSet}. Immutable; operations return new sets.
 */
export interface GtidSet {
    /** The flavor the set was parsed as; sets of different flavors never mix. */
    readonly flavor: Flavor;
}

const FLAVORS: readonly Flavor[] = ["mysql", "mariadb"];

function assertFlavor(flavor: Flavor): void {
    if (!FLAVORS.includes(flavor)) {
        throw new TypeError(`flavor must be "mysql" or "mariadb", got ${JSON.stringify(flavor)}`);
    }
}

/**
 * Parses GTID text as `flavor`: a MySQL set (`uuid:1-5:7,uuid2:tag:1-3`) or a MariaDB position/state
 * (`0-1-42,1-2-7`). `""` is the empty set. Whitespace and newlines between elements are fine.
 * @throws GtidParseError naming the offending element, its number and offset, and the remedy.
 */
export function parseGtidSet(flavor: Flavor, text: string): GtidSet {
    assertFlavor(flavor);
    if (typeof text !== "string") {
        throw new TypeError(`GTID text must be a string, got ${typeof text}`);
    }
    return flavor === "mysql" ? parseMysql(text) : parseMariadb(text);
}

/** `mysql(a, b)` or `mariadb(a, b)`, after checking that both sets have that flavor. */
function onPair<R>(
    a: GtidSet,
    b: GtidSet,
    mysql: (x: MysqlGtidSet, y: MysqlGtidSet) => R,
    mariadb: (x: MariadbGtidSet, y: MariadbGtidSet) => R,
): R {
    if (a instanceof MysqlGtidSet && b instanceof MysqlGtidSet) {
        return mysql(a, b);
    }
    if (a instanceof MariadbGtidSet && b instanceof MariadbGtidSet) {
        return mariadb(a, b);
    }
    throw new TypeError(
        `cannot combine a ${a?.flavor ?? typeof a} GTID set with a ${b?.flavor ?? typeof b} one: parse every set with the source's flavor (parseGtidSet)`,
    );
}

function one(set: GtidSet): MysqlGtidSet | MariadbGtidSet {
    if (set instanceof MysqlGtidSet || set instanceof MariadbGtidSet) {
        return set;
    }
    throw new TypeError(`not a parsed GTID set (got ${typeof set}): build it with parseGtidSet`);
}

/**
 * Canonical text: MySQL sources sorted by UUID (untagged, then tags in order), lowercase, intervals merged,
 * "," between UUIDs (no newline); MariaDB entries sorted by domain then server. `""` when empty.
 */
export function formatGtidSet(set: GtidSet): string {
    const s = one(set);
    return s instanceof MysqlGtidSet ? formatMysql(s) : formatMariadb(s);
}

/** Whether a and b are the same set (MariaDB: the same entries; see `contains` for positions). */
export function equals(a: GtidSet, b: GtidSet): boolean {
    return onPair(a, b, equalsMysql, equalsMariadb);
}

/**
 * a ⊇ b. MySQL: every transaction of b is in a (tagged and untagged transactions are different members).
 * MariaDB: per domain, a reaches at least b's highest sequence number (see `mariadb.ts` for why).
 * @throws TypeError when the flavors differ.
 */
export function contains(a: GtidSet, b: GtidSet): boolean {
    return onPair(a, b, containsMysql, containsMariadb);
}

/**
 * a \ b: what a has and b lacks — empty exactly when `contains(b, a)`. For MariaDB, the entries of a
 * beyond b's position in their domain.
 */
export function subtract(a: GtidSet, b: GtidSet): GtidSet {
    return onPair<GtidSet>(a, b, subtractMysql, subtractMariadb);
}

/** a ∪ b: contains both. For MariaDB, every (domain, server) of either with the higher sequence number. */
export function union(a: GtidSet, b: GtidSet): GtidSet {
    return onPair<GtidSet>(a, b, unionMysql, unionMariadb);
}

/** Whether the set holds no transaction. */
export function isEmpty(set: GtidSet): boolean {
    const s = one(set);
    return s instanceof MysqlGtidSet ? s.sids.size === 0 : s.domains.size === 0;
}

/**
 * The transactions of `set` that originated at one server: MySQL, those of its `server_uuid` (every tag of
 * it included); MariaDB, the entries of its `server_id`. What a server's own clients wrote, as against what
 * it replicated.
 * @throws TypeError when `server` is not a UUID (MySQL) or a server_id (MariaDB).
 */
export function fromServer(set: GtidSet, server: string): GtidSet {
    const s = one(set);
    if (s instanceof MysqlGtidSet) {
        const uuid = server.toLowerCase();
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) {
            throw new TypeError(`a MySQL server is named by its server_uuid, got ${JSON.stringify(server)}`);
        }
        return new MysqlGtidSet(new Map([...s.sids].filter(([sid]) => sid === uuid || sid.startsWith(`${uuid}:`))));
    }
    if (!/^\d+$/.test(server)) {
        throw new TypeError(`a MariaDB server is named by its server_id, got ${JSON.stringify(server)}`);
    }
    const id = Number(server);
    const domains = new Map<number, ReadonlyMap<number, Seq>>();
    for (const [domain, servers] of s.domains) {
        const seq = servers.get(id);
        if (seq !== undefined) {
            domains.set(domain, new Map([[id, seq]]));
        }
    }
    return new MariadbGtidSet(domains);
}
