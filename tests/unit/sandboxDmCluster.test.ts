/**
 * The sandbox's DM topology (sandbox/dmCluster.ts) without starting anything: the configuration files
 * of a 3-master, 3-worker cluster (every master in `initial-cluster`, every worker joining every
 * master), the one-master default unchanged, and member counts refused with the remedy.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { dmCluster, memberCountProblem } from "../../sandbox/dmCluster";

function fakeBinDir(): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "dm-bin-"));
    for (const b of ["dm-master", "dm-worker", "dmctl"]) {
        fs.writeFileSync(path.join(d, b), "", { mode: 0o700 });
    }
    return d;
}

const toml = (dir: string, home: string, file: string) => fs.readFileSync(path.join(dir, home, file), "utf8");
const field = (text: string, key: string) => new RegExp(`^${key} = "([^"]*)"$`, "m").exec(text)?.[1];

test("3 masters and 3 workers: one etcd cluster of every master; every worker joins every master", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-cluster-"));
    try {
        const c = await dmCluster({
            dir,
            binDir: fakeBinDir(),
            masters: 3,
            workers: 3,
            masterPort: 18261,
            masterPeerPort: 18291,
            workerPort: 18262,
        });
        assert.deepEqual(
            c.masters.map((m) => m.name),
            ["master1", "master2", "master3"],
        );
        assert.deepEqual(
            c.workers.map((w) => w.name),
            ["worker1", "worker2", "worker3"],
        );
        assert.equal(c.masters[0].addr, "127.0.0.1:18261");
        assert.equal(c.workers[0].addr, "127.0.0.1:18262");
        const ports = [...c.masters, ...c.workers].flatMap((m) => m.ports);
        assert.equal(new Set(ports).size, ports.length, "no port used twice");
        assert.equal(c.address, c.masters.map((m) => m.addr).join(","));
        const homes = ["dm-master", "dm-master-2", "dm-master-3"];
        const cluster = c.masters.map((m) => `${m.name}=http://127.0.0.1:${m.ports[1]}`).join(",");
        homes.forEach((home, i) => {
            const t = toml(dir, home, "dm-master.toml");
            assert.equal(field(t, "name"), `master${i + 1}`);
            assert.equal(field(t, "master-addr"), c.masters[i].addr);
            assert.equal(field(t, "advertise-addr"), c.masters[i].addr);
            assert.equal(field(t, "peer-urls"), `http://127.0.0.1:${c.masters[i].ports[1]}`);
            assert.equal(field(t, "initial-cluster"), cluster);
            assert.equal(field(t, "data-dir"), path.join(dir, home, "data"));
        });
        ["dm-worker", "dm-worker-2", "dm-worker-3"].forEach((home, i) => {
            const t = toml(dir, home, "dm-worker.toml");
            assert.equal(field(t, "name"), `worker${i + 1}`);
            assert.equal(field(t, "join"), c.address);
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("the default is one master alone in its cluster and one worker, in the folders sandboxes always had", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-cluster-"));
    try {
        const c = await dmCluster({
            dir,
            binDir: fakeBinDir(),
            masterPort: 18261,
            masterPeerPort: 18291,
            workerPort: 18262,
        });
        assert.equal(c.address, "127.0.0.1:18261");
        assert.equal(
            field(toml(dir, "dm-master", "dm-master.toml"), "initial-cluster"),
            "master1=http://127.0.0.1:18291",
        );
        assert.equal(field(toml(dir, "dm-worker", "dm-worker.toml"), "join"), "127.0.0.1:18261");
        assert.deepEqual(fs.readdirSync(dir).sort(), ["dm-master", "dm-worker"]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("member counts: 1 to 7; anything else is refused naming the option", async () => {
    assert.equal(memberCountProblem("--masters", 3), undefined);
    assert.equal(memberCountProblem("--masters", 0), "--masters 0 must be a whole number from 1 to 7.");
    assert.equal(memberCountProblem("--workers", 2.5), "--workers 2.5 must be a whole number from 1 to 7.");
    assert.equal(
        memberCountProblem("--masters", Number("three"), "three"),
        "--masters three must be a whole number from 1 to 7.",
    );
    assert.equal(memberCountProblem("--workers", Number("x")), "--workers NaN must be a whole number from 1 to 7.");
    await assert.rejects(
        dmCluster({
            dir: os.tmpdir(),
            binDir: fakeBinDir(),
            masters: 8,
            masterPort: 1,
            masterPeerPort: 2,
            workerPort: 3,
        }),
        {
            name: "TypeError",
            message: "startSandbox: masters 8 must be a whole number from 1 to 7.",
        },
    );
});
