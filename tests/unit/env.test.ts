import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { cacheDir, pulumiEnv, toolPath, nodeBinDir } from "../../tools/env";

test("puts Node 22 first on the tools' PATH", () => {
    assert.equal(toolPath("/usr/bin").split(path.delimiter)[0], nodeBinDir());
    assert.equal(process.versions.node.split(".")[0], "22");
});

test("builds an offline Pulumi environment inside the given state folder", () => {
    const env = pulumiEnv({ stateDir: "/tmp/dm-switch-env-test" });
    assert.equal(env.PULUMI_BACKEND_URL, "file:///tmp/dm-switch-env-test/backend");
    assert.equal(env.PULUMI_HOME, "/tmp/dm-switch-env-test/home");
    assert.equal(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "true");
    assert.ok(!cacheDir().startsWith(path.resolve(__dirname, "../..")), "the cache is outside the repository");
});
