import { Layer } from "effect"
import { suite } from "./RateLimitStoreSuite.ts"

// The default: each rate-limit stage its own memory store. Redis.test.ts runs the same suite on Redis.
suite("memory", Layer.empty)
