/**
 * A preview's checks share their reads: one probe per instance (probeOncePerInstance) and one DM pass
 * (memoizeReads): four checks of two sources ask DM for the sources' configurations once, each source's
 * tasks' status once (one dm-worker request each), and probe each instance once; each check still gets its
 * own report.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { memoizeReads } from "../../components/dm";
import type { MysqlEndpoint, ServerFacts } from "../../components/mysql/types";
import { outcomeOfSubject, probeOncePerInstance } from "../../policies/run";
import { DM_SWITCH_TYPES, isUnprovable, Subject, subjectOf } from "../../policies/subject";
import { fakeDm } from "../support/dmFixtures";

const PASSWORD = "s3cret-Pw!";
const VIP = { host: "127.0.0.1", port: 6033 };
const REPLICA = { host: "127.0.0.1", port: 3307 };

const facts = (gtidExecuted: string, serverId: number): ServerFacts => ({
    flavor: "mariadb",
    version: "10.11.6-MariaDB-log",
    serverId,
    gtidExecuted,
    gtidPurged: "",
    gtidStrictMode: true,
    gtidDomainId: 0,
    logReplicaUpdates: true,
    binlogFormat: "ROW",
    logBin: true,
    readOnly: false,
});

test("probeOncePerInstance: one read per instance and login, shared by concurrent callers, failures too", async () => {
    const reads: string[] = [];
    const shared = probeOncePerInstance(async (ep) => {
        reads.push(`${ep.port} ${ep.user}`);
        if (ep.port === 1) throw new Error("connect ECONNREFUSED 127.0.0.1:1");
        return facts("0-1-100", ep.port);
    });
    const ep: MysqlEndpoint = { ...REPLICA, user: "dm", password: PASSWORD };
    const [a, b] = await Promise.all([shared(ep), shared({ ...ep })]);
    assert.equal(a, b, "the same answer");
    assert.equal(a.serverId, 3307);
    await shared({ ...ep, password: "another" });
    await shared({ ...ep, user: "other" });
    await shared({ ...ep, tls: {} });
    await shared({ ...VIP, user: "dm", password: PASSWORD });
    await assert.rejects(shared({ ...ep, port: 1 }), /ECONNREFUSED/);
    await assert.rejects(shared({ ...ep, port: 1 }), /ECONNREFUSED/);
    assert.deepEqual(reads, ["3307 dm", "3307 dm", "3307 other", "3307 dm", "6033 dm", "1 dm"]);
});

function subject(type: string, sourceId: string, props: Record<string, unknown>): Subject {
    const s = subjectOf(
        type,
        `${sourceId}`,
        {
            dm: { address: "127.0.0.1:8261", transport: "openapi" },
            sourceId,
            flavor: "mariadb",
            user: "dm",
            password: PASSWORD,
            ...props,
        },
        0,
    );
    assert.ok(s && !isUnprovable(s));
    return s;
}

test("four checks of two sources: one DM listing, one status read per source, one probe per instance, a report each", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(fakeDm(calls, VIP));
    const probed: number[] = [];
    // The replica has executed s1's gtid-S (0-1-100) but not s2's (0-1-200).
    const shared = probeOncePerInstance(
        async (ep) => (probed.push(ep.port), facts(ep.port === VIP.port ? "0-1-200" : "0-1-150", ep.port)),
    );
    const vipProps = { instances: { primary: VIP, replica: REPLICA }, target: "replica", address: VIP };
    const subjects = ["s1", "s2"].flatMap((id) => [
        subject(DM_SWITCH_TYPES.Vip, id, vipProps),
        subject(DM_SWITCH_TYPES.SourceBinding, id, { instance: "primary", ...VIP }),
    ]);
    const outcomes = await Promise.all(
        subjects.map((s) => outcomeOfSubject({ ...s, args: { ...s.args, dmClient: dm, probe: shared } })),
    );
    assert.deepEqual(calls.sort(), ["listSourceConfigs", "sourceTaskStatus s1", "sourceTaskStatus s2"]);
    assert.deepEqual(probed.sort(), [REPLICA.port, VIP.port]);
    const verdicts = outcomes.map((o) =>
        "report" in o ? `${o.subject.resource} → ${o.subject.target}: ${o.report.ok}` : o.unprovable.why,
    );
    assert.deepEqual(verdicts, [
        "Vip s1 → replica: true",
        "SourceBinding s1 → primary: true",
        "Vip s2 → replica: false",
        "SourceBinding s2 → primary: true",
    ]);
    const s2 = outcomes[2];
    assert.ok("report" in s2);
    assert.match(s2.report.reasons.join(" "), /task task-s2: the target lacks transactions DM has already replicated/);
});
