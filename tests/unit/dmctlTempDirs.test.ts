/**
 * dmctl's temp folders hold task files (with the downstream password) and TLS keys. A run removes its
 * own; the folders of a process killed mid-run are removed by the next process's first dmctl run.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { removeStaleDmctlDirs } from "../../components/dm/dmctl";

test("the folders of dead processes are removed; live ones, and folders not named by a pid, are kept", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dmctl-dirs-"));
    try {
        // A pid that has just exited.
        const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
        assert.ok(dead > 0);
        const make = (name: string) => {
            fs.mkdirSync(path.join(root, name));
            fs.writeFileSync(path.join(root, name, "task.yaml"), "target-database:\n  password: secret\n", {
                mode: 0o600,
            });
        };
        make(`dm-switch-dmctl-${dead}-a1B2c3`);
        make(`dm-switch-dmctl-${process.pid}-d4E5f6`);
        make("dm-switch-dmctl-g7H8i9");
        make("unrelated");
        assert.deepEqual(await removeStaleDmctlDirs(root), [`dm-switch-dmctl-${dead}-a1B2c3`]);
        assert.deepEqual(fs.readdirSync(root).sort(), [
            `dm-switch-dmctl-${process.pid}-d4E5f6`,
            "dm-switch-dmctl-g7H8i9",
            "unrelated",
        ]);
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
});

test("a missing temp folder is nothing to remove", async () => {
    assert.deepEqual(await removeStaleDmctlDirs(path.join(os.tmpdir(), "no-such-dir-for-dmctl")), []);
});
