/** What a Pulumi program may use from dm-switch. */
export { Source, SourceArgs, SourceVip } from "./source";
export { SourceBinding, SourceBindingArgs } from "./sourceBinding";
export { Vip, VipArgs } from "./vip";
export { vipHooks, VipHooksArgs } from "./hooks";
export {
    commandVip,
    CommandVipArgs,
    HookedVipArgs,
    route53RecordVip,
    Route53RecordVipArgs,
    VipIntent,
} from "./hookedVip";
export { SourceConfig, StackConfig, StackSource, validateStackConfig, vipOf } from "./stackConfig";
export type { AddressInputs, DmEndpointInputs, Flavor, MysqlTlsInputs, SwitchTimeouts, Transport } from "./model";
export type { VipBackendInputs } from "./providers/inputs";
