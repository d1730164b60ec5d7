/**
 * `dm-switch gtid check`: DM's switch rule on GTID sets given as text, with no connection to anything —
 * for a person comparing what `query-status` and the target print, and for scripts (`--json`).
 *
 *   dm-switch gtid check --flavor mysql|mariadb --syncer <gtid-S> --purged <gtid-P> --executed <gtid-E> [--json]
 *
 * Exit 0 when gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S, 3 when either fails, 2 on bad input (the message on
 * stderr starts with the flag at fault, e.g. `--executed: element 2 "…" at offset 40 …`).
 */
import { checkSets, Flavor, formatGtidSet, GtidParseError, GtidSet, parseGtidSet } from "../gtid";
import { FlagSpec, helpText, parseFlags, UsageError } from "./args";
import type { CommandIo } from "./main";

const COMMAND = "dm-switch gtid check";
const SUMMARY =
    "Checks DM's switch rule: gtid-S ⊇ gtid-P (the target still holds every binlog DM needs) and gtid-E ⊇ gtid-S\n" +
    "(the target has executed everything DM has replicated). Exit 0: allowed, 3: not allowed, 2: bad input.";

const FLAGS = {
    flavor: {
        type: "string",
        required: true,
        choices: ["mysql", "mariadb"],
        placeholder: "mysql|mariadb",
        description: "the source's flavor",
    },
    syncer: {
        type: "string",
        required: true,
        placeholder: "<gtid-S>",
        description: "DM's syncerBinlogGtid (dmctl query-status), or the checkpoint's binlog_gtid",
    },
    purged: {
        type: "string",
        required: true,
        placeholder: "<gtid-P>",
        description: `the target's @@gtid_purged (MariaDB: the Gtid_list of its oldest binary log); --purged "" when nothing is purged`,
    },
    executed: {
        type: "string",
        required: true,
        placeholder: "<gtid-E>",
        description: "the target's @@gtid_executed (MariaDB: @@gtid_binlog_state)",
    },
    json: {
        type: "boolean",
        description: "print one JSON object: ok, flavor, the three sets and what is missing, all canonical",
    },
} as const satisfies Record<string, FlagSpec>;

/** What `--json` prints: the verdict and every set in canonical form ("" for empty). */
export interface GtidCheckJson {
    /** Both relations hold. */
    ok: boolean;
    /** The flavor the sets were parsed as. */
    flavor: Flavor;
    /** gtid-S, canonical. */
    syncer: string;
    /** gtid-P, canonical. */
    purged: string;
    /** gtid-E, canonical. */
    executed: string;
    /** gtid-P \ gtid-S: purged on the target, not yet replicated by DM. */
    purgedNotInSyncer: string;
    /** gtid-S \ gtid-E: replicated by DM, missing on the target. */
    syncerNotInExecuted: string;
}

/** Parses one set flag; a malformed set becomes a UsageError starting with the flag (`--executed: …`). */
function parseSetFlag(flag: string, flavor: Flavor, text: string): GtidSet {
    try {
        return parseGtidSet(flavor, text);
    } catch (e) {
        throw e instanceof GtidParseError ? new UsageError(`--${flag}: ${e.detail}`) : e;
    }
}

/** Runs `dm-switch gtid check` with the words after the command name; resolves to the exit code. */
export async function gtidCheckCommand(argv: string[], io: CommandIo): Promise<number> {
    let sets: { syncer: GtidSet; purged: GtidSet; executed: GtidSet };
    let json: boolean;
    let flavor: Flavor;
    try {
        const parsed = parseFlags(argv, FLAGS);
        if (parsed.help) {
            io.out(helpText(COMMAND, SUMMARY, FLAGS));
            return 0;
        }
        const v = parsed.values;
        flavor = v.flavor as Flavor;
        json = v.json;
        sets = {
            syncer: parseSetFlag("syncer", flavor, v.syncer),
            purged: parseSetFlag("purged", flavor, v.purged),
            executed: parseSetFlag("executed", flavor, v.executed),
        };
    } catch (e) {
        if (e instanceof UsageError) {
            const hint = /^--(syncer|purged|executed): element /.test(e.message)
                ? ""
                : `(${COMMAND} --help lists the flags)\n`;
            io.err(`${COMMAND}: ${e.message}\n${hint}`);
            return 2;
        }
        throw e;
    }
    const verdict = checkSets(sets);
    if (json) {
        const out: GtidCheckJson = {
            ok: verdict.ok,
            flavor,
            syncer: formatGtidSet(sets.syncer),
            purged: formatGtidSet(sets.purged),
            executed: formatGtidSet(sets.executed),
            purgedNotInSyncer: verdict.purgedNotInSyncer,
            syncerNotInExecuted: verdict.syncerNotInExecuted,
        };
        io.out(`${JSON.stringify(out, null, 2)}\n`);
    } else if (verdict.ok) {
        io.out(
            "switch allowed: gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S — the target has executed everything DM has replicated and still holds every binlog DM needs.\n",
        );
    } else {
        io.out(`switch NOT allowed:\n${verdict.reasons.map((r) => `- ${r[0].toUpperCase()}${r.slice(1)}\n`).join("")}`);
    }
    return verdict.ok ? 0 : 3;
}
