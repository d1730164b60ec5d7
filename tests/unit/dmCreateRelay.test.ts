/**
 * operate-source create over the OpenAPI with relay on: this DM creates the source and starts relay, then
 * answers 46030 for a second, redundant start-relay (seen live: tests/integration/relaySwitch.test.ts).
 * The client accepts that answer only when the source now exists with relay on.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createDmClient, DmError, DmSourceConfig } from "../../components/dm";
import { DmMasterStandIn, startDmMaster } from "../support/dmStandIns";
import { recorded } from "../support/recorded";

const STARTED_TWICE = {
    error_code: 46030,
    error_msg:
        "[code=46030:class=scheduler:scope=internal:level=low], Message: the source has `start-relay` automatically for bound worker, so it can't `start-relay` with worker name now, Workaround: Please stop relay by `stop-relay` without worker name first.",
};
/** What GET /sources/{id} answers after the POST: the source with relay on, or none. */
let created: unknown;
let dm: DmMasterStandIn;
let requests: string[] = [];
let address = "";

before(async () => {
    dm = await startDmMaster((r) =>
        r.method === "POST"
            ? [400, STARTED_TWICE]
            : created
              ? [200, created]
              : [404, { error_code: 46009, error_msg: "source not exist" }],
    );
    requests = dm.hits;
    address = dm.addr;
});
after(() => dm.close());

const source = (relay: boolean): DmSourceConfig => ({
    id: "mariadb-01",
    host: "127.0.0.1",
    port: 23306,
    user: "dm",
    password: "hunter2-pw",
    flavor: "mariadb",
    enableGtid: true,
    enableRelay: relay,
});
const withRelay = (on: boolean) => ({
    ...(recorded.apiSource as Record<string, unknown>),
    relay_config: { enable_relay: on },
});

test("46030 after creating a relay-enabled source is success once DM shows the source with relay on", async () => {
    created = withRelay(true);
    requests.length = 0;
    await createDmClient({ transport: "openapi", address }).createSource(source(true));
    assert.deepEqual(requests, ["POST /api/v1/sources", "GET /api/v1/sources/mariadb-01?with_status=true"]);
});

for (const [name, relayAsked, shown] of [
    ["the source was not created", true, undefined],
    ["the source exists without relay", true, withRelay(false)],
    ["relay was not asked for", false, withRelay(true)],
] as const) {
    test(`46030 stays an error when ${name}`, async () => {
        created = shown;
        const err = await createDmClient({ transport: "openapi", address })
            .createSource(source(relayAsked))
            .then(
                () => undefined,
                (e: unknown) => e,
            );
        assert.ok(err instanceof DmError, String(err));
        assert.equal(err.code, 46030);
        assert.match(err.message, /^operate-source create mariadb-01 failed: \[code=46030/);
        assert.doesNotMatch(err.message, /hunter2/);
    });
}
