/**
 * The real proof of the policy pack: `pulumi preview --policy-pack policies` (Pulumi CLI 3.259, offline,
 * file backend) of a stack declaring one Vip (components/vip.ts) against the sandbox (real DM, MariaDB,
 * HAProxy). It passes for the healthy replica; it fails, naming the policy and the missing GTIDs, when
 * the replica lags with replication stopped, when the replica purged binlogs DM still needs, and when
 * the target cannot be reached; and `pulumi up --policy-pack policies` with a violation changes nothing.
 */
import assert from "node:assert/strict";
import { within } from "../support/wait";
import * as net from "node:net";
import { after, before, test } from "node:test";
import { createDmClient, DmClient, waitForStage } from "../../components/dm";
import { Sandbox, startSandbox } from "../../sandbox";
import { PolicyStack } from "../support/policyStack";
import { syncerRows } from "../support/syncerRows";

let sb: Sandbox;
let dm: DmClient;
let ps: PolicyStack;

before(async () => {
    sb = await startSandbox({ tasks: 2 });
    dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr });
    // The sandbox's source user lacks SLAVE MONITOR (SHOW ALL SLAVES STATUS): the admin reads the instances.
    ps = await PolicyStack.create(sb, "mariadb");
});

after(async () => {
    try {
        await ps?.stack.dispose();
    } finally {
        await sb?.stop();
    }
    for (const o of ps?.outputs ?? []) {
        assert.doesNotMatch(o, new RegExp(sb.admin.password), "the password never appears in Pulumi's output");
    }
});

const configure = (replicaPort: number) => ps.configure(replicaPort);

const pulumi = (args: string[]) => ps.pulumi(args);

const { seqOf, writeRows, syncerReaches } = syncerRows(
    () => sb,
    () => dm,
    "policy",
);

async function assertUnchanged(): Promise<void> {
    assert.equal(await sb.vipTarget(), "primary", "the VIP still points at the primary");
    for (const t of sb.tasks) {
        assert.equal((await dm.taskStatus(t.name, sb.source.id))[0].stage, "Running", `${t.name} still Running`);
    }
}

const VIOLATION = /\[mandatory\] {2}dm-gtid-containment {2}\(pulumi-nodejs:dynamic\/dm-switch:Vip: vip\)/;

test("a preview of the switch to the healthy replica passes the pack and changes nothing", async () => {
    const r = await pulumi(["preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /dm-switch@v0\.1\.0/);
    assert.doesNotMatch(r.output, /\[mandatory\]/);
    await assertUnchanged();
});

test("a preview fails when the replica lags with replication stopped, naming the policy and the missing GTIDs; so does pulumi up, changing nothing", async () => {
    await sb.replica.query("STOP SLAVE");
    try {
        const dmAt = await syncerReaches(await writeRows());
        const replicaSeq = await seqOf(sb.replica);
        const r = await pulumi(["preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, VIOLATION);
        for (const [i, t] of sb.tasks.entries()) {
            const at = Number(dmAt[i].split("-")[2]);
            const re = new RegExp(
                `DM source ${sb.source.id} must not read from replica \\(Vip vip\\): task ${t.name} \\(after waiting \\d+ ms for replica to catch up\\): ` +
                    `the target lacks transactions DM has already replicated \\(gtid-E ⊉ gtid-S\\): in domain 0 DM is at 0-1-(\\d+) while the target's binlog reaches only 0-1-${replicaSeq};`,
            );
            const m = re.exec(r.output);
            assert.ok(m, `the violation for ${t.name} is in the output:\n${r.output}`);
            assert.ok(Number(m[1]) >= at, "gtid-S as DM reported it at preview time");
        }
        await assertUnchanged();

        const up = await pulumi(["up", "--yes"]);
        assert.notEqual(up.code, 0, up.output);
        assert.match(up.output, VIOLATION);
        await assertUnchanged();
        const state = await ps.stack.exportState();
        assert.equal(
            state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:Vip"),
            undefined,
            "no Vip was created",
        );
    } finally {
        await sb.replica.query("START SLAVE");
    }
});

test("a preview fails when the replica purged binlogs DM still needs", async () => {
    const names = sb.tasks.map((t) => t.name);
    for (const t of names) {
        await dm.pauseTask(t, [sb.source.id]);
    }
    await waitForStage(dm, names, sb.source.id, ["Paused"], { intervalMs: 50, timeoutMs: 20_000 });
    try {
        await writeRows();
        const pos = String((await sb.primary.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g);
        assert.equal(Number((await sb.replica.query("SELECT MASTER_GTID_WAIT(?, 20) AS w", [pos]))[0].w), 0);
        await sb.replica.query("FLUSH BINARY LOGS");
        const current = String((await sb.replica.query("SHOW MASTER STATUS"))[0].File);
        // MariaDB keeps a binary log until its binlog checkpoint has moved on: retry the purge.
        await within(
            "the replica purged its old binary logs within 10 s",
            async () => {
                await sb.replica.query(`PURGE BINARY LOGS TO '${current}'`);
                return (await sb.replica.query("SHOW BINARY LOGS")).length <= 1 || undefined;
            },
            { intervalMs: 100, timeoutMs: 10_000 },
        );
        const r = await pulumi(["preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, VIOLATION);
        assert.match(
            r.output,
            new RegExp(
                `task ${names[0]}: the target has purged binlogs DM still needs \\(gtid-S ⊉ gtid-P\\): in domain 0 its oldest binlog starts after 0-1-\\d+ while DM is only at 0-1-\\d+`,
            ),
        );
        assert.equal(await sb.vipTarget(), "primary");
    } finally {
        for (const t of names) {
            await dm.resumeTask(t, [sb.source.id]);
        }
        await waitForStage(dm, names, sb.source.id, ["Running"], { intervalMs: 50, timeoutMs: 20_000 });
    }
});

test("a preview fails when the target cannot be reached: its safety cannot be proven", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    configure(port);
    try {
        const r = await pulumi(["preview"]);
        assert.notEqual(r.code, 0, r.output);
        for (const policy of ["dm-gtid-containment", "dm-enable-gtid", "dm-target-prerequisites"]) {
            assert.match(
                r.output,
                new RegExp(`\\[mandatory\\] {2}${policy} {2}\\(pulumi-nodejs:dynamic/dm-switch:Vip: vip\\)`),
            );
        }
        assert.match(
            r.output,
            new RegExp(
                `The safety of DM source ${sb.source.id} reading from replica \\(Vip vip\\) cannot be proven: target replica \\(127\\.0\\.0\\.1:${port}\\): probe of 127\\.0\\.0\\.1:${port} failed`,
            ),
        );
        assert.match(r.output, /Make DM and replica reachable from where the preview runs, then preview again\./);
        await assertUnchanged();
    } finally {
        configure(sb.replica.port);
    }
});
