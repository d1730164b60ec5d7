/** The VIP backend a Vip's `backend` input names. */
import { HaproxyVip } from "../vipBackends/haproxy";
import { VipBackend } from "../vipBackends/types";
import { VipBackendInputs } from "./inputs";

/** Loaded on first use (a typed `require`, as every lazy load in components/): the AWS SDK is large and only AWS stacks need it. */
const aws = (): typeof import("../vipBackends/aws") => require("../vipBackends/aws");

export function vipBackend(b: VipBackendInputs): VipBackend {
    switch (b.kind) {
        case "haproxy":
            return new HaproxyVip({ socket: b.socket, backend: b.backend, servers: b.servers });
        case "route53":
        case "eni":
            return aws().awsVipBackend(b);
    }
}
