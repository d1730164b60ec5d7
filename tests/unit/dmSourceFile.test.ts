/**
 * DM's configuration file of a source, edited for operate-source create (components/dm/sourceFile.ts):
 * only the fields dm-switch sets change, every other line is kept as DM printed it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { maskSourceFile, overlaySourceFile, sourceFileAddress, sourceFileId } from "../../components/dm/sourceFile";
import { DmSourceConfig } from "../../components/dm";

/**
 * `dmctl get-config source sandbox-source` (DM at tiflow 1d4a644a7d48), of a source created with
 * case-sensitive false, a session variable, purge expiry and a binlog event filter.
 */
const DM_FILE = [
    "enable: true",
    "enable-gtid: true",
    "auto-fix-gtid: false",
    "relay-dir: relay-dir",
    'meta-dir: ""',
    "flavor: mariadb",
    'charset: ""',
    "enable-relay: false",
    'relay-binlog-name: "mariadb-bin.000002"',
    'relay-binlog-gtid: "0-1-500"',
    "source-id: sandbox-source",
    "from:",
    "  host: 127.0.0.1",
    "  port: 43101",
    "  user: dm_source",
    "  password: '******'",
    "  max-allowed-packet: null",
    "  session:",
    '    time_zone: "+00:00"',
    "  security: null",
    "purge:",
    "  interval: 3600",
    "  expires: 48",
    "  remain-space: 15",
    "checker:",
    "  check-enable: true",
    "  backoff-rollback: 5m0s",
    "  backoff-max: 5m0s",
    "  check-interval: 5s",
    "  backoff-min: 1s",
    "  backoff-jitter: true",
    "  backoff-factor: 2",
    "server-id: 429595053",
    "tracer: {}",
    "case-sensitive: false",
    "filters:",
    "- schema-pattern: sbtest_9",
    '  table-pattern: ""',
    "  events: []",
    "  sql-pattern:",
    "  - ^DROP\\s+TABLE",
    "  action: Ignore",
    "",
].join("\n");

const cfg: DmSourceConfig = {
    id: "sandbox-source",
    host: "127.0.0.1",
    port: 43101,
    user: "dm_source2",
    password: "n3w'pa\"ss",
    flavor: "mariadb",
    enableGtid: true,
    enableRelay: false,
};

/** The lines of `text` that are not in `base`, and those of `base` that are not in `text`. */
function changedLines(base: string, text: string) {
    const a = base.split("\n");
    const b = text.split("\n");
    return { added: b.filter((l) => !a.includes(l)), removed: a.filter((l) => !b.includes(l)) };
}

test("a new user and password change only from.user and from.password: every field the stack does not set is kept", () => {
    const out = overlaySourceFile(DM_FILE, cfg);
    assert.deepEqual(changedLines(DM_FILE, out), {
        added: [
            'flavor: "mariadb"',
            'source-id: "sandbox-source"',
            '  host: "127.0.0.1"',
            '  user: "dm_source2"',
            '  password: "n3w\'pa\\"ss"',
        ],
        removed: [
            "flavor: mariadb",
            "source-id: sandbox-source",
            "  host: 127.0.0.1",
            "  user: dm_source",
            "  password: '******'",
        ],
    });
    // Same order as DM printed: a re-created source reads exactly as before but for the overlaid values.
    assert.equal(out.split("\n").length, DM_FILE.split("\n").length);
    assert.match(out, /^case-sensitive: false$/m);
    assert.match(out, /^ {2}session:\n {4}time_zone: "\+00:00"$/m);
    assert.match(out, /^filters:\n- schema-pattern: sbtest_9\n/m);
    assert.match(out, /^relay-binlog-name: "mariadb-bin\.000002"$/m, "same address: relay positions kept");
});

test("relay on and another address: enable-relay, host and port set; relay positions of the old server emptied", () => {
    const out = overlaySourceFile(DM_FILE, { ...cfg, host: "10.0.0.2", port: 3307, enableRelay: true });
    assert.match(out, /^enable-relay: true$/m);
    assert.match(out, /^ {2}host: "10\.0\.0\.2"\n {2}port: 3307\n/m);
    assert.match(out, /^relay-binlog-name: ""$/m);
    assert.match(out, /^relay-binlog-gtid: ""$/m);
    assert.deepEqual(sourceFileAddress(out), { host: "10.0.0.2", port: 3307 });
    assert.match(out, /^case-sensitive: false$/m);
});

test("keys missing from the file are added, from: included", () => {
    const out = overlaySourceFile("source-id: s\ncase-sensitive: false\n", { ...cfg, id: "s" });
    assert.equal(
        out,
        'source-id: "s"\ncase-sensitive: false\nflavor: "mariadb"\nenable-gtid: true\nenable-relay: false\nrelay-binlog-name: ""\nrelay-binlog-gtid: ""\nfrom:\n  host: "127.0.0.1"\n  port: 43101\n  user: "dm_source2"\n  password: "n3w\'pa\\"ss"\n',
    );
});

test("refuses another source's file, and a text that is no source file", () => {
    assert.throws(() => overlaySourceFile(DM_FILE, { ...cfg, id: "other" }), {
        name: "TypeError",
        message: 'the source file is source "sandbox-source"\'s, not "other"\'s',
    });
    assert.throws(() => overlaySourceFile("name: task\n", cfg), {
        name: "TypeError",
        message: "the source file has neither source-id nor from: it is not DM's configuration of a source",
    });
    assert.throws(() => overlaySourceFile("source-id: sandbox-source\nfrom: {host: x}\n", cfg), {
        name: "TypeError",
        message: "the source file's from: is not a block of key: value lines",
    });
});

test("masking replaces only the password of from:", () => {
    const plain = DM_FILE.replace("password: '******'", 'password: "hunter2"');
    const masked = maskSourceFile(plain);
    assert.equal(masked, DM_FILE);
    assert.equal(maskSourceFile(DM_FILE), DM_FILE);
    assert.equal(maskSourceFile("source-id: s\n"), "source-id: s\n");
    assert.equal(sourceFileId(DM_FILE), "sandbox-source");
});
