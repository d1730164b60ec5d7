/**
 * `dm-switch preflight` without servers: bad input (exit 2, one line and the usage), the password only
 * from the environment, "cannot reach" (exit 2) against loopback ports where nothing listens, and the
 * table people read.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EXIT, formatReport, PASSWORD_ENV, preflightCommand, PREFLIGHT_USAGE } from "../../components/cli/preflight";
import { decide } from "../../components/preflight/decide";
import { runningSubtask, sourceInfo } from "../support/dmFixtures";

const GOOD = [
    "--dm",
    "127.0.0.1:1",
    "--source",
    "src",
    "--flavor",
    "mariadb",
    "--target",
    "127.0.0.1:1",
    "--user",
    "dm",
];

async function run(argv: string[], env: NodeJS.ProcessEnv = { [PASSWORD_ENV]: "pw-Secret-1" }) {
    let out = "";
    let err = "";
    const code = await preflightCommand(argv, { out: (t) => (out += t), err: (t) => (err += t), env });
    return { code, out, err };
}

const without = (flag: string) => {
    const i = GOOD.indexOf(flag);
    return [...GOOD.slice(0, i), ...GOOD.slice(i + 2)];
};

const badInput: { name: string; argv: string[]; env?: NodeJS.ProcessEnv; message: string }[] = [
    {
        name: "rejects a missing --dm",
        argv: without("--dm"),
        message: '--dm must be host:port (for example 127.0.0.1:3306), got ""',
    },
    {
        name: "rejects a --target without a port",
        argv: [...without("--target"), "--target", "db1"],
        message: '--target must be host:port (for example 127.0.0.1:3306), got "db1"',
    },
    {
        name: "rejects an unknown transport",
        argv: [...GOOD, "--transport", "grpc"],
        message: '--transport must be openapi or dmctl, got "grpc"',
    },
    {
        name: "rejects an unknown flavor",
        argv: [...without("--flavor"), "--flavor", "postgres"],
        message: '--flavor must be mysql or mariadb, got "postgres"',
    },
    {
        name: "rejects a source id DM would not accept",
        argv: [...without("--source"), "--source", "a b"],
        message: `--source must be a DM source id (letters, digits, '_', '.', '-', not starting with '-'), got "a b"`,
    },
    {
        name: "rejects a task name dmctl would read as a flag",
        argv: [...GOOD, "--task=-x"],
        message: `--task "-x": a DM task name is not empty and does not start with '-' (dmctl would read it as a flag)`,
    },
    {
        name: "rejects a MySQL client certificate without its key",
        argv: [...GOOD, "--mysql-tls-cert", "/etc/hostname"],
        message:
            "--mysql-tls-cert and --mysql-tls-key go together (the client certificate and its key): give both or neither",
    },
    {
        name: "rejects an unreadable MySQL CA file",
        argv: [...GOOD, "--mysql-tls-ca", "/nonexistent/ca.pem"],
        message: "--mysql-tls-ca /nonexistent/ca.pem cannot be read (ENOENT): give the path of a PEM file",
    },
    {
        name: "rejects a missing --user",
        argv: without("--user"),
        message: "--user must name a MySQL user that can read the target's GTID variables (usually the source's user)",
    },
    {
        name: "refuses a password on the command line",
        argv: [...GOOD, "--password", "pw-Secret-1"],
        message: `--password is not accepted (process arguments are visible to every user): set ${PASSWORD_ENV} instead`,
    },
    {
        name: "asks for the password in the environment",
        argv: GOOD,
        env: {},
        message: `${PASSWORD_ENV} is not set: export the password of --user dm in it`,
    },
    {
        name: "rejects a negative catch-up wait",
        argv: [...GOOD, "--catch-up-timeout-ms=-5"],
        message: '--catch-up-timeout-ms must be a whole number of milliseconds ≥ 0, got "-5"',
    },
    {
        name: "rejects an unknown option",
        argv: [...GOOD, "--force"],
        message: "Unknown option '--force'",
    },
];

for (const c of badInput) {
    test(c.name, async () => {
        const r = await run(c.argv, c.env);
        assert.equal(r.code, EXIT.badInput);
        assert.equal(r.err, `dm-switch preflight: ${c.message}\n${PREFLIGHT_USAGE}\n`);
        assert.equal(r.out, "");
        assert.doesNotMatch(r.err, /pw-Secret-1/);
    });
}

test("says it cannot reach DM and the target (exit 2), naming both", async () => {
    const r = await run(GOOD);
    assert.equal(r.code, 2, r.err);
    assert.match(
        r.err,
        /^dm-switch preflight: cannot reach dm and target: DM at 127\.0\.0\.1:1: get source src failed: cannot reach dm-master at 127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    );
    assert.match(
        r.err,
        /target 127\.0\.0\.1:1 \(127\.0\.0\.1:1\): probe of 127\.0\.0\.1:1 failed while connecting as dm: .*ECONNREFUSED/,
    );
    assert.equal(r.err.split("\n").length, 2, "one line");
});

test("prints the same failure as JSON for CI", async () => {
    const r = await run([...GOOD, "--json"]);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.out);
    assert.equal(doc.ok, false);
    assert.equal(doc.error.kind, "unreachable");
    assert.deepEqual(doc.error.sides, ["dm", "target"]);
});

test("prints a table people can read: verdict, the target's sets, one row per task, the reasons", () => {
    const report = decide({
        sourceId: "src",
        flavor: "mariadb",
        target: "replica",
        targetAddress: "127.0.0.1:3307",
        source: sourceInfo("src", { taskNames: ["t1", "t2"] }),
        tasks: ["t1", "t2"].map((task, i) => ({
            task,
            status: runningSubtask(task, "src", { worker: "w", syncerBinlogGtid: `0-1-${100 + i * 50}` }),
        })),
        facts: {
            flavor: "mariadb",
            version: "10.11",
            serverId: 2,
            gtidExecuted: "0-1-120",
            gtidPurged: "",
            gtidStrictMode: true,
            logReplicaUpdates: true,
            binlogFormat: "ROW",
            logBin: true,
            readOnly: true,
        },
        prerequisites: [],
        catchUp: { timeoutMs: 1000, waitedMs: 1003, caughtUp: false },
    });
    assert.deepEqual(formatReport(report), [
        "DM source src → replica (127.0.0.1:3307): switch NOT allowed",
        "target: mariadb, server_id 2",
        "  gtid-P (purged):   (empty)",
        "  gtid-E (executed): 0-1-120",
        "  waited 1003 ms (at most 1000) for it to catch up: still lagging",
        "task  stage    unit  gtid-S (syncer)  verdict",
        "t1    Running  Sync  0-1-100          ok",
        "t2    Running  Sync  0-1-150          NOT OK",
        "why not:",
        "- task t2 (after waiting 1003 ms for replica to catch up): the target lacks transactions DM has already replicated (gtid-E ⊉ gtid-S): in domain 0 DM is at 0-1-150 while the target's binlog reaches only 0-1-120; wait for the target to catch up, or choose another target.",
    ]);
});
