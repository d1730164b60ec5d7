/**
 * What a DM build can do with MySQL 8.4+ tagged GTIDs (`uuid:tag:n`), decided from the version DM reports
 * (dm-master's `GET /status`: "Release Version: …", "Git Commit Hash: …"; ./version.ts reads it). Pure.
 *
 * Seen live (tests/integration/mysqlTagged.test.ts, MySQL 9.7.4):
 * - DM at tiflow `2409e0b` (v9.0.0-beta.2.pre-38) DROPS a tagged transaction silently: the worker logs
 *   `unhandled event *replication.GtidTaggedLogEvent`, the task stays Running, the row never reaches the
 *   downstream, and query-status loses `masterBinlogGtid` (`ParseInt: parsing "tag"`). A task whose meta
 *   holds a tagged GTID fails to start.
 * - DM at tiflow `1d4a644` (v9.0.0-alpha) cannot read MySQL ≥ 8.4 at all, and fails on a tagged GTID with
 *   `strconv.ParseInt: parsing "<tag>"`.
 * No DM build is known to apply tagged transactions (go-mysql parses no tags: tiflow#12629). When one
 * does, set {@link FIRST_DM_APPLYING_TAGGED_GTIDS} to its release and the refusal lifts for it and later.
 */

/** What dm-master says it is. */
export interface DmVersion {
    /** "v9.0.0-beta.2.pre-38-g2409e0bd7e". */
    release: string;
    /** The full tiflow commit, "2409e0bd7ee2…"; "" when DM does not say. */
    gitHash: string;
}

/**
 * The first DM release known to apply tagged GTIDs, compared by major.minor.patch and pre-release.
 * @default undefined (none known: every DM is refused when tags are present)
 */
export const FIRST_DM_APPLYING_TAGGED_GTIDS: string | undefined = undefined;

/** What the builds seen live do with a tagged transaction, by commit prefix. */
const SEEN: { commit: string; does: string }[] = [
    {
        commit: "2409e0b",
        does: "drops those transactions silently (the task stays Running, the rows never reach the downstream)",
    },
    {
        commit: "1d4a644",
        does: 'cannot read MySQL ≥ 8.4 and fails on a tagged GTID (strconv.ParseInt: parsing "<tag>")',
    },
];

/** Parses dm-master's `/status` text; throws naming what is missing. */
export function parseDmStatus(text: string): DmVersion {
    const release = /^Release Version:\s*(\S+)/m.exec(text)?.[1];
    if (!release) {
        throw new Error(
            `dm-master's /status did not say its "Release Version" (got ${JSON.stringify(text.slice(0, 80))}).`,
        );
    }
    const hash = /^Git Commit Hash:\s*([0-9a-f]{7,40})\s*$/im.exec(text)?.[1] ?? "";
    return { release, gitHash: hash.toLowerCase() };
}

/** `[major, minor, patch, isRelease]` of "v9.0.0-beta.2…"; a pre-release sorts before its release. */
function versionKey(release: string): [number, number, number, number] | undefined {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(-\S+)?$/.exec(release);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ? 0 : 1] : undefined;
}

/** True when this DM is known to apply tagged GTIDs (see {@link FIRST_DM_APPLYING_TAGGED_GTIDS}). */
export function dmAppliesTaggedGtids(
    v: DmVersion,
    first: string | undefined = FIRST_DM_APPLYING_TAGGED_GTIDS,
): boolean {
    const a = versionKey(v.release);
    const b = first === undefined ? undefined : versionKey(first);
    if (!a || !b) {
        return false;
    }
    for (let i = 0; i < 4; i++) {
        if (a[i] !== b[i]) return a[i] > b[i];
    }
    return true;
}

/** The distinct tags (lowercase, sorted) of a MySQL GTID set's text: `uuid:tag:1-3` → "tag". */
export function gtidTags(gtidSet: string): string[] {
    const tags = new Set<string>();
    for (const m of gtidSet.matchAll(/:([a-z_][a-z0-9_]{0,31})(?=:)/gi)) {
        tags.add(m[1].toLowerCase());
    }
    return [...tags].sort();
}

/** A GTID set read from one server, named as the message should name it. */
export interface NamedGtidSet {
    /** "the source's upstream (127.0.0.1:13306)", "target replica (127.0.0.1:13308)". */
    side: string;
    /** MySQL `gtid_executed` text. */
    gtidSet: string;
}

/**
 * Why a switch must be refused because of tagged GTIDs, one sentence per server holding tags; `[]` when no
 * set holds a tag or this DM applies them. The pure decision the preflight and the providers call with
 * the DM version (./version.ts readDmVersion) and the upstream's and the target's gtid_executed.
 */
export function taggedGtidRefusals(
    dm: DmVersion,
    sets: NamedGtidSet[],
    first: string | undefined = FIRST_DM_APPLYING_TAGGED_GTIDS,
): string[] {
    if (dmAppliesTaggedGtids(dm, first)) {
        return [];
    }
    const build = `DM ${dm.release}${dm.gitHash ? ` (${dm.gitHash.slice(0, 7)})` : ""}`;
    const seen = SEEN.find(
        (s) => dm.gitHash.startsWith(s.commit) || dm.release.includes(`g${s.commit}`) || dm.release.endsWith(s.commit),
    );
    const does = seen
        ? seen.does
        : "is not known to apply them (no DM build is; DM 2409e0b, the newest seen, drops them silently)";
    const out: string[] = [];
    for (const s of sets) {
        const tags = gtidTags(s.gtidSet);
        if (tags.length > 0) {
            out.push(
                `${s.side} holds tagged GTIDs (tag${tags.length > 1 ? "s" : ""} ${tags.map((t) => `"${t}"`).join(", ")}), and ${build} ${does}: ` +
                    "stop writing tagged transactions (SET GTID_NEXT='AUTOMATIC:<tag>') on the replication set, or use a DM that applies them.",
            );
        }
    }
    return out;
}
