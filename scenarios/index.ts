/**
 * The six scenarios of issue 14, shared by test/scenarios/*.test.ts and
 * examples/demo.ts. Not published (the package ships dist/ and src/ only):
 * they are the project's evidence, and a template for your own (see
 * docs/scenarios.md).
 */
export * as AdaptiveLimitSim from "./adaptiveLimit.ts"
export { analyticsPipeline } from "./analyticsPipeline.ts"
export * from "./common.ts"
export { outageRecovery } from "./outageRecovery.ts"
export { paymentSystem } from "./paymentSystem.ts"
export { ragClient } from "./ragClient.ts"
export * as Report from "./report.ts"
export { trafficSpike } from "./trafficSpike.ts"
export { transientBurst } from "./transientBurst.ts"
