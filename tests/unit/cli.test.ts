// Runs the real `dm-switch` executable (bin/dm-switch.js) as a child process: exit codes, stderr, stdout.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

const BIN = path.join(__dirname, "..", "..", "bin", "dm-switch.js");
const A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

function run(...args: string[]) {
    const started = Date.now();
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 30_000 });
    if (r.error) {
        throw new Error(`could not run ${BIN}: ${r.error.message}`);
    }
    console.log(`dm-switch ${args.slice(0, 2).join(" ")}…: exit ${r.status} in ${Date.now() - started} ms`);
    return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `dm-switch gtid check --flavor mysql` of the three sets. */
const checkMysql = (syncer: string, purged: string, executed: string) =>
    run("gtid", "check", "--flavor", "mysql", "--syncer", syncer, "--purged", purged, "--executed", executed);

test("exits 0 and says so when both relations hold", () => {
    const r = checkMysql(`${A}:1-100`, `${A}:1-10`, `${A}:1-120`);
    assert.deepEqual(r, {
        code: 0,
        out: "switch allowed: gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S — the target has executed everything DM has replicated and still holds every binlog DM needs.\n",
        err: "",
    });
});

test("exits 3 and explains what is missing and what to do", () => {
    const r = run("gtid", "check", "--flavor=mysql", `--syncer=${A}:1-57`, "--purged=", `--executed=${A}:1-50`);
    assert.equal(r.code, 3);
    assert.equal(
        r.out,
        `switch NOT allowed:\n- The target lacks ${A}:51-57 that DM has already replicated (gtid-E ⊉ gtid-S): wait for the target to catch up, or choose another target.\n`,
    );
    assert.equal(r.err, "");
});

test("--json prints the verdict and every set in canonical form", () => {
    const r = run(
        "gtid",
        "check",
        "--json",
        "--flavor",
        "mariadb",
        "--syncer",
        "1-2-7, 0-1-42",
        "--purged",
        "",
        "--executed",
        "0-2-30,0-1-10",
    );
    assert.equal(r.code, 3);
    assert.deepEqual(JSON.parse(r.out), {
        ok: false,
        flavor: "mariadb",
        syncer: "0-1-42,1-2-7",
        purged: "",
        executed: "0-1-10,0-2-30",
        purgedNotInSyncer: "",
        syncerNotInExecuted: "0-1-42,1-2-7",
    });
});

test("a malformed set exits 2 with stderr naming the flag, the element and the remedy", () => {
    const r = checkMysql(`${A}:1`, "", `${A}:1-5,\n${A}:9-2`);
    assert.deepEqual(r, {
        code: 2,
        out: "",
        err: `dm-switch gtid check: --executed: element 2 "${A}:9-2" at offset 42 of the mysql GTID set: interval 9-2 ends before it starts: write 2-9\n`,
    });
});

test("a set of the other flavor exits 2 and names the flavor to use", () => {
    const r = checkMysql("0-1-42", "", "0-1-42");
    assert.equal(r.code, 2);
    assert.match(
        r.err,
        /^dm-switch gtid check: --syncer: element 1 "0-1-42" at offset 0 of the mysql GTID set: this is a MariaDB GTID .*flavor as mariadb\n$/,
    );
});

test("an unknown flag, a bad flavor and a missing flag exit 2 naming the flag", () => {
    const unknown = run("gtid", "check", "--falvor", "mysql");
    assert.equal(unknown.code, 2);
    assert.match(
        unknown.err,
        /^dm-switch gtid check: --falvor: unknown flag; the flags are --flavor, --syncer, --purged, --executed, --json\n/,
    );
    const flavor = run("gtid", "check", "--flavor", "oracle", "--syncer", "", "--purged", "", "--executed", "");
    assert.equal(flavor.code, 2);
    assert.match(flavor.err, /^dm-switch gtid check: --flavor: must be mysql or mariadb, got "oracle"\n/);
    const missing = run("gtid", "check", "--flavor", "mysql", "--syncer", "", "--purged", "");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^dm-switch gtid check: --executed: is required: the target's @@gtid_executed/);
});

test("--help prints the usage and exits 0; an unknown command exits 2 with the list", () => {
    const help = run("gtid", "check", "--help");
    assert.equal(help.code, 0);
    assert.match(
        help.out,
        /^usage: dm-switch gtid check --flavor mysql\|mariadb --syncer <gtid-S> --purged <gtid-P> --executed <gtid-E> \[--json\]\n/,
    );
    const unknown = run("gtid", "chek");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /^dm-switch: unknown command "gtid chek"\nusage: dm-switch <command>/);
    assert.match(unknown.err, /\n {2}gtid check {2}check DM's switch rule/);
});
