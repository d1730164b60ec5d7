/**
 * The sandbox's HAProxy when another process takes the VIP port this process chose before HAProxy binds it
 * (seen in CI: "cannot bind socket (Address already in use)"): started again on other free ports. Real
 * HAProxy on loopback, in a temporary directory.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { startHaproxyOnFreePorts } from "../../sandbox/haproxy";
import { portOpen } from "../../sandbox/proc";
import { freePort } from "../../sandbox/server";

test("HAProxy whose VIP port is taken starts on the next free ports; a port still taken after three attempts fails naming it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-haproxy-ports-"));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const busy = (taken.address() as net.AddressInfo).port;
    const lines: string[] = [];
    const o = {
        dir,
        vipPort: busy,
        statsPort: await freePort(),
        primaryPort: await freePort(),
        replicaPort: await freePort(),
        log: (l: string) => lines.push(l),
    };
    try {
        const choose = async () => ({ vipPort: await freePort(), statsPort: await freePort() });
        const r = await startHaproxyOnFreePorts(o, choose);
        try {
            assert.notEqual(r.vipPort, busy);
            assert.ok(await portOpen(r.vipPort), "HAProxy listens on the port it got");
            assert.ok(
                lines.some((l) => l.includes(`port ${busy} or ${o.statsPort} was taken`)),
                lines.join("\n"),
            );
        } finally {
            await r.haproxy.proc.stop();
        }
        // Always the taken port: the third failure is thrown, with HAProxy's own words.
        await assert.rejects(
            startHaproxyOnFreePorts(o, async () => ({ vipPort: busy, statsPort: await freePort() })),
            /Address already in use/,
        );
    } finally {
        taken.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
