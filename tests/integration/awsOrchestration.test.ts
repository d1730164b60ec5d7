/**
 * The whole orchestration with the AWS VIP backends: this project's program run by the real Pulumi CLI
 * against the sandbox (real dm-master/dm-worker replicating MariaDB), its source's Vip moving a Route53
 * record, then an ENI secondary IP, on a moto server started on loopback, under a write load.
 *
 * moto moves no packets: DM keeps reading through the sandbox's HAProxy address, and the Vip verifies
 * each move through the backend (`verify: "backend"`). What is real: the pause and resume of DM's
 * tasks, the rule checked against the replica, the AWS-side state, downstream = upstream. A zone that
 * does not exist fails `pulumi up` in the backend's preflight, before any task is paused.
 *
 * The fake AWS credentials live in the pulumi processes' environment only; the test's own SDK clients
 * get them as arguments.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createDmClient, DmClient } from "../../components/dm";
import { sleep } from "../../components/util/poll";
import { Sandbox, startSandbox } from "../../sandbox";
import { startLoad } from "../../sandbox/load";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { Moto, startMoto } from "../../tools/moto";
import { createSandboxStack, SandboxSourceOptions, SandboxStack } from "../../tools/sandboxStack";
import { FAKE_CREDENTIALS, MotoAws, REGION } from "../support/moto";

const RECORD = "mysql.db.internal";
/** The ENI secondary IP that is the VIP. */
const VIP_IP = "10.0.1.100";
/** Each instance's address in the (fake) VPC: the Route53 record's values and the ENIs' primary IPs. */
const VPC_IP = { primary: "10.0.1.10", replica: "10.0.1.11" };

let sb: Sandbox;
let moto: Moto;
let stack: SandboxStack;
let dm: DmClient;
let aws: MotoAws;
let zoneId = "";
const eni = { primary: "", replica: "" };

/** The source's configuration with a Route53 (zone `zone`) or ENI Vip on moto, verified through the backend. */
function config(kind: "route53" | "eni", reads: "primary" | "replica", zone = zoneId): SandboxSourceOptions {
    // moto moves no packets: the mapping cannot be proved through the VIP nor by address (trustMapping).
    const api = { endpoint: moto.endpoint, region: REGION, intervalMs: 50, trustMapping: true };
    const aws: SandboxSourceOptions["aws"] =
        kind === "route53"
            ? { route53: { ...api, zoneId: zone, recordName: RECORD, ttl: 1, values: { ...VPC_IP } } }
            : { eni: { ...api, privateIp: VIP_IP, enis: { ...eni } } };
    return { mode: "vip", reads, aws, verify: "backend" };
}

before(async () => {
    const t = Date.now();
    // Both in parallel; whichever started is stopped by after() when the other fails.
    const [s, m] = await Promise.allSettled([startSandbox({ tasks: 2 }), startMoto()]);
    sb = s.status === "fulfilled" ? s.value : (undefined as unknown as Sandbox);
    moto = m.status === "fulfilled" ? m.value : (undefined as unknown as Moto);
    for (const r of [s, m]) {
        if (r.status === "rejected") {
            throw r.reason;
        }
    }
    console.log(`sandbox and moto started in ${Date.now() - t} ms (moto at ${moto.endpoint})`);
    dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    aws = new MotoAws(moto, FAKE_CREDENTIALS);

    // One subnet, an ENI per instance, the VIP on the primary's ENI; a private zone whose record names the primary.
    const vpcId = await aws.vpc("10.0.0.0/16");
    const subnetId = await aws.subnet(vpcId, "10.0.1.0/24");
    for (const name of ["primary", "replica"] as const) {
        eni[name] = await aws.eni(subnetId, VPC_IP[name]);
    }
    await aws.assign(eni.primary, VIP_IP);
    zoneId = await aws.privateZone(vpcId, `dm-switch-orchestration-${process.pid}`);
    await aws.upsert(zoneId, RECORD, "A", VPC_IP.primary);

    const env = {
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        AWS_REGION: REGION,
        AWS_EC2_METADATA_DISABLED: "true",
    };
    stack = await createSandboxStack(sb, config("route53", "primary"), { env });
});

after(async () => {
    await stack?.dispose();
    await Promise.all([sb?.stop(), moto?.stop()]);
});

/** Each task's stage on the source, as DM reports it. */
async function stages(): Promise<string[]> {
    const all = await Promise.all(sb.tasks.map((t) => dm.taskStatus(t.name, sb.source.id)));
    return all.flat().map((s) => `${s.task}:${s.stage}`);
}

const running = () => sb.tasks.map((t) => `${t.name}:Running`);

/** The record's value as Route53 (moto) holds it. */
async function recordValue(): Promise<string> {
    return (await aws.record(zoneId, RECORD, "A"))?.values.join(",") ?? "";
}

/** Which instances' ENIs hold the VIP, as EC2 (moto) reports it. */
async function vipHolders(): Promise<string[]> {
    return aws.holders(eni, VIP_IP);
}

/** Lines of the switch executor: "step 3/9 done in 12 ms: …" or "step 3 failed …". */
const STEP = /step \d+(\/\d+ done| failed)/;

async function up(): Promise<{ code: number; output: string; ms: number }> {
    return stack.run(["up", "--yes", "--skip-preview"]);
}

/** Switches to the replica under a write load via the primary; asserts the steps, Running tasks and no row lost. */
async function switchUnderLoad(kind: "route53" | "eni"): Promise<void> {
    const load = startLoad(sb, { rowsPerSec: 200, via: "primary" });
    await sleep(1500);
    stack.configure(config(kind, "replica"));
    const r = await up();
    const written = await load.stop();
    assert.equal(r.code, 0, r.output);
    // One step pauses (resumes) every task in parallel: "step 1/7 done in 9 ms: dmctl … pause-task t0 -s s; dmctl …".
    for (const cmd of ["pause-task", "resume-task"]) {
        for (const t of sb.tasks) {
            const line = new RegExp(
                `step \\d+/\\d+ done in \\d+ ms: [^\\n]*dmctl --master-addr \\S+ ${cmd} ${t.name} -s ${sb.source.id}`,
            );
            assert.match(r.output, line, `${cmd} ${t.name} ran`);
        }
    }
    assert.match(r.output, /step \d+\/\d+ done in \d+ ms: point the VIP at replica \(was primary\)/);
    assert.match(r.output, /verified through the backend, not the VIP's address: .* points at replica/);
    const paused = /replication was paused for (\d+) ms/.exec(r.output);
    assert.ok(paused, `the paused time is reported:\n${r.output}`);
    console.log(
        `${kind} switch to the replica with ${sb.tasks.length} tasks: replication paused ${paused[1]} ms; pulumi up took ${r.ms} ms; ${written.written} rows written during it`,
    );
    assert.deepEqual(await stages(), running());
    const v = await verifyReplicated(sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
    const expectedLastSeq = Object.fromEntries(
        Object.entries(written.schemas).map(([schema, l]) => [schema, l.lastSeq]),
    );
    const seqs = await checkSequences(sb, { expectedLastSeq });
    assert.ok(
        Object.values(seqs).every((s) => s.ok),
        `no row lost or duplicated downstream: ${JSON.stringify(seqs)}`,
    );
    assert.ok(written.written > 0);
}

test("route53: the first pulumi up adopts the source and the record without pausing anything", async () => {
    const r = await up();
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, STEP);
    assert.equal(await recordValue(), VPC_IP.primary);
    assert.deepEqual(await stages(), running());
});

test("route53: pulumi up switches primary → replica under load; the record names the replica", async () => {
    await switchUnderLoad("route53");
    assert.equal(await recordValue(), VPC_IP.replica);
    const state = await stack.exportState();
    const vip = state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:Vip");
    assert.equal(vip?.outputs?.target, "replica");
    assert.equal(vip?.outputs?.verify, "backend");
    assert.deepEqual(vip?.outputs?.pausedByUs, []);
});

test("route53: a zone that does not exist fails pulumi up in preflight, before any task is paused", async () => {
    stack.configure(config("route53", "primary", "ZNOSUCHZONE123"));
    const r = await up();
    assert.notEqual(r.code, 0, r.output);
    assert.match(
        r.output,
        /backend\.zoneId: hosted zone ZNOSUCHZONE123 does not exist \(or these credentials cannot see it\); set backend\.zoneId to the zone holding mysql\.db\.internal/,
    );
    assert.doesNotMatch(r.output, STEP, "no step of the switch ran");
    assert.equal(await recordValue(), VPC_IP.replica);
    assert.deepEqual(await stages(), running());
});

test("eni: pulumi up with the ENI backend adopts where the IP is, then switches primary → replica under load", async () => {
    stack.configure(config("eni", "primary"));
    const adopt = await up();
    assert.equal(adopt.code, 0, adopt.output);
    assert.doesNotMatch(adopt.output, STEP);
    assert.deepEqual(await vipHolders(), ["primary"]);
    await switchUnderLoad("eni");
    assert.deepEqual(await vipHolders(), ["replica"]);
});
