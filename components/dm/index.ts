/**
 * The DM client dm-switch's orchestration uses: one interface, two transports chosen by configuration
 * (DM's OpenAPI v1 or dmctl), waits on stages and syncer progress, and gtid-S from the downstream
 * checkpoint. No @pulumi/* import.
 */
import { dmAddressProblem } from "./address";
import { dmctlTlsProblem } from "./dmctl";
import { createDmctlClient } from "./dmctlClient";
import { createOpenApiClient } from "./openapi";
import { DmClient, DmEndpoint, Transport } from "./types";

export * from "./types";
export { dmAddressProblem, dmMembers } from "./address";
export { readCheckpointGtid, DownstreamAddress } from "./checkpoint";
export { waitForStage, waitForSyncerAdvance, WaitOptions, WaitTimeoutError } from "./wait";
export { editTaskFile } from "./taskFile";
export { memoizeReads } from "./memo";
export { statusOnSource } from "./sourceStatus";
export { readDmVersion } from "./version";
export {
    dmAppliesTaggedGtids,
    DmVersion,
    gtidTags,
    NamedGtidSet,
    parseDmStatus,
    taggedGtidRefusals,
} from "./capabilities";

/**
 * A client for the dm-master at `ep.address` (one `host:port`, or several comma-separated: the members of
 * a dm-master cluster, ./address.ts), over `ep.transport` (@default "openapi"). `log` hears which member
 * answers when there are several (OpenAPI; dmctl tries the list itself). @default log none
 */
export function createDmClient(
    given: Omit<DmEndpoint, "transport"> & { transport?: Transport },
    log?: (line: string) => void,
): DmClient {
    const ep: DmEndpoint = { ...given, transport: given.transport ?? "openapi" };
    const problem = dmAddressProblem(ep.address, "DM address");
    if (problem) {
        throw new TypeError(problem);
    }
    switch (ep.transport) {
        case "openapi":
            return createOpenApiClient(ep, log);
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
