import assert from "node:assert/strict";
import { test } from "node:test";
import { editTaskFile, oneLine, parseStage } from "../../components/dm";
import { bytesOf } from "../../components/dm/types";
import { readGeneratedYaml } from "../../components/dm/dmctl";
import { sourceYaml, subtasksFromQueryStatus } from "../../components/dm/dmctlClient";
import { sourceFromApi, subtaskFromApi } from "../../components/dm/openapi";
import { recorded } from "../support/recorded";
import { sourceInfo } from "../support/dmFixtures";

const stageCases: [string | undefined, string][] = [
    ["Running", "Running"],
    ["paused", "Paused"],
    ["Stopped", "Stopped"],
    ["New", "New"],
    ["Pausing", "Pausing"],
    ["Resuming", "Resuming"],
    ["Stopping", "Stopping"],
    ["Finished", "Finished"],
    ["", "Offline"],
    [undefined, "Offline"],
    ["InvalidStage", "Unknown"],
];
for (const [raw, want] of stageCases) {
    test(`parses stage ${JSON.stringify(raw)} as ${want}`, () => assert.equal(parseStage(raw), want));
}

const running = {
    task: "task-s1",
    source: "mariadb-01",
    worker: "w1",
    stage: "Running",
    rawStage: "Running",
    unit: "Sync",
    syncerBinlogGtid: "0-11-10",
    masterBinlogGtid: "0-11-10",
    errors: [],
};
const offlineMsg =
    "[code=38029:class=dm-master:scope=internal:level=high], Message: mariadb-01 relevant worker-client not found, Workaround: Please use list-member command to see if the some workers are offline.";
const offline = {
    task: "task-s1",
    source: "mariadb-01",
    worker: "",
    stage: "Offline",
    rawStage: "",
    unit: "",
    syncerBinlogGtid: "",
    masterBinlogGtid: "",
    errors: [offlineMsg],
};

const statusCases = [
    // While Running, syncer_binlog_gtid is the last flushed checkpoint: it may lag the master's set.
    // dumpIOTotalBytes: dmctl prints it as a string, the OpenAPI as a number.
    {
        name: "running",
        dmctl: recorded.dmctlQueryStatusRunning,
        api: recorded.apiStatusRunning,
        want: { ...running, dumpIoBytes: 2885 },
        wantApi: { ...running, masterBinlogGtid: "0-11-11", dumpIoBytes: 2911 },
    },
    {
        name: "paused",
        dmctl: recorded.dmctlQueryStatusPaused,
        api: recorded.apiStatusPaused,
        want: { ...running, stage: "Paused", rawStage: "Paused", dumpIoBytes: 2993 },
        wantApi: {
            ...running,
            stage: "Paused",
            rawStage: "Paused",
            syncerBinlogGtid: "0-11-11",
            masterBinlogGtid: "0-11-11",
            dumpIoBytes: 2911,
        },
    },
    { name: "worker offline", dmctl: recorded.dmctlQueryStatusOffline, api: recorded.apiStatusOffline, want: offline },
];
// The OpenAPI answers were recorded after one more upstream transaction.
const later = (s: object) =>
    "unit" in s && (s as { unit: string }).unit === "Sync"
        ? { ...s, syncerBinlogGtid: "0-11-11", masterBinlogGtid: "0-11-11" }
        : s;
for (const c of statusCases) {
    test(`both transports read a ${c.name} subtask the same way`, () => {
        const fromDmctl = subtasksFromQueryStatus("task-s1", c.dmctl);
        const fromApi = c.api.data.map((s) => subtaskFromApi(s, "task-s1"));
        assert.deepEqual(fromDmctl, [c.want]);
        assert.deepEqual(fromApi, ["wantApi" in c ? c.wantApi : later(c.want)]);
    });
}

test("reads a source with its tasks and worker from the OpenAPI", () => {
    assert.deepEqual(
        sourceFromApi(recorded.apiSource),
        sourceInfo("mariadb-01", { port: 23306, worker: "w1", taskNames: ["task-s1", "task-s2"], relay: undefined }),
    );
    const off = sourceFromApi(recorded.apiSourceOffline);
    assert.equal(off.worker, undefined);
    assert.deepEqual(off.errors, [offlineMsg]);
});

test("reads the fields it needs from get-config source", () => {
    const y = readGeneratedYaml(recorded.dmctlGetConfigSource.cfg);
    assert.equal(y.get("from.host"), "127.0.0.1");
    assert.equal(y.get("from.port"), "23306");
    assert.equal(y.get("from.user"), "dm");
    assert.equal(y.get("from.password"), "******");
    assert.equal(y.get("flavor"), "mariadb");
    assert.equal(y.get("enable-gtid"), "true");
    assert.equal(y.get("enable-relay"), "false");
});

test("rewrites meta to gtid-S and unmasks the target password in get-config task's YAML", () => {
    const out = editTaskFile(recorded.dmctlGetConfigTask.cfg, {
        binlogGtid: { "mariadb-01": "0-11-12,\n1-12-3" },
        targetPassword: 'p"w',
    });
    assert.match(
        out,
        /\n- source-id: mariadb-01\n {2}meta:\n {4}binlog-gtid: "0-11-12,1-12-3"\n {2}filter-rules: \[\]\n/,
    );
    assert.doesNotMatch(out, /binlog-name|binlog-pos|'\*\*\*\*\*\*'/);
    assert.match(out, /\n {2}password: "p\\"w"\n/);
    // Everything else is untouched.
    assert.equal(out.split("\n").length, recorded.dmctlGetConfigTask.cfg.split("\n").length - 2);
});

const userTask = `name: task-a
task-mode: incremental
target-database:
  host: 127.0.0.1
  password: "secret"
mysql-instances:
  - source-id: "src-a"
    block-allow-list: bal
    meta:
      binlog-gtid: "0-1-5"   # where it started
  - source-id: src-b
    block-allow-list: bal
block-allow-list:
  bal:
    do-dbs: ["s1"]
`;

test("rewrites meta of each named source in a hand-written task file, adding it where missing", () => {
    const out = editTaskFile(userTask, {
        binlogGtid: { "src-a": "0-1-9", "src-b": "0-1-10" },
        targetPassword: "other",
    });
    assert.equal(
        out,
        userTask
            .replace(
                '    meta:\n      binlog-gtid: "0-1-5"   # where it started\n',
                '    meta:\n      binlog-gtid: "0-1-9"\n',
            )
            .replace("  - source-id: src-b\n", '  - source-id: src-b\n    meta:\n      binlog-gtid: "0-1-10"\n'),
    );
});

test("rejects a gtid for a source the task file does not have", () => {
    assert.throws(() => editTaskFile(userTask, { binlogGtid: { nope: "0-1-1" } }), {
        name: "TypeError",
        message: "task file has no mysql-instances entry for source nope",
    });
});

test("rewrites a JSON task file", () => {
    const out = JSON.parse(
        editTaskFile(
            JSON.stringify({ name: "t", "mysql-instances": [{ "source-id": "s", meta: { "binlog-name": "b.1" } }] }),
            { binlogGtid: { s: "0-1-2" } },
        ),
    );
    assert.deepEqual(out["mysql-instances"], [{ "source-id": "s", meta: { "binlog-gtid": "0-1-2" } }]);
});

test("writes a source file operate-source create reads, quoting every string", () => {
    const y = sourceYaml({
        id: "m-1",
        host: "10.0.0.1",
        port: 3306,
        user: "dm",
        password: 'a"b: c',
        flavor: "mariadb",
        enableGtid: true,
    });
    assert.equal(
        y,
        'source-id: "m-1"\nflavor: "mariadb"\nenable-gtid: true\nenable-relay: false\nfrom:\n  host: "10.0.0.1"\n  port: 3306\n  user: "dm"\n  password: "a\\"b: c"\n',
    );
    assert.equal(readGeneratedYaml(y).get("from.password"), 'a"b: c');
});

test("makes DM's text one line without secrets", () => {
    assert.equal(
        oneLine("Access denied\n  for pw hunter2,\tagain hunter2", ["hunter2"]),
        "Access denied for pw ******, again ******",
    );
});

test("the syncer's received bytes: a count from either transport, nothing when DM reads relay files or gives no count", () => {
    assert.deepEqual(bytesOf("2885"), { dumpIoBytes: 2885 });
    assert.deepEqual(bytesOf(2911), { dumpIoBytes: 2911 });
    assert.deepEqual(bytesOf(undefined), {});
    assert.deepEqual(bytesOf("n/a"), {});
    assert.deepEqual(bytesOf(-1), {});
    const local = {
        ...recorded.apiStatusRunning.data[0],
        sync_status: { ...recorded.apiStatusRunning.data[0].sync_status, binlog_type: "local" },
    };
    assert.equal(
        subtaskFromApi(local, "task-s1").dumpIoBytes,
        undefined,
        "with relay the syncer reads local files: its byte count says nothing about the upstream",
    );
});
