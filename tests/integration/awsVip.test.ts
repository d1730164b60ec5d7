/**
 * The Route53 and ENI VIP backends against a real moto server started on loopback: AWS-side state is
 * read back with the SDK after every move, and every bad input of issue 9 fails before any change.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { UnassignPrivateIpAddressesCommand } from "@aws-sdk/client-ec2";
import { awsVipBackend } from "../../components/vipBackends/aws";
import { EniBackendInputs, Route53BackendInputs } from "../../components/vipBackends/awsInputs";
import { EniVip } from "../../components/vipBackends/eni";
import { Route53Vip } from "../../components/vipBackends/route53";
import { Moto, startMoto } from "../../tools/moto";
import { FAKE_CREDENTIALS, MotoAws, REGION } from "../support/moto";

const VIP = "10.0.1.100";
/** Held by an ENI of the subnet that no backend lists. */
const FOREIGN = "10.0.1.101";
// Fake credentials for moto, in this test process's environment only (the SDK's standard chain reads them).
const FAKE_ENV = {
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
};
let restoreEnv: () => void;
let moto: Moto;
let aws: MotoAws;
let zoneId: string;
const eni = { a: "", b: "", other: "" };
const subnet = { a: "", other: "" };

/** Sets environment variables (undefined: unset) of this process; returns what restores them. */
function setEnv(env: Record<string, string | undefined>): () => void {
    const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    const set = (vars: Record<string, string | undefined>) =>
        Object.entries(vars).forEach(([k, v]) => (v === undefined ? delete process.env[k] : (process.env[k] = v)));
    set(env);
    return () => set(old);
}

async function withEnv(env: Record<string, string | undefined>, fn: () => Promise<void>): Promise<void> {
    const restore = setEnv(env);
    try {
        await fn();
    } finally {
        restore();
    }
}

before(async () => {
    restoreEnv = setEnv(FAKE_ENV);
    let t = Date.now();
    moto = await startMoto();
    console.log(`moto started in ${Date.now() - t} ms at ${moto.endpoint}`);
    t = Date.now();
    // The SDK's standard chain reads the fake credentials from this process's environment.
    aws = new MotoAws(moto);

    const vpcId = await aws.vpc("10.0.0.0/16");
    [subnet.a, subnet.other] = [await aws.subnet(vpcId, "10.0.1.0/24"), await aws.subnet(vpcId, "10.0.2.0/24")];
    eni.a = await aws.eni(subnet.a, "10.0.1.10");
    eni.b = await aws.eni(subnet.a, "10.0.1.11");
    eni.other = await aws.eni(subnet.other, "10.0.2.10");
    await aws.assign(eni.a, VIP);
    await aws.assign(eni.b, FOREIGN);

    zoneId = await aws.privateZone(vpcId, `dm-switch-${Date.now()}`, "dm-switch test");
    await upsert("mysql.db.internal", "A", "10.0.1.10");
    await upsert("cname.db.internal", "CNAME", "a.db.internal");
    await upsert("stranger.db.internal", "A", "10.0.1.99");
    await upsert("split.db.internal", "A", "10.0.1.10", "10.0.1.11");
    console.log(`VPC, subnets, ENIs, zone and records created in ${Date.now() - t} ms`);
});

after(async () => {
    await moto?.stop();
    restoreEnv?.();
});

async function upsert(name: string, type: "A" | "CNAME", ...values: string[]) {
    await aws.upsert(zoneId, name, type, ...values);
}

/** The record as Route53 holds it: "TYPE TTL value,…", or "none". */
async function record(name: string, type: string): Promise<string> {
    const r = await aws.record(zoneId, name, type);
    return r ? `${r.type} ${r.ttl} ${r.values.join(",")}` : "none";
}

/** Which of the test's ENIs ("a", "b", "other") hold `ip`, as EC2 reports it. */
async function holders(ip: string): Promise<string[]> {
    return aws.holders(eni, ip);
}

const route53 = (over: Partial<Route53BackendInputs> = {}): Route53Vip =>
    awsVipBackend({
        kind: "route53",
        zoneId,
        recordName: "mysql.db.internal",
        ttl: 1,
        values: { "mysql-a": "10.0.1.10", "mysql-b": "10.0.1.11" },
        endpoint: moto.endpoint,
        intervalMs: 50,
        ...over,
    } as Route53BackendInputs) as Route53Vip;

const eniVip = (over: Partial<EniBackendInputs> = {}): EniVip =>
    awsVipBackend({
        kind: "eni",
        privateIp: VIP,
        enis: { "mysql-a": eni.a, "mysql-b": eni.b },
        endpoint: moto.endpoint,
        intervalMs: 50,
        ...over,
    } as EniBackendInputs) as EniVip;

test("route53: reads the record, moves it both ways and waits out the old TTL", async () => {
    const vip = route53();
    assert.ok(vip instanceof Route53Vip);
    await vip.preflight();
    assert.equal(await vip.current(), "mysql-a");
    for (const [to, value] of [
        ["mysql-b", "10.0.1.11"],
        ["mysql-a", "10.0.1.10"],
    ]) {
        const t = Date.now();
        await vip.moveTo(to);
        console.log(`route53 move to ${to}: ${Date.now() - t} ms (${JSON.stringify(vip.lastMove)})`);
        assert.equal(await record("mysql.db.internal", "A"), `A 1 ${value}`);
        assert.equal(await vip.current(), to);
        assert.ok(vip.lastMove!.ttlWaitMs >= 1000, "the old record's 1 s TTL was waited out");
    }
    const again = route53();
    await again.moveTo("mysql-a");
    assert.equal(again.lastMove, undefined, "moving to where the record points already changes nothing");
});

test("route53: creates a CNAME record that does not exist yet", async () => {
    const vip = route53({
        recordName: "vip2.db.internal",
        values: { "mysql-a": "a.db.internal", "mysql-b": "b.db.internal" },
    });
    await vip.preflight();
    assert.equal(await vip.current(), undefined);
    await vip.moveTo("mysql-b");
    assert.equal(await record("vip2.db.internal", "CNAME"), "CNAME 1 b.db.internal");
    assert.equal(vip.lastMove!.ttlWaitMs < 1000, true, "no old value, so no TTL to wait out");
    assert.equal(await vip.current(), "mysql-b");
});

test("route53: reports a record holding two instances' values as a split", async () => {
    await assert.rejects(route53({ recordName: "split.db.internal" }).current(), {
        name: "VipSplitError",
        message: `Route53 A record split.db.internal in zone ${zoneId} points at mysql-a and mysql-b at once, so DM's connections may reach different servers; leave exactly one enabled (dm-switch will not guess which).`,
    });
});

const badRoute53: { name: string; over: () => Partial<Route53BackendInputs>; message: () => string }[] = [
    {
        name: "an unknown zone",
        over: () => ({ zoneId: "ZNOSUCHZONE123" }),
        message: () =>
            "backend.zoneId: hosted zone ZNOSUCHZONE123 does not exist (or these credentials cannot see it); set backend.zoneId to the zone holding mysql.db.internal (aws route53 list-hosted-zones).",
    },
    {
        name: "a CNAME record where the values make an A record",
        over: () => ({ recordName: "cname.db.internal" }),
        message: () =>
            `backend.recordType: cname.db.internal in zone ${zoneId} is a CNAME record, but backend.values make it A; set backend.values (or recordType) to match the record, or delete the CNAME record first.`,
    },
    {
        name: "an A record where the values make a CNAME record",
        over: () => ({ values: { "mysql-a": "a.db.internal", "mysql-b": "b.db.internal" } }),
        message: () =>
            `backend.recordType: mysql.db.internal in zone ${zoneId} is a A record, but backend.values make it CNAME; set backend.values (or recordType) to match the record, or delete the A record first.`,
    },
    {
        name: "a record name outside the zone",
        over: () => ({ recordName: "mysql.other.internal" }),
        message: () =>
            `backend.recordName: mysql.other.internal is not inside zone ${zoneId} (db.internal); set backend.recordName to a name ending in .db.internal.`,
    },
    {
        name: "a record holding no instance's value",
        over: () => ({ recordName: "stranger.db.internal" }),
        message: () =>
            `Route53 A record stranger.db.internal in zone ${zoneId} holds 10.0.1.99, which is not the value of any instance (10.0.1.10, 10.0.1.11); set the record to one of them by hand, or add the instance to backend.values.`,
    },
];

for (const c of badRoute53) {
    test(`route53: preflight rejects ${c.name} and changes nothing`, async () => {
        const before = await record("mysql.db.internal", "A");
        await assert.rejects(route53(c.over()).preflight(), { message: c.message() });
        assert.equal(await record("mysql.db.internal", "A"), before);
    });
}

test("eni: reads the holder, moves the IP both ways, and EC2 shows it on the target only", async () => {
    const vip = eniVip();
    assert.ok(vip instanceof EniVip);
    await vip.preflight();
    assert.equal(await vip.current(), "mysql-a");
    assert.deepEqual(await holders(VIP), ["a"]);
    for (const [to, on] of [
        ["mysql-b", "b"],
        ["mysql-a", "a"],
    ]) {
        const t = Date.now();
        await vip.moveTo(to);
        console.log(`eni move to ${to}: ${Date.now() - t} ms (${JSON.stringify(vip.lastMove)})`);
        assert.deepEqual(await holders(VIP), [on]);
        assert.equal(await vip.current(), to);
    }
    const again = eniVip();
    await again.moveTo("mysql-a");
    assert.equal(again.lastMove, undefined, "moving to where the IP is already changes nothing");
});

const badEni: { name: string; over: () => Partial<EniBackendInputs>; message: () => string }[] = [
    {
        name: "an ENI in another subnet",
        over: () => ({ enis: { "mysql-a": eni.a, "mysql-c": eni.other } }),
        message: () =>
            `backend.enis: mysql-a (${eni.a}) is in ${subnet.a} but mysql-c (${eni.other}) is in ${subnet.other}; a secondary private IP moves only between ENIs of one subnet: choose ENIs in one subnet.`,
    },
    {
        name: "an ENI that does not exist",
        over: () => ({ enis: { "mysql-a": eni.a, "mysql-b": "eni-0000000000000dead" } }),
        message: () =>
            "backend.enis.mysql-b: ENI eni-0000000000000dead does not exist (or these credentials cannot see it); set it to the ENI id of that instance's host (aws ec2 describe-network-interfaces).",
    },
    {
        name: "an IP outside the ENIs' subnet",
        over: () => ({ privateIp: "10.0.2.100" }),
        message: () =>
            `backend.privateIp: 10.0.2.100 is outside ${subnet.a} (10.0.1.0/24) of the ENIs; choose a free address in 10.0.1.0/24.`,
    },
    {
        name: "an IP held by an ENI that is not listed",
        over: () => ({ privateIp: FOREIGN, enis: { "mysql-a": eni.a } }),
        message: () =>
            `ENI secondary IP ${FOREIGN} is held by ${eni.b}, which is not in backend.enis (${eni.a}); unassign it there, or add that host's instance to backend.enis.`,
    },
    {
        name: "an ENI's primary address",
        over: () => ({ privateIp: "10.0.1.11" }),
        message: () =>
            `backend.privateIp: 10.0.1.11 is the primary address of ${eni.b}, which cannot move; choose a free secondary address in 10.0.1.0/24.`,
    },
];

for (const c of badEni) {
    test(`eni: preflight rejects ${c.name} and changes nothing`, async () => {
        await assert.rejects(eniVip(c.over()).preflight(), { message: c.message() });
        assert.deepEqual(await holders(VIP), ["a"]);
    });
}

/** No credentials and no region anywhere the SDK's standard chain looks (nor the instance metadata service). */
const absent = path.join(os.tmpdir(), `dm-switch-absent-${process.pid}`);
const UNSET =
    "ACCESS_KEY_ID SECRET_ACCESS_KEY SESSION_TOKEN PROFILE REGION WEB_IDENTITY_TOKEN_FILE CONTAINER_CREDENTIALS_RELATIVE_URI CONTAINER_CREDENTIALS_FULL_URI";
const NOTHING_CONFIGURED = {
    ...Object.fromEntries(UNSET.split(" ").map((k) => [`AWS_${k}`, undefined])),
    AWS_SHARED_CREDENTIALS_FILE: path.join(absent, "credentials"),
    AWS_CONFIG_FILE: path.join(absent, "config"),
    AWS_EC2_METADATA_DISABLED: "true",
};

test("missing credentials fail before anything changes, naming the backend and the remedy", async () => {
    await withEnv({ ...NOTHING_CONFIGURED, AWS_REGION: REGION }, async () => {
        const reason = (kind: string) =>
            `no AWS credentials for the ${kind} backend (CredentialsProviderError: Could not load credentials from any providers); ` +
            "set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or task role provides them.";
        const r53Message = `${route53().description}: ${reason("route53")}`;
        const eniMessage = `${eniVip().description}: ${reason("eni")}`;
        await assert.rejects(route53().preflight(), { message: r53Message });
        await assert.rejects(route53().moveTo("mysql-b"), { message: r53Message });
        await assert.rejects(eniVip().preflight(), { message: eniMessage });
        await assert.rejects(eniVip().moveTo("mysql-b"), { message: eniMessage });
    });
    assert.equal(await record("mysql.db.internal", "A"), "A 1 10.0.1.10");
    assert.deepEqual(await holders(VIP), ["a"]);
});

test("an ENI backend without any region names backend.region", async () => {
    await withEnv({ ...NOTHING_CONFIGURED, ...FAKE_CREDENTIALS, AWS_REGION: undefined }, async () => {
        await assert.rejects(eniVip().preflight(), {
            message:
                "backend.region: no AWS region for the eni backend (Error: Region is missing); set backend.region, AWS_REGION or the profile's region.",
        });
    });
});

/** The IAM policies of docs/aws.md: the actions each statement allows, by backend. */
function documentedActions(): Record<string, string[]> {
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "aws.md"), "utf8");
    const out: Record<string, string[]> = {};
    for (const m of doc.matchAll(/<!-- iam-policy: (\w+) -->\s*```json\n([\s\S]*?)```/g)) {
        const policy = JSON.parse(m[2]) as { Statement: { Effect: string; Action: string | string[] }[] };
        out[m[1]] = policy.Statement.filter((st) => st.Effect === "Allow").flatMap((st) => st.Action);
    }
    return out;
}

/** Preflight, read, a move away and back: every call a switch makes. */
async function roundTrip(vip: Route53Vip | EniVip): Promise<void> {
    await vip.preflight();
    const from = (await vip.current()) ?? "mysql-a";
    await vip.moveTo(from === "mysql-a" ? "mysql-b" : "mysql-a");
    await vip.moveTo(from);
}

/** Puts the VIP back on ENI a alone (moto ignores an unassign or assign that is already so). */
async function vipOnA(): Promise<void> {
    for (const id of [eni.b, eni.other]) {
        await aws.ec2.send(
            new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: id, PrivateIpAddresses: [VIP] }),
        );
    }
    await aws.assign(eni.a, VIP);
}

const iamCases = {
    route53: {
        vip: () => route53({ recordName: "iam.db.internal", ttl: 0 }),
        state: () => record("iam.db.internal", "A"),
        end: "A 0 10.0.1.10",
    },
    eni: { vip: () => eniVip(), state: async () => (await holders(VIP)).join(), end: "a" },
};

for (const [kind, c] of Object.entries(iamCases)) {
    test(`iam: the documented ${kind} policy allows a switch, and it fails without any one of its actions`, async () => {
        const actions = documentedActions()[kind];
        assert.ok(actions?.length, `docs/aws.md has an iam-policy block for ${kind}`);
        console.log(`${kind} policy actions: ${actions.join(", ")}`);
        for (const [i, drop] of [undefined, ...actions].entries()) {
            // moto evaluates actions only: the documented Resource and Condition scoping is not exercised.
            const statement = { Effect: "Allow", Action: actions.filter((a) => a !== drop), Resource: "*" };
            const key = await moto.iamUser(`${kind}-${i}`, { Version: "2012-10-17", Statement: [statement] });
            const creds = { AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey };
            await moto.enforceIam(true);
            try {
                const run = withEnv(creds, () => roundTrip(c.vip()));
                if (drop === undefined) {
                    await run;
                } else {
                    const op = drop.split(":")[1];
                    await assert.rejects(run, { message: new RegExp(`: ${op}( (to|from) eni-[0-9a-f]+)? failed: `) });
                }
            } finally {
                await moto.enforceIam(false);
            }
            if (drop === undefined) {
                assert.equal(await c.state(), c.end, "the round trip ends where it started");
            }
            await vipOnA();
        }
    });
}
