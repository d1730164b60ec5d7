import assert from "node:assert/strict";
import { test } from "node:test";
import { checkSets, checkSwitch, GtidParseError, parseGtidSet } from "../../components/gtid";

const A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const B = "4f22ab58-82db-22f2-af44-d91bb0530673";

test("allows a switch when gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S", () => {
    const v = checkSwitch({
        flavor: "mysql",
        syncer: `${A}:1-100,${B}:1-5`,
        purged: `${A}:1-50`,
        executed: `${A.toUpperCase()}:1-120,\n${B}:1-5`,
    });
    assert.deepEqual(v, { ok: true, purgedNotInSyncer: "", syncerNotInExecuted: "", reasons: [] });
});

test("allows a switch to a target that has purged nothing", () => {
    assert.equal(checkSwitch({ flavor: "mysql", syncer: `${A}:1-10`, purged: "", executed: `${A}:1-10` }).ok, true);
});

test("rejects a target missing replicated GTIDs, saying what is missing and what to do", () => {
    const v = checkSwitch({ flavor: "mysql", syncer: `${A}:1-57`, purged: "", executed: `${A}:1-50` });
    assert.deepEqual(v, {
        ok: false,
        purgedNotInSyncer: "",
        syncerNotInExecuted: `${A}:51-57`,
        reasons: [
            `the target lacks ${A}:51-57 that DM has already replicated (gtid-E ⊉ gtid-S): wait for the target to catch up, or choose another target.`,
        ],
    });
});

test("rejects a target that purged binlogs DM still needs", () => {
    const v = checkSwitch({ flavor: "mysql", syncer: `${A}:1-40`, purged: `${A}:1-45`, executed: `${A}:1-90` });
    assert.equal(v.purgedNotInSyncer, `${A}:41-45`);
    assert.deepEqual(v.reasons, [
        `the target has purged ${A}:41-45 that DM has not replicated yet (gtid-S ⊉ gtid-P): the binlogs DM still needs are gone from the target; ` +
            "choose another target or re-migrate the source (full dump and load).",
    ]);
});

test("reports both relations when both fail, and notes tagged GTIDs DM cannot parse", () => {
    const v = checkSwitch({
        flavor: "mysql",
        syncer: `${A}:1-40`,
        purged: `${A}:1-10:audit:1-3`,
        executed: `${A}:1-30`,
    });
    assert.equal(v.ok, false);
    assert.equal(v.purgedNotInSyncer, `${A}:audit:1-3`);
    assert.equal(v.syncerNotInExecuted, `${A}:31-40`);
    assert.equal(v.reasons.length, 2);
    assert.match(v.reasons[0], /, and note that DM cannot parse tagged GTIDs at all \(tiflow#12629\)\.$/);
});

test("a missing set of thousands of UUIDs is quoted short in the reason, in full in the verdict", () => {
    const uuids = Array.from({ length: 2000 }, (_, i) => `${A.slice(0, 24)}${i.toString(16).padStart(12, "0")}:1-9`);
    const v = checkSwitch({ flavor: "mysql", syncer: uuids.join(","), purged: "", executed: "" });
    assert.equal(v.syncerNotInExecuted.split(",").length, 2000);
    assert.ok(v.reasons[0].length < 500, v.reasons[0]);
    assert.match(v.reasons[0], /… \(2000 UUIDs, \d+ characters in all\) that DM has already replicated/);
});

test("names the malformed argument in the parse error", () => {
    for (const argument of ["syncer", "purged", "executed"] as const) {
        const args = {
            flavor: "mysql" as const,
            syncer: `${A}:1`,
            purged: "",
            executed: `${A}:1`,
            [argument]: `${A}:5-3`,
        };
        assert.throws(
            () => checkSwitch(args),
            (e: unknown) => {
                assert.ok(e instanceof GtidParseError);
                assert.equal(e.argument, argument);
                assert.equal(e.message, `${argument} (gtid-${argument[0].toUpperCase()}): ${e.detail}`);
                assert.equal(
                    e.detail,
                    `element 1 "${A}:5-3" at offset 0 of the mysql GTID set: interval 5-3 ends before it starts: write 3-5`,
                );
                return true;
            },
        );
    }
});

test("rejects an unknown flavor", () => {
    assert.throws(
        () => checkSwitch({ flavor: "oracle" as "mysql", syncer: "", purged: "", executed: "" }),
        /^TypeError: flavor must be "mysql" or "mariadb", got "oracle"$/,
    );
});

// MariaDB: containment per domain, plus the per-server divergence check of the rule.
test("mariadb: allows a target that took over the domain after a failover", () => {
    const v = checkSwitch({ flavor: "mariadb", syncer: "0-1-42", purged: "", executed: "0-2-50" });
    assert.deepEqual(v, { ok: true, purgedNotInSyncer: "", syncerNotInExecuted: "", reasons: [] });
});

test("mariadb: old servers in the oldest binlog's Gtid_list do not block the switch", () => {
    const v = checkSwitch({ flavor: "mariadb", syncer: "0-2-60", purged: "0-1-42,0-2-50", executed: "0-1-42,0-2-70" });
    assert.equal(v.ok, true);
});

test("mariadb: rejects a lagging target per domain", () => {
    const v = checkSwitch({ flavor: "mariadb", syncer: "0-1-42,1-2-7", purged: "", executed: "0-2-30" });
    assert.deepEqual(v, {
        ok: false,
        purgedNotInSyncer: "",
        syncerNotInExecuted: "0-1-42,1-2-7",
        reasons: [
            "the target lacks transactions DM has already replicated (gtid-E ⊉ gtid-S): in domain 0 DM is at 0-1-42 while the target's binlog reaches only 0-2-30, " +
                "in domain 1 DM is at 1-2-7 while the target has no transaction of that domain; wait for the target to catch up, or choose another target.",
        ],
    });
});

test("mariadb: rejects a target that purged what DM still needs", () => {
    const v = checkSwitch({ flavor: "mariadb", syncer: "0-1-42", purged: "0-1-40,0-2-50", executed: "0-1-42,0-2-90" });
    assert.equal(v.purgedNotInSyncer, "0-2-50");
    assert.deepEqual(v.reasons, [
        "the target has purged binlogs DM still needs (gtid-S ⊉ gtid-P): in domain 0 its oldest binlog starts after 0-2-50 while DM is only at 0-1-42; " +
            "choose another target or re-migrate the source (full dump and load).",
    ]);
});

test("mariadb: rejects a target that diverged from the server DM read, though its domain position is ahead", () => {
    const v = checkSwitch({ flavor: "mariadb", syncer: "0-1-42", purged: "", executed: "0-1-40,0-2-60" });
    assert.deepEqual(v, {
        ok: false,
        purgedNotInSyncer: "",
        syncerNotInExecuted: "0-1-42",
        reasons: [
            "the target's binlog has 0-1-40 as its last transaction from server 1 in domain 0, behind 0-1-42 that DM has already replicated from that server " +
                "(gtid-E ⊉ gtid-S): the target diverged or skipped transactions, and MariaDB would refuse DM's position (error 1236); choose another target.",
        ],
    });
});

test("mariadb: rejects a purged range of the very server DM read, though DM's domain position is ahead", () => {
    const v = checkSwitch({
        flavor: "mariadb",
        syncer: "0-1-42,0-2-60",
        purged: "0-1-45,0-2-50",
        executed: "0-1-45,0-2-70",
    });
    assert.equal(v.ok, false);
    assert.equal(v.purgedNotInSyncer, "0-1-45");
    assert.match(
        v.reasons[0],
        /^the target's oldest binlog starts after 0-1-45 from server 1 in domain 0, while DM has replicated only 0-1-42 from that server \(gtid-S ⊉ gtid-P\)/,
    );
});

test("checkSets applies the same rule to parsed sets", () => {
    const p = (t: string) => parseGtidSet("mysql", t);
    assert.deepEqual(
        checkSets({ syncer: p(`${A}:1-5`), purged: p(""), executed: p(`${A}:1-4`) }).syncerNotInExecuted,
        `${A}:5`,
    );
});
