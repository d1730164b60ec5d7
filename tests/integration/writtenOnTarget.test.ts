/**
 * Transactions written on the target itself while the tasks are paused for a switch (DM at this build can
 * skip them: README, Known limits) are found and reported: the switch executor with the real ports against
 * the sandbox (dm-master, dm-worker, MariaDB, HAProxy). A row is inserted on the target right after the
 * VIP moved, before the resume; the report names that transaction by the target's own server_id.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createDmClient } from "../../components/dm";
import { switchPorts } from "../../components/providers/ports";
import { executeSwitch, writtenOnTargetWarning } from "../../components/switch/execute";
import { planVipSwitch } from "../../components/switch/plan";
import { HaproxyVip } from "../../components/vipBackends/haproxy";
import { VipBackend } from "../../components/vipBackends/types";
import { Sandbox, startSandbox } from "../../sandbox";

let sb: Sandbox;

before(async () => {
    sb = await startSandbox({ tasks: 2 });
});

after(async () => {
    await sb?.stop();
});

/** Switches the VIP to `to` with the real ports; `duringPause` runs right after the VIP moved. */
async function switchTo(to: "primary" | "replica", duringPause?: () => Promise<void>) {
    const dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    const haproxy = new HaproxyVip({ socket: sb.vip.haproxySocket, backend: sb.vip.backend, servers: sb.vip.servers });
    const backend: VipBackend = {
        description: haproxy.description,
        current: () => haproxy.current(),
        async moveTo(target) {
            await haproxy.moveTo(target);
            await duringPause?.();
        },
    };
    const lines: string[] = [];
    const ports = switchPorts({
        dm,
        sourceId: sb.source.id,
        flavor: "mariadb",
        instances: {
            primary: { host: sb.primary.host, port: sb.primary.port },
            replica: { host: sb.replica.host, port: sb.replica.port },
        },
        user: sb.source.user,
        password: sb.source.password,
        log: (l) => lines.push(l),
        vip: { backend, address: { host: sb.vip.host, port: sb.vip.port } },
    });
    const from = await sb.vipTarget();
    const status = await ports.status(sb.tasks.map((t) => t.name));
    const plan = planVipSwitch({
        sourceId: sb.source.id,
        dmAddress: sb.dm.masterAddr,
        from,
        to,
        tasks: sb.tasks.map((t) => ({ name: t.name, stage: status.get(t.name)?.stage ?? "" })),
    });
    const report = await executeSwitch(plan, ports, { stageTimeoutMs: 30_000, advanceTimeoutMs: 60_000 });
    assert.equal(await sb.vipTarget(), to);
    return { report, lines };
}

test("a switch with nothing written on the target reports nothing", async () => {
    const { report } = await switchTo("replica");
    assert.equal(report.writtenOnTarget, undefined);
    assert.equal(writtenOnTargetWarning(report), undefined);
});

test("a row written on the target between the VIP move and the resume is reported by the target's own GTID", async () => {
    // The primary (server_id 1) is the target; it also replicates to the replica, so nothing diverges.
    const schema = sb.tasks[0].schema;
    const { report } = await switchTo("primary", async () => {
        await sb.primary.query(
            `INSERT INTO ${schema}.t (id, seq, payload) VALUES (900000101, 900000101, 'written on the target during the pause')`,
        );
    });
    assert.equal(report.writtenOnTarget?.target, "primary");
    assert.match(report.writtenOnTarget?.gtids ?? "", /^0-1-\d+$/, "one entry of the primary's own server_id");
    const [{ gtid }] = await sb.primary.query("SELECT @@gtid_binlog_pos AS gtid");
    assert.equal(report.writtenOnTarget?.gtids, gtid, "the primary's last transaction: the insert");
    assert.match(
        writtenOnTargetWarning(report) ?? "",
        /^transactions were written on primary itself while the tasks were paused for the switch: 0-1-\d+\. DM at this build can skip/,
    );
    // What DM did with it (the README's known limit): observed and printed, not asserted.
    let arrived = false;
    for (
        const deadline = Date.now() + 15_000;
        !arrived && Date.now() < deadline;
        await new Promise((r) => setTimeout(r, 200))
    ) {
        arrived = (await sb.downstream.query(`SELECT 1 FROM ${schema}.t WHERE id = 900000101`)).length > 0;
    }
    console.log(
        `  the row written on the target during the pause (${report.writtenOnTarget?.gtids}) reached the downstream within 15 s: ${arrived ? "yes" : "no"}`,
    );
});

test("a row written on the replica as the target is reported by its server_id (last: the replica then holds a row the primary lacks)", async () => {
    const schema = sb.tasks[1].schema;
    const { report } = await switchTo("replica", async () => {
        await sb.replica.query(
            `INSERT INTO ${schema}.t (id, seq, payload) VALUES (900000202, 900000202, 'written on the replica during the pause')`,
        );
    });
    assert.equal(report.writtenOnTarget?.target, "replica");
    assert.match(report.writtenOnTarget?.gtids ?? "", /^0-2-\d+$/, "one entry of the replica's own server_id");
    let arrived = false;
    for (
        const deadline = Date.now() + 15_000;
        !arrived && Date.now() < deadline;
        await new Promise((r) => setTimeout(r, 200))
    ) {
        arrived = (await sb.downstream.query(`SELECT 1 FROM ${schema}.t WHERE id = 900000202`)).length > 0;
    }
    console.log(
        `  the row written on the replica during the pause (${report.writtenOnTarget?.gtids}) reached the downstream within 15 s: ${arrived ? "yes" : "no"}`,
    );
});
