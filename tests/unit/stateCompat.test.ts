/**
 * Stacks written by earlier versions keep working. Each dynamic resource's state holds its provider as text
 * (components/providers/host.cjs plus the line naming the implementation module by its path relative to the
 * project), and the engine hands that recorded text, not today's, to the provider host for the next
 * preview. So every module path ever written into a state must stay loadable with `export const provider`,
 * and a state recorded by today's code must diff as unchanged against the same inputs.
 */
import assert from "node:assert/strict";
import Module from "node:module";
import * as path from "node:path";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { providerText } from "../../components/providers/load";

type Provider = Required<pulumi.dynamic.ResourceProvider>;

/** Every implementation module path a state has held, by resource type (the text's `delegateTo` line). */
const RECORDED_MODULES: Record<string, string> = {
    Vip: "components/providers/vipProvider.ts",
    SourceBinding: "components/providers/sourceBindingProvider.ts",
    VipIntent: "components/providers/vipIntentProvider.ts",
    VipResume: "components/providers/vipResumeProvider.ts",
};

/** The methods each module's `provider` exports (the host's wrapper answers the others with defaults). */
const METHODS: Record<string, string[]> = {
    Vip: ["check", "create", "delete", "diff", "read", "update"],
    SourceBinding: ["check", "create", "delete", "diff", "read", "update"],
    VipIntent: ["check", "create", "diff", "update"],
    VipResume: ["create", "diff", "update"],
};

const root = path.resolve(__dirname, "..", "..");

/** What Pulumi's dynamic provider host does with `__provider` (as tests/unit/providerText.test.ts does). */
function evaluate(text: string): Provider {
    const m = new Module("", undefined) as Module & { _compile(code: string, filename: string): void };
    m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(process.cwd());
    m._compile(text, "");
    return (m.exports as { handler(): Provider }).handler();
}

/** The provider text of each resource type, as today's resource classes register it (under Pulumi's mocks). */
const written: Record<string, string> = {};

before(async () => {
    process.chdir(root);
    const seen = new Promise<void>((resolve) => {
        void pulumi.runtime.setMocks(
            {
                newResource(args) {
                    const type = args.type.replace("pulumi-nodejs:dynamic/dm-switch:", "");
                    if (typeof args.inputs.__provider === "string") {
                        written[type] = args.inputs.__provider;
                    }
                    if (Object.keys(RECORDED_MODULES).every((t) => written[t] !== undefined)) {
                        resolve();
                    }
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: (args) => args.inputs,
            },
            "dm-switch",
            "compat",
            false,
        );
    });
    const { Vip } = await import("../../components/vip");
    const { SourceBinding } = await import("../../components/sourceBinding");
    const { VipIntent, VipResume } = await import("../../components/hookedVip");
    const source = {
        dm: { address: "127.0.0.1:8261" },
        sourceId: "orders",
        flavor: "mysql" as const,
        user: "dm",
        password: "pw-orders",
    };
    const instances = { a: { host: "127.0.0.1", port: 3306 }, b: { host: "127.0.0.1", port: 3307 } };
    const address = { host: "127.0.0.1", port: 3310 };
    new Vip("v", {
        ...source,
        instances,
        target: "a",
        address,
        backend: { kind: "haproxy", socket: "/tmp/haproxy.sock", backend: "mysql", servers: { a: "a", b: "b" } },
    });
    new SourceBinding("s", { ...source, host: "127.0.0.1", port: 3306 });
    const hooked = { ...source, instances, target: "a", address, vipResource: "command.local.Command v" };
    new VipIntent("i", hooked);
    new VipResume("r", { ...hooked, pending: undefined });
    await seen;
});

test("today's resources write the module paths states hold", () => {
    for (const [type, relative] of Object.entries(RECORDED_MODULES)) {
        assert.ok(
            written[type].endsWith(`\nexports.handler = () => exports.delegateTo(${JSON.stringify(relative)});\n`),
            `${type}: ${written[type].slice(-120)}`,
        );
    }
});

test("every recorded module path loads, and its provider exports the methods it always has", () => {
    for (const [type, relative] of Object.entries(RECORDED_MODULES)) {
        const provider = require(path.join(root, relative)).provider as Record<string, unknown>;
        assert.ok(provider, `${relative} exports no provider`);
        const methods = Object.keys(provider).filter((k) => typeof provider[k] === "function");
        assert.deepEqual(methods.sort(), METHODS[type], `${type} (${relative})`);
        // Through the recorded text, as the provider host evaluates it: every method is there.
        const hosted = evaluate(providerText(path.join(root, relative)));
        assert.deepEqual(Object.keys(hosted).sort(), ["check", "create", "delete", "diff", "read", "update"]);
    }
});

const dm = { address: "127.0.0.1:8261", transport: "dmctl", dmctlPath: "/opt/dm/dmctl" };
const instances = { a: { host: "127.0.0.1", port: 3306 }, b: { host: "127.0.0.1", port: 3307 } };
const lastSwitch = {
    from: "a",
    to: "b",
    gtidS: { orders_sync: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-1205" },
    pausedMs: 184,
    writtenOnTarget: "3e11fa47-71ca-11e1-9e33-c80aa9429563:7",
    at: "2026-12-01T10:00:00.000Z",
};

/** A recorded state and the inputs of the next run, through the recorded text's `diff`. */
async function diffOf(type: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    const text = written[type];
    return evaluate(text).diff(`${news.sourceId}-id`, { ...olds, __provider: text }, { ...news, __provider: text });
}

const vipInputs = {
    dm,
    sourceId: "orders",
    flavor: "mysql",
    instances,
    target: "b",
    address: { host: "127.0.0.1", port: 3310 },
    user: "dm",
    password: "pw-orders",
    backend: { kind: "haproxy", socket: "/run/haproxy.sock", backend: "mysql", servers: { a: "a", b: "b" } },
    tasks: ["orders_sync"],
    stageTimeoutMs: 30000,
    plan: [],
};
const { password: _vp, ...vipState } = vipInputs;

test("a Vip's recorded state: unchanged after a switch, a change while tasks stay paused", async () => {
    assert.deepEqual(await diffOf("Vip", { ...vipState, pausedByUs: [], lastSwitch }, vipInputs), {
        changes: false,
        replaces: [],
        deleteBeforeReplace: true,
    });
    // A failed switch's partial state: where the VIP really points, the tasks it left paused.
    const changed = { changes: true, replaces: [], deleteBeforeReplace: true };
    const before = { ...vipState, target: "a", pausedByUs: ["orders_sync"], lastSwitch };
    assert.deepEqual(await diffOf("Vip", before, vipInputs), changed);
    // Moved, but the tasks could not be resumed: only the recorded pause differs.
    const moved = { ...vipState, pausedByUs: ["orders_sync"], lastSwitch };
    assert.deepEqual(await diffOf("Vip", moved, vipInputs), changed);
});

const bindingInputs = {
    enableGtid: true,
    dm,
    sourceId: "orders",
    instance: "b",
    host: "127.0.0.1",
    port: 3307,
    user: "dm",
    password: "pw-orders",
    flavor: "mysql",
    enableRelay: false,
    downstreamPassword: "pw-tidb",
    instances,
    plan: [],
};
const { password: _bp, downstreamPassword: _dp, ...bindingState } = bindingInputs;
/** The salted digest of "pw-orders" the binding's state keeps instead of the password. */
const digest = "hmac-sha256:MDEyMzQ1Njc4OWFiY2RlZg:FBrk8DFmXJXBuOLD6Ah_LG8BBYFzwBu95XolrIO5ofQ";

test("a SourceBinding's recorded state: unchanged after a switch; a change after a failed one or before digests", async () => {
    const settled = { ...bindingState, passwordDigest: digest, pausedByUs: [], lastSwitch };
    const unchanged = { changes: false, replaces: [], deleteBeforeReplace: true };
    assert.deepEqual(await diffOf("SourceBinding", settled, bindingInputs), unchanged);
    const stopped = {
        ...bindingState,
        host: "127.0.0.1",
        port: 3306,
        passwordDigest: digest,
        pausedByUs: [],
        stoppedTasks: [{ name: "orders_sync", config: "name: orders_sync\n", gtidS: lastSwitch.gtidS.orders_sync }],
        sourceFile: "source-id: orders\n",
        lastSwitch,
    };
    const changed = { changes: true, replaces: [], deleteBeforeReplace: true };
    assert.deepEqual(await diffOf("SourceBinding", stopped, bindingInputs), changed);
    const { passwordDigest: _d, ...beforeDigests } = settled;
    assert.deepEqual(await diffOf("SourceBinding", beforeDigests, bindingInputs), changed);
});

const intentInputs = {
    dm,
    sourceId: "orders",
    flavor: "mysql",
    instances,
    target: "b",
    address: { host: "127.0.0.1", port: 3310 },
    user: "dm",
    password: "pw-orders",
    vipResource: "command.local.Command orders-vip",
    catchUpTimeoutMs: 10000,
};
const { password: _ip, ...intentState } = intentInputs;
const pending = {
    id: "mi8x2c-4k2j9q",
    from: "a",
    to: "b",
    tasks: ["orders_sync"],
    gtidS: lastSwitch.gtidS,
    dumpIoBytes: { orders_sync: 40960 },
    executedAtCheck: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-1205",
    at: "2026-12-01T10:00:00.000Z",
};

test("a VipIntent's recorded state: unchanged once finished, a change while a pause is recorded", async () => {
    assert.deepEqual(await diffOf("VipIntent", { ...intentState, pausedByUs: [] }, intentInputs), {
        changes: false,
        replaces: [],
    });
    const paused = { ...intentState, pausedByUs: ["orders_sync"], pending };
    assert.deepEqual(await diffOf("VipIntent", paused, intentInputs), { changes: true, replaces: [] });
    // Resuming where the VIP points failed: the tasks it left paused, no pending switch.
    const left = { ...intentState, pausedByUs: ["orders_sync"] };
    assert.deepEqual(await diffOf("VipIntent", left, intentInputs), { changes: true, replaces: [] });
});

test("a VipResume's recorded state: unchanged for the switch it finished, a change for a new one", async () => {
    const { target: _t, ...resumeInputs } = { ...intentInputs, pending };
    const state = { sourceId: "orders", vipResource: intentInputs.vipResource, finished: pending.id, lastSwitch };
    assert.deepEqual(await diffOf("VipResume", state, resumeInputs), { changes: false });
    const next = { ...resumeInputs, pending: { ...pending, id: "mi9a1b-7x3k2p" } };
    assert.deepEqual(await diffOf("VipResume", state, next), { changes: true });
});
