/**
 * A change of user of a source in VIP mode, end to end under write load: the binding (at the VIP's address)
 * is re-created in place by the address procedure at that address, the Vip takes the new user for its reads
 * and moves nothing; the old user is locked first, so the tasks can only run again as the new one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SOURCE_GRANTS } from "../../sandbox/taskFile";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary" });
const USER2 = "dm_source2";

test("a new user re-creates the source in place at the VIP's address; the VIP stays", async () => {
    // The first pulumi up adopts the source and the VIP as they are.
    const first = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(first.code, 0, first.output);
    assert.doesNotMatch(first.output, /pause-task|operate-source/);
    await s.sb.primary.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [USER2, s.sb.source.password]);
    await s.sb.primary.query(`GRANT ${SOURCE_GRANTS} ON *.* TO ?@'127.0.0.1'`, [USER2]);
    await s.sb.primary.query(`ALTER USER ?@'127.0.0.1' ACCOUNT LOCK`, [s.sb.source.user]);
    const { r, written } = await s.upUnderLoad({ mode: "vip", reads: "primary", user: USER2 });
    assert.match(
        r.output,
        /DM source sandbox-source: new settings \(user\), the address procedure at the same address \(vip\)/,
    );
    assert.doesNotMatch(r.output, /point the VIP at/, "the VIP does not move");
    const source = await s.dm.getSource(s.sb.source.id);
    assert.deepEqual({ user: source?.user, port: source?.port }, { user: USER2, port: s.sb.vip.port });
    assert.equal(await s.sb.vipTarget(), "primary");
    const stopped = /replication was stopped for (\d+) ms/.exec(r.output);
    console.log(
        `new user in VIP mode: replication stopped ${stopped?.[1] ?? "?"} ms; pulumi up took ${r.ms} ms; ${written} rows written during it`,
    );
    const again = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.doesNotMatch(again.output, /pause-task|operate-source/, "converged");
});
