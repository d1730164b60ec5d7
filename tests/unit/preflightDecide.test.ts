/**
 * The preflight's pure decision (components/preflight/decide.ts): a healthy case, then one change per
 * case, with exact reasons.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SubtaskStatus } from "../../components/dm/types";
import type { ServerFacts } from "../../components/mysql/types";
import { catchUpTargets, decide, PreflightFacts } from "../../components/preflight/decide";
import { runningSubtask, sourceInfo } from "../support/dmFixtures";
import { mysqlFacts, UUID_A } from "../support/mysqlFixtures";

const facts: ServerFacts = {
    flavor: "mariadb",
    version: "10.11.6-MariaDB-log",
    serverId: 2,
    gtidExecuted: "0-1-120",
    gtidPurged: "0-1-10",
    gtidStrictMode: true,
    gtidDomainId: 0,
    logReplicaUpdates: true,
    binlogFormat: "ROW",
    logBin: true,
    readOnly: true,
};

const source = sourceInfo("src", { worker: "w1", taskNames: ["t1", "t2"] });

function sub(task: string, over: Partial<SubtaskStatus> = {}): SubtaskStatus {
    return runningSubtask(task, "src", { worker: "w1", masterBinlogGtid: "0-1-120", ...over });
}

function healthy(over: Partial<PreflightFacts> = {}): PreflightFacts {
    return {
        sourceId: "src",
        flavor: "mariadb",
        target: "mysql-b",
        targetAddress: "127.0.0.1:3307",
        source,
        tasks: [
            { task: "t1", status: sub("t1") },
            { task: "t2", status: sub("t2", { syncerBinlogGtid: "0-1-110" }) },
        ],
        facts,
        prerequisites: [],
        ...over,
    };
}

const TAG_REMEDY =
    "stop writing tagged transactions (SET GTID_NEXT='AUTOMATIC:<tag>') on the replication set, or use a DM that applies them.";

/** A healthy MySQL switch whose target (or, with `tagged: false`, only what `over` adds) holds tagged GTIDs. */
function mysqlTagged(over: Partial<PreflightFacts> & { tagged?: boolean } = {}): PreflightFacts {
    const { tagged = true, ...rest } = over;
    const executed = `${UUID_A}:1-100${tagged ? ":orders:1-5" : ""}`;
    const status = (task: string) => sub(task, { syncerBinlogGtid: `${UUID_A}:1-100` });
    return healthy({
        flavor: "mysql",
        source: { ...source, flavor: "mysql" },
        facts: mysqlFacts({ gtidExecuted: executed }),
        tasks: [
            { task: "t1", status: status("t1") },
            { task: "t2", status: status("t2") },
        ],
        ...rest,
    });
}

const LAG_T1 =
    "task t1: the target lacks transactions DM has already replicated (gtid-E ⊉ gtid-S): in domain 0 DM is at 0-1-100 while the target's binlog reaches only 0-1-90; wait for the target to catch up, or choose another target.";

const cases: { name: string; facts: PreflightFacts; ok: boolean; reasons: string[]; catchUp?: string[] }[] = [
    {
        name: "allows a healthy target that holds gtid-S and purged nothing DM needs",
        facts: healthy(),
        ok: true,
        reasons: [],
        catchUp: [],
    },
    {
        name: "allows Paused and Stopped tasks in the Sync unit",
        facts: healthy({
            tasks: [
                { task: "t1", status: sub("t1", { stage: "Paused", rawStage: "Paused" }) },
                { task: "t2", status: sub("t2", { stage: "Stopped", rawStage: "Stopped" }) },
            ],
        }),
        ok: true,
        reasons: [],
    },
    {
        name: "rejects a lagging target and offers to wait for exactly the lagging task's gtid-S",
        facts: healthy({
            facts: { ...facts, gtidExecuted: "0-1-90" },
            tasks: [
                { task: "t1", status: sub("t1") },
                { task: "t2", status: sub("t2", { syncerBinlogGtid: "0-1-80" }) },
            ],
        }),
        ok: false,
        reasons: [LAG_T1],
        catchUp: ["0-1-100"],
    },
    {
        name: "names the wait in the reason once a catch-up wait was made",
        facts: healthy({
            facts: { ...facts, gtidExecuted: "0-1-90" },
            tasks: [{ task: "t1", status: sub("t1") }],
            catchUp: { timeoutMs: 500, waitedMs: 501, caughtUp: false },
        }),
        ok: false,
        reasons: [LAG_T1.replace("task t1:", "task t1 (after waiting 501 ms for mysql-b to catch up):")],
    },
    {
        name: "rejects a target that purged binlogs DM still needs, and does not wait",
        facts: healthy({ facts: { ...facts, gtidPurged: "0-1-105" }, tasks: [{ task: "t1", status: sub("t1") }] }),
        ok: false,
        reasons: [
            "task t1: the target has purged binlogs DM still needs (gtid-S ⊉ gtid-P): in domain 0 its oldest binlog starts after 0-1-105 while DM is only at 0-1-100; choose another target or re-migrate the source (full dump and load).",
        ],
        catchUp: [],
    },
    {
        name: "does not wait for a lagging target when another task cannot switch anyway",
        facts: healthy({
            facts: { ...facts, gtidExecuted: "0-1-90" },
            tasks: [
                { task: "t1", status: sub("t1") },
                { task: "t2", status: sub("t2", { unit: "Load", syncerBinlogGtid: "" }) },
            ],
        }),
        ok: false,
        reasons: [
            LAG_T1,
            "task t2 is in the Load unit, not Sync: a source can switch only while its tasks replicate incrementally; wait until the task reaches Sync.",
        ],
        catchUp: [],
    },
    {
        name: "rejects a task with errors and does not apply the rule to it",
        facts: healthy({ tasks: [{ task: "t1", status: sub("t1", { errors: ["[code=10006] Duplicate entry"] }) }] }),
        ok: false,
        reasons: [
            "task t1 has errors ([code=10006] Duplicate entry): resolve them (dmctl query-status t1) before switching.",
        ],
    },
    {
        name: "rejects a task whose worker is offline",
        facts: healthy({ tasks: [{ task: "t1", status: sub("t1", { stage: "Offline", rawStage: "", unit: "" }) }] }),
        ok: false,
        reasons: [
            "task t1 is Offline: its dm-worker cannot be reached, so gtid-S cannot be read; bring the source's dm-worker online, then check again.",
        ],
    },
    {
        name: "rejects a requested task that has no subtask on the source",
        facts: healthy({ requestedTasks: ["t9"], tasks: [{ task: "t9" }] }),
        ok: false,
        reasons: [
            "the tasks list of DM source src omits t1, t2, which DM runs on it: DM's procedure pauses every task of the source: list every task, or leave tasks out.",
            "task t9 has no subtask on DM source src (DM lists: t1, t2): correct the tasks list.",
        ],
    },
    {
        name: "rejects a tasks list that omits a task DM runs on the source",
        facts: healthy({ requestedTasks: ["t1"], tasks: [{ task: "t1", status: healthy().tasks[0].status }] }),
        ok: false,
        reasons: [
            "the tasks list of DM source src omits t2, which DM runs on it: DM's procedure pauses every task of the source: list every task, or leave tasks out.",
        ],
    },
    {
        name: "rejects an empty tasks list",
        facts: healthy({ requestedTasks: [], tasks: [] }),
        ok: false,
        reasons: [
            "the tasks list of DM source src is empty: DM's procedure pauses every task of the source: list every task, or leave tasks out.",
        ],
    },
    {
        name: "accepts a tasks list naming every task DM runs on the source",
        facts: healthy({ requestedTasks: ["t2", "t1"] }),
        ok: true,
        reasons: [],
    },
    {
        name: "rejects a VIP switch of a source DM does not know, naming the DM asked",
        facts: healthy({ source: undefined, tasks: [], requireSourceAt: "10.0.0.5:8261" }),
        ok: false,
        reasons: [
            "DM at 10.0.0.5:8261 has no source src: the VIP cannot move before every task reading through it is paused; check sourceId and dm.address ('dmctl --master-addr 10.0.0.5:8261 operate-source show').",
        ],
    },
    {
        name: "rejects a MySQL target holding tagged GTIDs, naming the tag, DM's version and what that DM does",
        facts: mysqlTagged({
            dmVersion: {
                release: "v9.0.0-beta.2.pre-38-g2409e0bd7e",
                gitHash: "2409e0bd7ee293ec761978f244a9d5b1c82afe59",
            },
        }),
        ok: false,
        reasons: [
            `target mysql-b (127.0.0.1:3307) holds tagged GTIDs (tag "orders"), and DM v9.0.0-beta.2.pre-38-g2409e0bd7e (2409e0b) drops those transactions silently (the task stays Running, the rows never reach the downstream): ${TAG_REMEDY}`,
        ],
    },
    {
        name: "rejects tagged GTIDs on the source's upstream too; DM's version unreadable is no pass",
        facts: mysqlTagged({
            upstream: { side: "the source's upstream the VIP (127.0.0.1:6033)", gtidSet: `${UUID_A}:1-100:audit:1` },
            tagged: false,
        }),
        ok: false,
        reasons: [
            `the source's upstream the VIP (127.0.0.1:6033) holds tagged GTIDs (tag "audit"), and DM (version unreadable) is not known to apply them (no DM build is; DM 2409e0b, the newest seen, drops them silently): ${TAG_REMEDY}`,
        ],
    },
    {
        name: "a source DM does not know is no reason when DM need not know it (a SourceBinding creates it)",
        facts: healthy({ source: undefined, tasks: [] }),
        ok: true,
        reasons: [],
    },
    {
        name: "rejects a DM source without enable-gtid",
        facts: healthy({ source: { ...source, enableGtid: false } }),
        ok: false,
        reasons: [
            "DM source src runs with enable-gtid: false: DM can switch instances only in GTID mode; recreate the source with enable-gtid: true.",
        ],
    },
    {
        name: "rejects a DM source of another flavor",
        facts: healthy({ source: { ...source, flavor: "mysql" } }),
        ok: false,
        reasons: ['DM source src has flavor mysql, not mariadb: set flavor to "mysql".'],
    },
    {
        name: "rejects a target of another flavor",
        facts: healthy({ facts: { ...facts, flavor: "mysql" } }),
        ok: false,
        reasons: [
            'target mysql-b (127.0.0.1:3307) is mysql, not mariadb: set flavor to "mysql" or choose another target.',
        ],
    },
    {
        name: "passes unmet prerequisites through as reasons",
        facts: healthy({
            prerequisites: [
                "binlog_format is MIXED; DM needs ROW: SET GLOBAL binlog_format=ROW and set it in the server's configuration.",
            ],
        }),
        ok: false,
        reasons: [
            "target mysql-b (127.0.0.1:3307): binlog_format is MIXED; DM needs ROW: SET GLOBAL binlog_format=ROW and set it in the server's configuration.",
        ],
    },
    {
        name: "rejects a target outside the current replication set",
        facts: healthy({
            sameReplicationSet: { same: false, current: "the VIP 127.0.0.1:6033", reason: "no GTID domain in common" },
        }),
        ok: false,
        reasons: [
            "target mysql-b (127.0.0.1:3307) is not in the replication set of the VIP 127.0.0.1:6033 (no GTID domain in common): DM can switch only between instances of one replication set; choose one of them.",
        ],
    },
    {
        name: "allows a source DM does not have yet (nothing replicated to protect)",
        facts: healthy({ source: undefined, tasks: [] }),
        ok: true,
        reasons: [],
    },
];

for (const c of cases) {
    test(c.name, () => {
        const r = decide(c.facts);
        assert.deepEqual(r.reasons, c.reasons);
        assert.equal(r.ok, c.ok);
        if (c.catchUp) {
            assert.deepEqual(catchUpTargets(r), c.catchUp);
        }
    });
}

test("groups the reasons by what they are about and keeps the verdict of each task", () => {
    const r = decide(
        healthy({
            source: { ...source, enableGtid: false, flavor: "mysql" },
            facts: { ...facts, gtidExecuted: "0-1-90" },
            tasks: [{ task: "t1", status: sub("t1") }],
            prerequisites: [
                "binlog_format is MIXED; DM needs ROW: SET GLOBAL binlog_format=ROW and set it in the server's configuration.",
            ],
        }),
    );
    assert.equal(r.enableGtidReasons.length, 1);
    assert.deepEqual(r.sourceReasons, ['DM source src has flavor mysql, not mariadb: set flavor to "mysql".']);
    assert.deepEqual(r.targetReasons, [
        "target mysql-b (127.0.0.1:3307): binlog_format is MIXED; DM needs ROW: SET GLOBAL binlog_format=ROW and set it in the server's configuration.",
    ]);
    assert.deepEqual(r.tasks[0].reasons, [LAG_T1]);
    assert.equal(r.tasks[0].verdict?.syncerNotInExecuted, "0-1-100");
    assert.equal(r.reasons.length, 4);
    assert.equal(r.sourceExists, true);
    assert.equal(r.enableGtid, false);
    assert.deepEqual(catchUpTargets(r), [], "no wait when something besides lag is wrong");
});
