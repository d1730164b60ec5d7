import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { mysqlDist } from "../../tools/env";

test("an unpacked MySQL counts only when dist.json, the loader and mysqld are all there", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-mysqldist-"));
    const saved = process.env.DM_SWITCH_MYSQL_DIR;
    process.env.DM_SWITCH_MYSQL_DIR = dir;
    try {
        assert.equal(mysqlDist(), undefined, "empty folder");
        fs.writeFileSync(
            path.join(dir, "dist.json"),
            JSON.stringify({ version: "9.7.4-2", libraryDirs: ["usr/lib/x86_64-linux-gnu", "lib"] }),
        );
        assert.equal(mysqlDist(), undefined, "dist.json without the files");
        const root = path.join(dir, "root");
        for (const f of ["usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "usr/sbin/mysqld", "usr/bin/mysql"]) {
            fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
            fs.writeFileSync(path.join(root, f), "");
        }
        const d = mysqlDist();
        assert.equal(d?.version, "9.7.4-2");
        assert.deepEqual(d?.command("mysql", ["-e", "SELECT 1"]), {
            command: path.join(root, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
            args: [
                "--library-path",
                `${root}/usr/lib/x86_64-linux-gnu:${root}/lib`,
                path.join(root, "usr/bin/mysql"),
                "-e",
                "SELECT 1",
            ],
        });
        assert.throws(() => d?.command("mysqlsh", []), {
            message: `mysqlsh is not part of the unpacked MySQL 9.7.4-2 in ${root}.`,
        });
    } finally {
        if (saved === undefined) delete process.env.DM_SWITCH_MYSQL_DIR;
        else process.env.DM_SWITCH_MYSQL_DIR = saved;
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
