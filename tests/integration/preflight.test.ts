/**
 * The preflight and `dm-switch preflight` against the sandbox (real dm-master and dm-worker, MariaDB
 * primary, replica and downstream, HAProxy VIP): a healthy replica passes with both DM transports
 * giving the same report; a stopped, lagging replica fails naming the missing GTIDs; a replica that
 * purged binlogs DM still needs fails; an unreachable target, DM or a wrong password say so. The
 * preflight changes nothing: every test ends with the tasks Running and the VIP on the primary.
 */
import assert from "node:assert/strict";
import { adminInstance } from "../support/probe";
import { pollUntil } from "../../components/util/poll";
import * as net from "node:net";
import { after, before, test } from "node:test";
import { EXIT, PASSWORD_ENV, preflightCommand } from "../../components/cli/preflight";
import { createDmClient, DmClient, waitForStage } from "../../components/dm";
import { preflight, PreflightArgs, PreflightError } from "../../components/preflight";
import { Sandbox, startSandbox } from "../../sandbox";
import { syncerRows } from "../support/syncerRows";

let sb: Sandbox;
let dm: DmClient;

before(async () => {
    sb = await startSandbox({ tasks: 2 });
    dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    console.log(`sandbox up in ${sb.startupMs.toFixed(0)} ms`);
});

after(async () => {
    await sb?.stop();
});

const at = (port: number, name: string) => adminInstance(sb, port, name);

const argsFor = (over: Partial<PreflightArgs> = {}): PreflightArgs => ({
    dm: { address: sb.dm.masterAddr, transport: "openapi" },
    sourceId: sb.source.id,
    flavor: "mariadb",
    target: at(sb.replica.port, "replica"),
    current: at(sb.vip.port, "the VIP"),
    ...over,
});

const { seqOf, writeRows, syncerReaches } = syncerRows(
    () => sb,
    () => dm,
    "preflight",
);

/** FLUSH and PURGE the replica's binary logs; MariaDB keeps a log until its binlog checkpoint moves on, so retry. */
async function purgeReplicaBinlogs(): Promise<void> {
    await sb.replica.query("FLUSH BINARY LOGS");
    const current = String((await sb.replica.query("SHOW MASTER STATUS"))[0].File);
    let logs: Record<string, unknown>[] = [];
    const purged = await pollUntil(
        async () => {
            await sb.replica.query(`PURGE BINARY LOGS TO '${current}'`);
            logs = await sb.replica.query("SHOW BINARY LOGS");
            return logs.length === 1 || undefined;
        },
        { intervalMs: 100, timeoutMs: 10_000 },
    );
    if (!purged) {
        throw new Error(
            `the replica kept ${logs.map((l) => l.Log_name).join(", ")} after PURGE BINARY LOGS TO '${current}' for 10 s`,
        );
    }
}

async function assertUnchanged(): Promise<void> {
    assert.equal(await sb.vipTarget(), "primary", "the VIP still points at the primary");
    for (const t of sb.tasks) {
        assert.equal((await dm.taskStatus(t.name, sb.source.id))[0].stage, "Running", `${t.name} still Running`);
    }
}

async function cli(argv: string[], password = sb.admin.password) {
    let out = "";
    let err = "";
    const code = await preflightCommand(argv, {
        out: (t) => (out += t),
        err: (t) => (err += t),
        env: { [PASSWORD_ENV]: password },
    });
    return { code, out, err };
}

const cliArgs = (targetPort: number) => [
    "--dm",
    sb.dm.masterAddr,
    "--source",
    sb.source.id,
    "--flavor",
    "mariadb",
    "--target",
    `127.0.0.1:${targetPort}`,
    "--name",
    "replica",
    "--user",
    sb.admin.user,
];

test("allows the healthy replica, with the same report over the OpenAPI and dmctl", async () => {
    const t0 = performance.now();
    const viaApi = await preflight(argsFor());
    console.log(`preflight (OpenAPI): ${(performance.now() - t0).toFixed(0)} ms`);
    const t1 = performance.now();
    const viaDmctl = await preflight(
        argsFor({ dm: { address: sb.dm.masterAddr, transport: "dmctl", dmctlPath: sb.dm.dmctlPath } }),
    );
    console.log(`preflight (dmctl): ${(performance.now() - t1).toFixed(0)} ms`);
    assert.deepEqual(viaApi.reasons, []);
    assert.equal(viaApi.ok, true);
    assert.deepEqual(
        viaApi.tasks.map((t) => [t.task, t.stage, t.unit, t.ok]),
        sb.tasks.map((t) => [t.name, "Running", "Sync", true]),
    );
    assert.equal(viaApi.sameReplicationSet?.same, true);
    assert.deepEqual(viaDmctl, viaApi);
    const r = await cli([...cliArgs(sb.replica.port), "--json"]);
    assert.equal(r.code, EXIT.ok, r.err);
    assert.equal(JSON.parse(r.out).ok, true);
    assert.doesNotMatch(r.out + r.err, new RegExp(sb.admin.password));
    await assertUnchanged();
});

test("rejects the replica stopped and lagging, naming the GTIDs it lacks, until it catches up", async () => {
    await sb.replica.query("STOP SLAVE");
    try {
        const seqs = await writeRows();
        await syncerReaches(seqs);
        const replicaSeq = await seqOf(sb.replica);
        const r = await preflight(argsFor({ catchUpTimeoutMs: 300 }));
        assert.equal(r.ok, false);
        assert.equal(r.catchUp?.caughtUp, false);
        console.log(`lagging: waited ${r.catchUp?.waitedMs} ms (at most 300)`);
        for (const [i, t] of sb.tasks.entries()) {
            const task = r.tasks.find((x) => x.task === t.name)!;
            const dmAt = Number(task.syncerGtid.split("-")[2]);
            assert.ok(dmAt >= seqs[i]);
            assert.deepEqual(task.reasons, [
                `task ${t.name} (after waiting ${r.catchUp!.waitedMs} ms for replica to catch up): the target lacks transactions DM has already replicated (gtid-E ⊉ gtid-S): ` +
                    `in domain 0 DM is at 0-1-${dmAt} while the target's binlog reaches only 0-1-${replicaSeq}; wait for the target to catch up, or choose another target.`,
            ]);
        }
        const c = await cli([...cliArgs(sb.replica.port), "--catch-up-timeout-ms", "0"]);
        assert.equal(c.code, EXIT.notAllowed, c.err);
        assert.match(c.out, /switch NOT allowed/);
        assert.match(c.out, new RegExp(`the target's binlog reaches only 0-1-${replicaSeq}`));
        await assertUnchanged();
    } finally {
        await sb.replica.query("START SLAVE");
    }
    const again = await preflight(argsFor({ catchUpTimeoutMs: 10_000 }));
    console.log(
        `replica restarted: ${again.catchUp ? `caught up after ${again.catchUp.waitedMs} ms` : "no wait needed"}`,
    );
    assert.deepEqual(again.reasons, []);
});

test("rejects the replica that purged binlogs DM still needs (tasks paused first)", async () => {
    for (const t of sb.tasks) {
        await dm.pauseTask(t.name, [sb.source.id]);
    }
    await waitForStage(
        dm,
        sb.tasks.map((t) => t.name),
        sb.source.id,
        ["Paused"],
        { intervalMs: 50, timeoutMs: 20_000 },
    );
    try {
        const dmAt = Number((await dm.taskStatus(sb.tasks[0].name, sb.source.id))[0].syncerBinlogGtid.split("-")[2]);
        const seqs = await writeRows();
        const pos = String((await sb.primary.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g);
        assert.equal(
            Number((await sb.replica.query("SELECT MASTER_GTID_WAIT(?, 20) AS w", [pos]))[0].w),
            0,
            "the replica has the new rows",
        );
        await purgeReplicaBinlogs();
        const r = await preflight(argsFor());
        assert.equal(r.ok, false);
        assert.equal(r.catchUp, undefined, "no wait: purged binlogs never come back");
        const task = r.tasks.find((x) => x.task === sb.tasks[0].name)!;
        assert.equal(task.stage, "Paused");
        assert.deepEqual(task.reasons, [
            `task ${sb.tasks[0].name}: the target has purged binlogs DM still needs (gtid-S ⊉ gtid-P): in domain 0 its oldest binlog starts after 0-1-${seqs[1]} ` +
                `while DM is only at 0-1-${dmAt}; choose another target or re-migrate the source (full dump and load).`,
        ]);
        assert.equal(await sb.vipTarget(), "primary");
    } finally {
        for (const t of sb.tasks) {
            await dm.resumeTask(t.name, [sb.source.id]);
        }
    }
    await waitForStage(
        dm,
        sb.tasks.map((t) => t.name),
        sb.source.id,
        ["Running"],
        { intervalMs: 50, timeoutMs: 20_000 },
    );
    await syncerReaches([await seqOf(sb.primary), await seqOf(sb.primary)]);
    assert.deepEqual((await preflight(argsFor())).reasons, [], "allowed again once DM replicated past what was purged");
    await assertUnchanged();
});

async function closedPort(): Promise<number> {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    return port;
}

test("says it cannot reach the target (exit 2), and changes nothing", async () => {
    const port = await closedPort();
    await assert.rejects(preflight(argsFor({ target: at(port, "replica") })), (e: unknown) => {
        assert.ok(e instanceof PreflightError);
        assert.equal(e.kind, "unreachable");
        assert.deepEqual(e.sides, ["target"]);
        assert.match(
            e.message,
            new RegExp(
                `^target replica \\(127\\.0\\.0\\.1:${port}\\): probe of 127\\.0\\.0\\.1:${port} failed while connecting`,
            ),
        );
        return true;
    });
    const c = await cli(cliArgs(port));
    assert.equal(c.code, 2);
    assert.match(c.err, /^dm-switch preflight: cannot reach target: /);
    await assertUnchanged();
});

test("says it cannot reach DM", async () => {
    const port = await closedPort();
    await assert.rejects(
        preflight(argsFor({ dm: { address: `127.0.0.1:${port}`, transport: "openapi" } })),
        (e: unknown) => {
            assert.ok(e instanceof PreflightError);
            assert.deepEqual([e.kind, e.sides], ["unreachable", ["dm"]]);
            return true;
        },
    );
});

test("reports a wrong password as bad input (exit 2) without printing it", async () => {
    const wrong = "Wrong-Pw-123";
    await assert.rejects(
        preflight(argsFor({ target: { ...at(sb.replica.port, "replica"), password: wrong }, current: undefined })),
        (e: unknown) => {
            assert.ok(e instanceof PreflightError);
            assert.deepEqual([e.kind, e.sides], ["bad-input", ["target"]]);
            assert.doesNotMatch(e.message, new RegExp(wrong));
            return true;
        },
    );
    const c = await cli(cliArgs(sb.replica.port), wrong);
    assert.equal(c.code, EXIT.badInput);
    assert.match(
        c.err,
        /^dm-switch preflight: bad input: target replica .*Access denied.*Check the user dmswitch_admin and its password\.\n$/,
    );
    assert.doesNotMatch(c.err, new RegExp(wrong));
});
