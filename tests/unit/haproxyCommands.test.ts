/**
 * HAProxy's runtime API runs what follows a line break or ';' as another command: names that reach it
 * are HAProxy names, and every command goes alone on one line (issue 19 item 5).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { haproxyCommand, HaproxyVip, isHaproxyName } from "../../components/vipBackends/haproxy";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-haproxy-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fake runtime API: records what each connection sent, answers `show servers state` with `state()`. */
async function fakeApi(
    state: () => string,
): Promise<{ socket: string; received: string[]; close: () => Promise<void> }> {
    const socket = path.join(dir, `api-${Math.random().toString(36).slice(2)}.sock`);
    const received: string[] = [];
    const server = net.createServer((c) => {
        let text = "";
        c.on("data", (d) => (text += d));
        c.on("end", () => {
            received.push(text);
            c.end(text.startsWith("show servers state") ? state() : "");
        });
    });
    await new Promise<void>((r) => server.listen(socket, r));
    return { socket, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const HEADER =
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port\n";
const row = (name: string, admin: number) => `3 mysql 1 ${name} 127.0.0.1 2 ${admin} 1 1 5 6 3 4 6 0 0 0 - 3306\n`;

test("isHaproxyName follows HAProxy's name rule", () => {
    for (const ok of ["mysql", "srv-a", "srv_a.1", "be:mysql"]) assert.equal(isHaproxyName(ok), true, ok);
    for (const bad of ["", "a b", "a;b", "a\nb", "a\rb", "a/b", "a#b", undefined, 3])
        assert.equal(isHaproxyName(bad), false, String(bad));
});

test("HaproxyVip refuses a server or backend name with a command separator before sending anything", () => {
    assert.throws(
        () =>
            new HaproxyVip({
                socket: "/nowhere.sock",
                backend: "mysql",
                servers: { a: "srv-a", b: "srv-b\nshutdown sessions server mysql/srv-a" },
            }),
        {
            message: `HAProxy VIP at /nowhere.sock: servers.b "srv-b\\nshutdown sessions server mysql/srv-a" is not an HAProxy name (letters, digits, '-', '_', '.', ':'); use the name of the backend section and of its server lines`,
        },
    );
    assert.throws(
        () => new HaproxyVip({ socket: "/nowhere.sock", backend: "mysql;disable server mysql/srv-a", servers: {} }),
        /backend "mysql;disable server mysql\/srv-a" is not an HAProxy name/,
    );
});

test("haproxyCommand refuses a command holding a line break or ';', sending nothing", async () => {
    const api = await fakeApi(() => "");
    try {
        for (const cmd of [
            "enable server mysql/a\ndisable server mysql/b",
            "enable server mysql/a; disable server mysql/b",
            "show info\r",
        ]) {
            await assert.rejects(haproxyCommand(api.socket, cmd), {
                message: `HAProxy runtime API ${api.socket}: refusing to send ${JSON.stringify(cmd)}: a line break or ';' in it would start another command`,
            });
        }
        assert.deepEqual(api.received, []);
    } finally {
        await api.close();
    }
});

test("moveTo sends each command alone, on one line", async () => {
    let serving = "srv-a";
    const api = await fakeApi(
        () => HEADER + row("srv-a", serving === "srv-a" ? 0 : 1) + row("srv-b", serving === "srv-b" ? 0 : 1),
    );
    try {
        const vip = new HaproxyVip({ socket: api.socket, backend: "mysql", servers: { a: "srv-a", b: "srv-b" } });
        serving = "srv-b"; // the fake answers the state after the commands
        await vip.moveTo("b");
        assert.deepEqual(api.received, [
            "disable server mysql/srv-a\n",
            "enable server mysql/srv-b\n",
            "shutdown sessions server mysql/srv-a\n",
            "show servers state mysql\n",
        ]);
    } finally {
        await api.close();
    }
});
