/**
 * The stack files shipped with the project are valid configurations, and the local one points at the
 * ports, source and HAProxy names `npm run sandbox:up` uses.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import yaml from "js-yaml";
import { StackConfig, validateStackConfig } from "../../components/stackConfig";
import { DEFAULT_PORTS, SOURCE_ID, SOURCE_USER } from "../../sandbox/types";
import { VIP_BACKEND, VIP_SERVERS } from "../../sandbox/haproxy";

const root = path.resolve(__dirname, "..", "..");

function stackConfig(file: string): StackConfig {
    const doc = yaml.load(fs.readFileSync(path.join(root, file), "utf8")) as { config: Record<string, unknown> };
    return {
        dm: doc.config["dm-switch:dm"],
        instances: doc.config["dm-switch:instances"],
        sources: doc.config["dm-switch:sources"],
    } as StackConfig;
}

for (const file of ["Pulumi.prod.yaml", "Pulumi.local.yaml"]) {
    test(`${file} is a valid dm-switch configuration`, () => {
        assert.deepEqual(validateStackConfig(stackConfig(file)), []);
    });
}

test("Pulumi.local.yaml points at the sandbox's fixed ports and names", () => {
    const c = stackConfig("Pulumi.local.yaml");
    assert.equal(c.dm.address, `127.0.0.1:${DEFAULT_PORTS.dmMaster}`);
    assert.equal(c.instances.primary.port, DEFAULT_PORTS.primary);
    assert.equal(c.instances.replica.port, DEFAULT_PORTS.replica);
    const [s] = c.sources;
    assert.equal(s.id, SOURCE_ID);
    assert.equal(s.user, SOURCE_USER);
    assert.equal(s.vip?.address.port, DEFAULT_PORTS.vip);
    assert.deepEqual(s.vip?.haproxy, {
        socket: `127.0.0.1:${DEFAULT_PORTS.haproxyStats}`,
        backend: VIP_BACKEND,
        servers: { ...VIP_SERVERS },
    });
});
