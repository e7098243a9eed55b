/**
 * vitest global setup: one real redis-server for the whole run, its port
 * handed to the tests as `inject("redisPort")` (null when there is none).
 *
 * `REQUIRE_REDIS=1` (set by .ci/run) makes a missing server fail the run;
 * without it, only the Redis suites are skipped, and this says so loudly.
 */
import type { TestProject } from "vitest/node"
import { findRedisServer, installCommand, startRedisServer } from "./server.ts"

declare module "vitest" {
  export interface ProvidedContext {
    /** Port of the shared test redis-server on 127.0.0.1, or null when redis-server is not installed. */
    redisPort: number | null
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const binary = findRedisServer()
  if (binary === undefined) {
    if (process.env["REQUIRE_REDIS"] === "1") {
      throw new Error(`REQUIRE_REDIS=1 but redis-server is not installed. Install it with: ${installCommand}`)
    }
    const line = "!".repeat(78)
    console.warn(
      `\n${line}\n!! redis-server is not installed: the Redis test suites are SKIPPED.\n` +
        `!! Install it with: ${installCommand}\n!! (CI sets REQUIRE_REDIS=1, under which this fails the run.)\n${line}\n`
    )
    project.provide("redisPort", null)
    return undefined
  }
  const server = await startRedisServer({ binary })
  project.provide("redisPort", server.port)
  return () => server.dispose()
}
