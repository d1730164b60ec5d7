/**
 * The real Pulumi engine on this machine: CLI v3.259.0, the Node language host, the dynamic provider
 * host, a file backend and a policy pack, all offline.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { createTempStack, TempStack } from "../../tools/pulumiCli";

const projectDir = path.join(__dirname, "..", "fixtures", "pulumi-tiny");
const policyPack = path.join(__dirname, "..", "fixtures", "policy-marker");
const MARKER_TYPE = "pulumi-nodejs:dynamic/dm-switch:Marker";

let stack: TempStack;
let markerFile: string;

before(async () => {
    stack = await createTempStack({ projectDir });
    markerFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-marker-")), "marker.txt");
    await stack.setConfig("path", markerFile);
});

after(async () => {
    await stack?.dispose();
    fs.rmSync(path.dirname(markerFile), { recursive: true, force: true });
});

test("pulumi preview plans the dynamic resource and changes nothing", async () => {
    const r = await stack.run(["preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ {2}pulumi-nodejs:dynamic\/dm-switch:Marker marker create/);
    assert.equal(fs.existsSync(markerFile), false);
});

test("pulumi up creates the resource and records it in the state file", async () => {
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(fs.readFileSync(markerFile, "utf8"), "hello");
    const state = await stack.exportState();
    const marker = state.deployment.resources?.find((res) => res.type === MARKER_TYPE);
    assert.ok(marker, "the Marker is in the state");
    assert.equal(marker.outputs?.path, markerFile);
});

test("a preview violating a mandatory policy fails and names the policy and the resource", async () => {
    await stack.setConfig("content", "forbidden");
    const r = await stack.run(["preview", "--policy-pack", policyPack]);
    assert.notEqual(r.code, 0, r.output);
    assert.match(
        r.output,
        /\[mandatory\] {2}marker-not-forbidden {2}\(pulumi-nodejs:dynamic\/dm-switch:Marker: marker\)/,
    );
    assert.match(r.output, /Marker marker must not hold the content 'forbidden'\./);
    assert.equal(fs.readFileSync(markerFile, "utf8"), "hello", "nothing changed");
});

test("a compliant preview with the policy pack passes", async () => {
    await stack.setConfig("content", "allowed");
    const r = await stack.run(["preview", "--policy-pack", policyPack]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /marker-policy@v0\.0\.0/);
});

test("an update failing half-way records its partial state for the next pulumi up", async () => {
    await stack.setConfig("content", "fail-half-way");
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /the update stopped half-way/);
    const state = await stack.exportState();
    const marker = state.deployment.resources?.find((res) => res.type === MARKER_TYPE);
    assert.equal(marker?.outputs?.content, "half");
    await stack.setConfig("content", "whole");
    const again = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.equal(fs.readFileSync(markerFile, "utf8"), "whole");
});

test("a secret set through stdin is stored encrypted, and plain config written to the file is read back", async () => {
    await stack.setConfig("token", "s3cret-through-stdin", { secret: true });
    stack.writeConfig({ "dm-switch-tiny:shape": { nested: [1, 2] } });
    const file = fs.readFileSync(path.join(stack.stateDir, `Pulumi.${stack.stackName}.yaml`), "utf8");
    assert.ok(!file.includes("s3cret-through-stdin"), "the secret is not in the config file in plaintext");
    assert.match(file, /dm-switch-tiny:token:\n\s+secure: v1:/);
    const r = await stack.run(["config", "get", "token"]);
    assert.equal(r.stdout.trim(), "s3cret-through-stdin");
    const shape = await stack.run(["config", "get", "shape", "--json"]);
    assert.deepEqual(JSON.parse(shape.stdout).objectValue, { nested: [1, 2] });
});

test("pulumi destroy removes the resource", async () => {
    const r = await stack.run(["destroy", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(fs.existsSync(markerFile), false);
    const state = await stack.exportState();
    assert.equal(
        state.deployment.resources?.find((res) => res.type === MARKER_TYPE),
        undefined,
    );
});
