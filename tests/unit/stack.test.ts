/**
 * The program (index.ts) on Pulumi.prod.yaml under Pulumi's mocks: which resources each source becomes,
 * their inputs, which ones carry dm-switch's hooks, and that passwords travel as secrets. The AWS
 * provider plugin cannot run here, so the mocks stand in for the engine; the real engine runs this
 * program in the integration tests against the sandbox.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import yaml from "js-yaml";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    /** The request's properties as sent to the engine (secrets still wrapped). */
    wire: Record<string, unknown>;
    hooks: { beforeUpdate: string[]; afterUpdate: string[]; onError: string[] };
    /** URNs the resource depends on (`dependsOn`). */
    dependencies: string[];
}

/** The parts of the engine's RegisterResourceRequest the test reads. */
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getHooks?():
        { getBeforeUpdateList(): string[]; getAfterUpdateList(): string[]; getOnErrorList(): string[] } | undefined;
    getDependenciesList(): string[];
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const registered: Registered[] = [];
const hookNames: string[] = [];
const errorHookNames: string[] = [];
const requests = new Map<string, Pick<Registered, "wire" | "hooks" | "dependencies">>();
const byName = (name: string): Registered => {
    const r = registered.find((x) => x.name === name);
    assert.ok(r, `resource ${name} was not registered; registered: ${registered.map((x) => x.name).join(", ")}`);
    return { ...r, ...requests.get(`${r.type}::${r.name}`) };
};

before(async () => {
    const root = path.resolve(__dirname, "..", "..");
    const doc = yaml.load(fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config)) {
        const secure = typeof value === "object" && value !== null && "secure" in value;
        // The file's secure values are placeholders: the test gives them values of its own.
        const plain =
            key === "dm-switch:passwords"
                ? {
                      "mysql-orders": "pw-orders",
                      "mysql-billing": "pw-billing",
                      "mysql-ledger": "pw-ledger",
                      "mysql-audit": "pw-audit",
                  }
                : secure
                  ? "pw-downstream"
                  : value;
        config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secure) {
            secretKeys.push(key);
        }
    }
    // A TLS client key, set as a secret of its own (Pulumi.prod.yaml has none: the test adds one).
    config["dm-switch:dmTlsKey"] = "pw-tls-key";
    secretKeys.push("dm-switch:dmTlsKey");
    // Capture what the engine would receive, hooks included.
    const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
    const original = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (req: RegisterRequest, callback: unknown) {
        const hooks = req.getHooks?.();
        requests.set(`${req.getType()}::${req.getName()}`, {
            wire: req.getObject()?.toJavaScript() ?? {},
            hooks: {
                beforeUpdate: hooks?.getBeforeUpdateList() ?? [],
                afterUpdate: hooks?.getAfterUpdateList() ?? [],
                onError: hooks?.getOnErrorList() ?? [],
            },
            dependencies: req.getDependenciesList(),
        });
        return original.call(this, req, callback);
    };
    // The mock engine has no hook registry: accept registrations as the engine would, and keep their names.
    MockMonitor.prototype.registerResourceHook = function (
        req: { getName(): string },
        callback: (err: null, res: object) => void,
    ) {
        hookNames.push(req.getName());
        callback(null, {});
    };
    MockMonitor.prototype.registerErrorHook = function (
        req: { getName(): string },
        callback: (err: null, res: object) => void,
    ) {
        errorHookNames.push(req.getName());
        callback(null, {});
    };
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                registered.push({
                    type: args.type,
                    name: args.name,
                    inputs: args.inputs,
                    wire: {},
                    hooks: { beforeUpdate: [], afterUpdate: [], onError: [] },
                    dependencies: [],
                });
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) => args.inputs,
        },
        "dm-switch",
        "prod",
        false,
    );
    pulumi.runtime.setAllConfig(config, secretKeys);
    const program = await import(path.join(root, "index.ts"));
    const sources = program.sources as Record<string, pulumi.Output<string>>;
    await Promise.all(Object.values(sources).map((o) => new Promise((resolve) => o.apply(resolve))));
    // Registration requests are sent after inputs resolve: wait until the runtime has none in flight (a
    // fixed pause lost the hooked VIP, which loads @pulumi/aws first, on a busy machine).
    await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
});

test("mysql-orders: an aws.route53.Record carrying the hooks, its VipIntent, and a binding at the record's name", () => {
    const record = byName("mysql-orders-vip");
    assert.equal(record.type, "aws:route53/record:Record");
    assert.deepEqual(record.inputs.records, ["10.20.1.11"]);
    assert.equal(record.inputs.type, "A");
    assert.equal(record.inputs.zoneId, "Z0123456789ABCDEFGHIJ");
    assert.equal(record.inputs.name, "orders-db.internal.example.com");
    assert.deepEqual(record.hooks, {
        beforeUpdate: ["mysql-orders-vip-dm-guard"],
        afterUpdate: [],
        onError: ["mysql-orders-vip-dm-on-error"],
    });
    const intent = byName("mysql-orders-vip-intent");
    assert.equal(intent.type, "pulumi-nodejs:dynamic/dm-switch:VipIntent");
    assert.equal(intent.inputs.target, "mysql-a");
    assert.equal(intent.inputs.sourceId, "mysql-orders");
    assert.equal(intent.inputs.vipResource, "aws.route53.Record mysql-orders-vip");
    const binding = byName("mysql-orders-binding");
    assert.equal(binding.type, "pulumi-nodejs:dynamic/dm-switch:SourceBinding");
    assert.equal(binding.inputs.host, "orders-db.internal.example.com");
    assert.equal(binding.inputs.enableGtid, true);
});

test("mysql-billing: the dynamic Vip with the ENI backend, no hooks", () => {
    const vip = byName("mysql-billing-vip");
    assert.equal(vip.type, "pulumi-nodejs:dynamic/dm-switch:Vip");
    assert.deepEqual(vip.inputs.backend, {
        kind: "eni",
        privateIp: "10.20.1.50",
        enis: { "mysql-a": "eni-0a1b2c3d4e5f60001", "mysql-b": "eni-0a1b2c3d4e5f60002" },
    });
    assert.equal(vip.inputs.target, "mysql-a");
    assert.deepEqual(vip.inputs.instances, {
        "mysql-a": { host: "10.20.1.11", port: 3306 },
        "mysql-b": { host: "10.20.1.12", port: 3306 },
    });
    assert.deepEqual(vip.hooks, { beforeUpdate: [], afterUpdate: [], onError: [] });
    // The mocks hand a secret input over still wrapped: {<sig>: <secret sig>, value}.
    const dm = (vip.inputs.dm as { value: { tls: { ca: string; key: string } } }).value;
    assert.match(dm.tls.ca, /BEGIN CERTIFICATE/);
    assert.equal(dm.tls.key, "pw-tls-key", "dm-switch:dmTlsKey joins the DM endpoint");
});

test("mysql-ledger: a command.local.Command running the site script with the target in its environment, hooked", () => {
    const cmd = byName("mysql-ledger-vip");
    assert.equal(cmd.type, "command:local:Command");
    assert.equal(cmd.inputs.create, '/opt/dm-switch/keepalived-promote.sh "$DM_SWITCH_VALUE"');
    assert.equal(
        cmd.inputs.update,
        undefined,
        "no update command: a changed target runs create as an update, inside the update hooks",
    );
    assert.deepEqual(cmd.inputs.environment, {
        DM_SWITCH_TARGET: "mysql-a",
        DM_SWITCH_VALUE: "db-a.internal.example.com",
    });
    assert.deepEqual(cmd.hooks, {
        beforeUpdate: ["mysql-ledger-vip-dm-guard"],
        afterUpdate: [],
        onError: ["mysql-ledger-vip-dm-on-error"],
    });
    assert.equal(byName("mysql-ledger-vip-intent").inputs.target, "mysql-a");
});

test("mysql-audit: address mode is a SourceBinding at the instance's own address, no VIP", () => {
    const binding = byName("mysql-audit-binding");
    assert.equal(binding.inputs.host, "10.20.1.11");
    assert.equal(binding.inputs.port, 3306);
    assert.equal(binding.inputs.instance, "mysql-a");
    assert.equal(binding.inputs.enableRelay, true);
    assert.equal(
        binding.inputs.advanceTimeoutMs,
        120000,
        "the source's wait for its syncers after a switch reaches the binding",
    );
    assert.ok(!registered.some((r) => r.name === "mysql-audit-vip"));
});

test("each hooked VIP registers its guard and its error hook with the engine, once", () => {
    assert.deepEqual([...hookNames].sort(), ["mysql-ledger-vip-dm-guard", "mysql-orders-vip-dm-guard"]);
    assert.deepEqual([...errorHookNames].sort(), ["mysql-ledger-vip-dm-on-error", "mysql-orders-vip-dm-on-error"]);
});

test("a hooked VIP's switch is ordered VipIntent (pause) → the hooked resource (move) → VipResume (verify, resume)", () => {
    for (const [source, type] of [
        ["mysql-orders", "aws:route53/record:Record"],
        ["mysql-ledger", "command:local:Command"],
    ]) {
        const mover = byName(`${source}-vip`);
        const intent = byName(`${source}-vip-intent`);
        const resume = byName(`${source}-vip-resume`);
        const binding = byName(`${source}-binding`);
        const urn = (r: Registered) => `urn:pulumi:prod::dm-switch::dm-switch:index:Source$${r.type}::${r.name}`;
        assert.equal(resume.type, "pulumi-nodejs:dynamic/dm-switch:VipResume");
        assert.deepEqual(
            intent.dependencies,
            [urn(binding)],
            `${source}: the intent pauses once the binding is in place`,
        );
        assert.deepEqual(
            mover.dependencies,
            [urn(intent)],
            `${source}: the ${type} moves the VIP after the intent paused`,
        );
        assert.deepEqual(resume.dependencies, [urn(mover)], `${source}: VipResume verifies and resumes after the move`);
        // The intent runs the pause and the rule's wait: the source's timeouts reach it; the resume's waits too.
        assert.equal(
            intent.inputs.vipResource,
            `${type === "command:local:Command" ? "command.local.Command" : "aws.route53.Record"} ${source}-vip`,
        );
        assert.equal(resume.inputs.vipResource, intent.inputs.vipResource);
        assert.equal(
            resume.inputs.target,
            undefined,
            "the resume's target is the pending switch's, not an input of its own",
        );
    }
});

test("passwords reach the engine only as secrets", () => {
    for (const name of [
        "mysql-orders-binding",
        "mysql-billing-vip",
        "mysql-orders-vip-intent",
        "mysql-orders-vip-resume",
        "mysql-ledger-vip-resume",
        "mysql-audit-binding",
    ]) {
        const wire = byName(name).wire as Record<string, { [k: string]: unknown }>;
        assert.equal(
            wire.password?.["4dabf18193072939515e22adb298388d"],
            SECRET_SIG,
            `${name}.password must be a secret on the wire`,
        );
    }
    const audit = byName("mysql-audit-binding").wire as Record<string, { [k: string]: unknown }>;
    assert.equal(audit.downstreamPassword?.["4dabf18193072939515e22adb298388d"], SECRET_SIG);
    for (const name of [
        "mysql-orders-binding",
        "mysql-billing-vip",
        "mysql-ledger-vip-intent",
        "mysql-ledger-vip-resume",
    ]) {
        const wire = byName(name).wire as Record<string, { [k: string]: unknown }>;
        assert.equal(
            wire.dm?.["4dabf18193072939515e22adb298388d"],
            SECRET_SIG,
            `${name}.dm holds the TLS key: it must be a secret on the wire`,
        );
    }
    const plainTexts = registered.map((r) =>
        JSON.stringify({ ...r.wire, password: undefined, downstreamPassword: undefined, dm: undefined }),
    );
    for (const pw of ["pw-orders", "pw-billing", "pw-ledger", "pw-audit", "pw-downstream", "pw-tls-key"]) {
        assert.ok(!plainTexts.some((t) => t.includes(pw)), `${pw} appears outside a secret`);
    }
});
