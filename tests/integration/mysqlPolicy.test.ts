/**
 * The policy pack, the preflight and `dm-switch gtid check` against live MySQL (the MySQL sandbox: MySQL
 * ≥ 8.4 primary and GTID replica, DM 2409e0b, HAProxy, MariaDB downstream). `pulumi preview --policy-pack
 * policies` of a stack with one Vip passes for the healthy replica and refuses a replica that lags with
 * replication stopped and a replica whose PURGE BINARY LOGS put gtid_purged outside gtid-S, naming the
 * missing GTIDs in MySQL's `server_uuid:interval` form; `dm-switch preflight` and `dm-switch gtid check`
 * (fed what DM and the replica report) agree. Nothing is changed: the VIP stays on the primary.
 */
import assert from "node:assert/strict";
import { sleep } from "../../components/util/poll";
import { within } from "../support/wait";
import { after, before, test } from "node:test";
import { PASSWORD_ENV } from "../../components/cli/preflight";
import { main } from "../../components/cli/main";
import { createDmClient, DmClient, waitForStage } from "../../components/dm";
import { contains, parseGtidSet } from "../../components/gtid";
import { preflight, PreflightArgs } from "../../components/preflight";
import { Sandbox, startSandbox } from "../../sandbox";
import { purgeMysqlBinaryLogs } from "../../sandbox/mysql";
import { PolicyStack } from "../support/policyStack";

let sb: Sandbox;
let dm: DmClient;
let ps: PolicyStack;
let primaryUuid: string;
const outputs = () => ps?.outputs ?? [];

before(async () => {
    sb = await startSandbox({ tasks: 2, flavor: "mysql" });
    dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    primaryUuid = String((await sb.primary.query("SELECT @@server_uuid AS u"))[0].u);
    ps = await PolicyStack.create(sb, "mysql");
});

after(async () => {
    try {
        await ps?.stack.dispose();
    } finally {
        await sb?.stop();
    }
    for (const o of outputs()) {
        assert.doesNotMatch(
            o,
            new RegExp(sb.admin.password),
            "the password never appears in Pulumi's or the CLI's output",
        );
    }
});

const pulumi = (args: string[]) => ps.pulumi(args);

/** `dm-switch <argv>` in this process, the admin's password in the environment. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, {
        out: (t) => (out += t),
        err: (t) => (err += t),
        env: { [PASSWORD_ENV]: sb.admin.password },
    });
    outputs().push(out + err);
    return { code, out, err };
}

/** `dm-switch gtid check` of MySQL sets, its answer printed. */
async function gtidCheck(syncer: string, purged: string, executed: string) {
    const argv = ["--flavor", "mysql", "--syncer", syncer, "--purged", purged, "--executed", executed];
    const g = await cli(["gtid", "check", ...argv]);
    console.log(`gtid check: exit ${g.code}: ${g.out.trim()}`);
    return g;
}

const preflightArgv = (extra: string[] = []) => [
    "preflight",
    ...["--dm", sb.dm.masterAddr, "--source", sb.source.id, "--flavor", "mysql"],
    ...["--target", `127.0.0.1:${sb.replica.port}`, "--name", "replica", "--user", sb.admin.user, ...extra],
];

const argsFor = (over: Partial<PreflightArgs> = {}): PreflightArgs => ({
    dm: { address: sb.dm.masterAddr, transport: "openapi" },
    sourceId: sb.source.id,
    flavor: "mysql",
    target: {
        name: "replica",
        host: "127.0.0.1",
        port: sb.replica.port,
        user: sb.admin.user,
        password: sb.admin.password,
    },
    current: {
        name: "the VIP",
        host: sb.vip.host,
        port: sb.vip.port,
        user: sb.admin.user,
        password: sb.admin.password,
    },
    ...over,
});

const gtidOf = async (i: Sandbox["primary"], v = "gtid_executed") =>
    String((await i.query(`SELECT @@GLOBAL.${v} AS g`))[0].g).replace(/\s+/g, "");
const syncerGtids = async () =>
    Promise.all(sb.tasks.map(async (t) => (await dm.taskStatus(t.name, sb.source.id))[0]?.syncerBinlogGtid ?? ""));

let nextId = 1;
/** One row in each task's schema on the primary, until every task's checkpointed gtid-S holds the primary's gtid_executed. */
async function syncerReachesPrimary(timeoutMs = 20_000): Promise<string[]> {
    const write = async () => {
        for (const t of sb.tasks) {
            await sb.primary.query(`INSERT INTO \`${t.schema}\`.t (id, seq, payload) VALUES (?, ?, 'policy')`, [
                nextId,
                nextId,
            ]);
            nextId++;
        }
    };
    await write();
    const want = parseGtidSet("mysql", await gtidOf(sb.primary));
    // DM flushes the checkpoint (gtid-S) only while it processes events: keep writing until it holds `want`.
    let got: string[] = [];
    await sleep(300);
    return within(
        () => `DM's syncer did not reach ${String(want)} within ${timeoutMs} ms (at ${got.join(", ")})`,
        async () => {
            await write();
            got = await syncerGtids();
            return got.every((g) => g && contains(parseGtidSet("mysql", g), want)) ? got : undefined;
        },
        { intervalMs: 300, timeoutMs },
    );
}

async function assertUnchanged(): Promise<void> {
    assert.equal(await sb.vipTarget(), "primary", "the VIP still points at the primary");
    for (const t of sb.tasks) {
        assert.equal((await dm.taskStatus(t.name, sb.source.id))[0].stage, "Running", `${t.name} still Running`);
    }
}

const VIOLATION = /\[mandatory\] {2}dm-gtid-containment {2}\(pulumi-nodejs:dynamic\/dm-switch:Vip: vip\)/;

test("the healthy MySQL replica passes the pack, the preflight over both transports and dm-switch preflight", async () => {
    const r = await pulumi(["preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /\[mandatory\]/);
    const viaApi = await preflight(argsFor());
    const viaDmctl = await preflight(
        argsFor({ dm: { address: sb.dm.masterAddr, transport: "dmctl", dmctlPath: sb.dm.dmctlPath } }),
    );
    assert.deepEqual(viaApi.reasons, []);
    assert.equal(viaApi.ok, true);
    assert.deepEqual(viaDmctl, viaApi);
    const c = await cli([...preflightArgv(), "--json"]);
    assert.equal(c.code, 0, c.err);
    assert.equal(JSON.parse(c.out).ok, true);
    await assertUnchanged();
});

test("a MySQL replica lagging with replication stopped is refused by the pack, the preflight and gtid check, naming the GTIDs by server_uuid", async () => {
    await sb.replica.query("STOP REPLICA");
    try {
        const syncer = await syncerReachesPrimary();
        const executed = await gtidOf(sb.replica);
        const r = await pulumi(["preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, VIOLATION);
        const line = r.output
            .split("\n")
            .find((l) => l.includes(`task ${sb.tasks[0].name}`) && l.includes("gtid-E ⊉ gtid-S"));
        console.log(`pack: ${line?.trim()}`);
        assert.match(
            line ?? "",
            new RegExp(
                `the target lacks ${primaryUuid}:\\d+(-\\d+)? that DM has already replicated \\(gtid-E ⊉ gtid-S\\)`,
            ),
        );
        const p = await preflight(argsFor({ catchUpTimeoutMs: 300 }));
        assert.equal(p.ok, false);
        console.log(`preflight: ${p.tasks[0].reasons.join(" | ")}`);
        assert.match(
            p.tasks[0].reasons[0],
            new RegExp(`lacks ${primaryUuid}:\\d+(-\\d+)? that DM has already replicated \\(gtid-E ⊉ gtid-S\\)`),
        );
        const c = await cli(preflightArgv(["--catch-up-timeout-ms", "0"]));
        assert.equal(c.code, 3, c.err);
        assert.match(c.out, /switch NOT allowed/);
        const purged = await gtidOf(sb.replica, "gtid_purged");
        const g = await gtidCheck(syncer[0], purged, executed);
        assert.equal(g.code, 3, g.err);
        assert.match(g.out, new RegExp(`${primaryUuid}:\\d+`));
        await assertUnchanged();
    } finally {
        await sb.replica.query("START REPLICA");
    }
    await waitFor(
        async () => (await preflight(argsFor({ catchUpTimeoutMs: 10_000 }))).ok,
        "the replica allowed again once caught up",
    );
});

test("a MySQL replica whose purged binlogs DM still needs (gtid_purged ⊄ gtid-S) is refused by the pack, the preflight and gtid check", async () => {
    const names = sb.tasks.map((t) => t.name);
    for (const t of names) {
        await dm.pauseTask(t, [sb.source.id]);
    }
    await waitForStage(dm, names, sb.source.id, ["Paused"], { intervalMs: 50, timeoutMs: 20_000 });
    try {
        const syncer = await syncerGtids();
        for (const t of sb.tasks) {
            await sb.primary.query(`INSERT INTO \`${t.schema}\`.t (id, seq, payload) VALUES (?, ?, 'purged')`, [
                nextId,
                nextId,
            ]);
            nextId++;
        }
        const pos = await gtidOf(sb.primary);
        assert.equal(Number((await sb.replica.query("SELECT WAIT_FOR_EXECUTED_GTID_SET(?, 20) AS w", [pos]))[0].w), 0);
        await purgeMysqlBinaryLogs(sb.replica);
        const purged = await gtidOf(sb.replica, "gtid_purged");
        assert.ok(
            !contains(parseGtidSet("mysql", syncer[0]), parseGtidSet("mysql", purged)),
            `gtid_purged ${purged} ⊄ gtid-S ${syncer[0]}`,
        );
        const r = await pulumi(["preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, VIOLATION);
        const line = r.output.split("\n").find((l) => l.includes(`task ${names[0]}`) && l.includes("gtid-S ⊉ gtid-P"));
        console.log(`pack: ${line?.trim()}`);
        assert.match(
            line ?? "",
            new RegExp(
                `the target has purged ${primaryUuid}:\\d+(-\\d+)? that DM has not replicated yet \\(gtid-S ⊉ gtid-P\\)`,
            ),
        );
        const p = await preflight(argsFor());
        assert.equal(p.ok, false);
        assert.match(
            p.tasks[0].reasons[0],
            new RegExp(`purged ${primaryUuid}:\\d+(-\\d+)? that DM has not replicated yet \\(gtid-S ⊉ gtid-P\\)`),
        );
        const g = await gtidCheck(syncer[0], purged, await gtidOf(sb.replica));
        assert.equal(g.code, 3, g.err);
        assert.equal(await sb.vipTarget(), "primary");
    } finally {
        for (const t of names) {
            await dm.resumeTask(t, [sb.source.id]);
        }
    }
    await waitForStage(dm, names, sb.source.id, ["Running"], { intervalMs: 50, timeoutMs: 20_000 });
    await syncerReachesPrimary();
    assert.deepEqual((await preflight(argsFor())).reasons, [], "allowed again once DM replicated past what was purged");
    await assertUnchanged();
});

async function waitFor(ok: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
    await within(`${what} within ${timeoutMs} ms`, async () => (await ok()) || undefined, {
        intervalMs: 200,
        timeoutMs,
    });
}
