/**
 * The DM client dm-switch's orchestration uses: one interface, two transports chosen by configuration
 * (DM's OpenAPI v1 or dmctl), waits on stages and syncer progress, and gtid-S from the downstream
 * checkpoint. No @pulumi/* import.
 */
import { dmctlTlsProblem } from "./dmctl";
import { createDmctlClient } from "./dmctlClient";
import { createOpenApiClient } from "./openapi";
import { DmClient, DmEndpoint, Transport } from "./types";

export * from "./types";
export { readCheckpointGtid, DownstreamAddress } from "./checkpoint";
export { waitForStage, waitForSyncerAdvance, WaitOptions, WaitTimeoutError } from "./wait";
export { editTaskFile } from "./taskFile";
export { memoizeReads } from "./memo";
export { statusOnSource } from "./sourceStatus";
export { readDmVersion } from "./version";
export { dmAppliesTaggedGtids, DmVersion, gtidTags, NamedGtidSet, parseDmStatus, taggedGtidRefusals } from "./capabilities";

/** A client for the dm-master at `ep.address`, over `ep.transport` (@default "openapi"). */
export function createDmClient(given: Omit<DmEndpoint, "transport"> & { transport?: Transport }): DmClient {
    const ep: DmEndpoint = { ...given, transport: given.transport ?? "openapi" };
    if (!/^[^\s/:]+:\d+$/.test(ep.address) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(ep.address)) {
        throw new TypeError(`DM address "${ep.address}" must be host:port of dm-master, for example 127.0.0.1:8261.`);
    }
    switch (ep.transport) {
        case "openapi":
            return createOpenApiClient(ep);
        case "dmctl":
            if (!ep.dmctlPath) {
                throw new TypeError("the dmctl transport needs dmctlPath: the path of DM's dmctl binary.");
            }
            if (dmctlTlsProblem(ep.tls)) {
                throw new TypeError(`DM endpoint ${ep.address}: ${dmctlTlsProblem(ep.tls)}`);
            }
            return createDmctlClient(ep);
        default:
            throw new TypeError(`DM transport "${String(ep.transport)}" is not supported; use "openapi" or "dmctl".`);
    }
}
