import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { cacheDir, pulumiEnv, toolPath, nodeBinDir } from "../../tools/env";

test("puts Node 22 first on the tools' PATH", () => {
    assert.equal(toolPath("/usr/bin").split(path.delimiter)[0], nodeBinDir());
    assert.equal(process.versions.node.split(".")[0], "22");
});

test("builds an offline Pulumi environment inside the given state folder", () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-env-test-"));
    try {
        const env = pulumiEnv({ stateDir });
        assert.equal(env.PULUMI_BACKEND_URL, `file://${stateDir}/backend`);
        assert.equal(env.PULUMI_HOME, `${stateDir}/home`);
        assert.ok(fs.statSync(`${stateDir}/backend`).isDirectory() && fs.statSync(`${stateDir}/home`).isDirectory());
        assert.equal(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "true");
        assert.ok(!cacheDir().startsWith(path.resolve(__dirname, "../..")), "the cache is outside the repository");
    } finally {
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
});
