/** The HAProxy VIP backend against a real HAProxy started on loopback. */
import assert from "node:assert/strict";
import { pollUntil } from "../../components/util/poll";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { HaproxyVip } from "../../components/vipBackends/haproxy";
import { VipSplitError } from "../../components/vipBackends/types";

let dir: string;
let socket: string;
let pidFile: string;
let vipPort: number;
const upstreams: net.Server[] = [];
const upstreamPorts: Record<string, number> = {};

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
        s.on("error", reject);
    });
}

/** A TCP server that greets with its name: what answers behind the VIP. */
function upstream(name: string): Promise<number> {
    return new Promise((resolve) => {
        const s = net.createServer((c) => c.end(name));
        upstreams.push(s);
        s.listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port));
    });
}

function throughVip(): Promise<string> {
    return new Promise((resolve, reject) => {
        const c = net.createConnection(vipPort, "127.0.0.1");
        let out = "";
        c.on("data", (d) => (out += d));
        c.on("close", () => resolve(out));
        c.on("error", reject);
    });
}

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-haproxy-"));
    socket = path.join(dir, "admin.sock");
    pidFile = path.join(dir, "haproxy.pid");
    vipPort = await freePort();
    upstreamPorts.a = await upstream("server-a");
    upstreamPorts.b = await upstream("server-b");
    const cfg = [
        "global",
        `  stats socket ${socket} mode 600 level admin`,
        "defaults",
        "  mode tcp",
        "  timeout connect 2s",
        "  timeout client 1m",
        "  timeout server 1m",
        "frontend vip",
        `  bind 127.0.0.1:${vipPort}`,
        "  default_backend mysql",
        "backend mysql",
        `  server srv-a 127.0.0.1:${upstreamPorts.a}`,
        `  server srv-b 127.0.0.1:${upstreamPorts.b} disabled`,
        `  server srv-c 127.0.0.1:${upstreamPorts.b} disabled`,
        "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), cfg);
    const r = spawnSync("haproxy", ["-f", path.join(dir, "haproxy.cfg"), "-D", "-p", pidFile], { encoding: "utf8" });
    assert.equal(r.status, 0, `haproxy did not start: ${r.stderr}`);
    await pollUntil(() => fs.existsSync(socket) || undefined, { intervalMs: 50, timeoutMs: 2500 });
    assert.ok(fs.existsSync(socket), "haproxy's runtime API socket appeared");
});

after(() => {
    if (pidFile && fs.existsSync(pidFile)) {
        try {
            process.kill(Number(fs.readFileSync(pidFile, "utf8")), "SIGTERM");
        } catch {
            // already gone
        }
    }
    upstreams.forEach((s) => s.close());
    fs.rmSync(dir, { recursive: true, force: true });
});

const vip = () => new HaproxyVip({ socket, backend: "mysql", servers: { "mysql-a": "srv-a", "mysql-b": "srv-b" } });

test("reads which instance the VIP points at", async () => {
    assert.equal(await vip().current(), "mysql-a");
    assert.equal(await throughVip(), "server-a");
});

test("moves the VIP: new connections reach the target and the old server is disabled", async () => {
    await vip().moveTo("mysql-b");
    assert.equal(await vip().current(), "mysql-b");
    assert.equal(await throughVip(), "server-b");
    await vip().moveTo("mysql-b");
    assert.equal(await vip().current(), "mysql-b", "moving to where it points already changes nothing");
    await vip().moveTo("mysql-a");
    assert.equal(await throughVip(), "server-a");
});

test("refuses an instance that has no HAProxy server", async () => {
    await assert.rejects(vip().moveTo("mysql-z"), {
        message: `HAProxy backend mysql at ${socket}: instance mysql-z has no server in 'servers' (mysql-a, mysql-b).`,
    });
});

test("reports a VIP enabled on two instances at once as a split", async () => {
    const split = new HaproxyVip({ socket, backend: "mysql", servers: { "mysql-a": "srv-a", "mysql-b": "srv-b" } });
    await split.moveTo("mysql-a");
    const { haproxyCommand } = await import("../../components/vipBackends/haproxy");
    await haproxyCommand(socket, "enable server mysql/srv-b");
    await assert.rejects(
        split.current(),
        (err: unknown) => err instanceof VipSplitError && /mysql-a and mysql-b at once/.test(err.message),
    );
    await split.moveTo("mysql-a");
    assert.equal(await split.current(), "mysql-a");
});

test("names an unknown backend and a missing socket", async () => {
    await assert.rejects(new HaproxyVip({ socket, backend: "nope", servers: {} }).current(), {
        message: `HAProxy backend nope at ${socket}: no such backend; set 'backend' to a backend section of the HAProxy configuration.`,
    });
    const gone = path.join(dir, "gone.sock");
    await assert.rejects(
        new HaproxyVip({ socket: gone, backend: "mysql", servers: {} }).current(),
        /HAProxy runtime API .*gone\.sock failed on 'show servers state mysql': connect ENOENT.*Check that HAProxy runs with 'stats socket/,
    );
});
