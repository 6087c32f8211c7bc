// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct RetryPolicyTests {
    static let retryable: [(String, ModelsError)] = [
        ("408", .api(status: 408, message: "timeout")),
        ("429", .api(status: 429, message: "slow down", retryAfterMs: 2_000)),
        ("500", .api(status: 500, message: "oops")),
        ("502", .api(status: 502, message: "bad gateway")),
        ("503", .api(status: 503, message: "unavailable")),
        ("504", .api(status: 504, message: "gateway timeout")),
        ("529", .api(status: 529, message: "overloaded")),
        ("connection reset", ModelsError(.transport, "connection reset", isTransient: true)),
        ("connection refused", ModelsError(.transport, "connection refused", isTransient: true)),
        ("transfer timeout", ModelsError(.timeout, "no data for 30 s", isTransient: true)),
    ]

    static let permanent: [(String, ModelsError)] = [
        ("400", .api(status: 400, message: "bad request")),
        ("401", .api(status: 401, message: "unauthorized")),
        ("403", .api(status: 403, message: "forbidden")),
        ("404", .api(status: 404, message: "not found")),
        ("422", .api(status: 422, message: "unprocessable")),
        ("401 flagged transient", ModelsError(.api, "x", status: 401, isTransient: true)),
        ("cancelled", ModelsError(.cancelled, "cancelled by caller")),
        ("cancelled flagged transient", ModelsError(.cancelled, "cancelled", isTransient: true)),
        ("invalid argument", .invalidArgument("bad")),
        ("no provider", ModelsError(.noProvider, "provider x not registered", isTransient: true)),
        ("permanent transport", ModelsError(.transport, "TLS certificate rejected")),
        ("router deadline", ModelsError(.timeout, "model timeout")),
        ("protocol", ModelsError(.protocol, "not JSON")),
        ("all failed", ModelsError(.allFailed, "all", status: 503, isTransient: true)),
        ("all cooldown", ModelsError(.allCooldown, "all models in cooldown")),
        ("no memory", ModelsError(.noMemory, "nomem")),
    ]

    @Test func defaultsMatchTheDesign() {
        let p = RetryPolicy()
        #expect(p.maxRetries == 2)
        #expect(p.attempts == 3)
        #expect(p.baseMs == 500)
        #expect(p.maxMs == 10_000)
        #expect(RetryPolicy(config: RouterConfig(primary: "openai/gpt-4o")) == p)

        var config = RouterConfig(primary: "openai/gpt-4o")
        config.maxRetries = 5
        config.retryBaseMs = 10
        config.retryMaxMs = 40
        #expect(RetryPolicy(config: config) == RetryPolicy(maxRetries: 5, baseMs: 10, maxMs: 40))
        #expect(RetryPolicy(maxRetries: 0).attempts == 1)
        #expect(RetryPolicy(maxRetries: -3).attempts == 1)
    }

    @Test(arguments: retryable)
    func transientErrorsAreRetriedUntilMaxRetries(name: String, error: ModelsError) {
        let p = RetryPolicy()
        #expect(p.shouldRetry(after: error, attempt: 0), "\(name)")
        #expect(p.shouldRetry(after: error, attempt: 1), "\(name)")
        #expect(!p.shouldRetry(after: error, attempt: 2), "\(name)")
        #expect(!p.shouldRetry(after: error, attempt: 3), "\(name)")
        #expect(!RetryPolicy(maxRetries: 0).shouldRetry(after: error, attempt: 0), "\(name)")
        #expect(RetryPolicy(maxRetries: 5).shouldRetry(after: error, attempt: 4), "\(name)")
        #expect(!RetryPolicy(maxRetries: 5).shouldRetry(after: error, attempt: 5), "\(name)")
    }

    @Test(arguments: permanent)
    func permanentErrorsAreNeverRetried(name: String, error: ModelsError) {
        for attempt in 0..<3 {
            #expect(!RetryPolicy(maxRetries: 10).shouldRetry(after: error, attempt: attempt), "\(name)")
        }
    }

    @Test func attemptsSimulation() {
        // A model that always fails with 503 gets exactly `attempts` tries.
        for maxRetries in 0...4 {
            let p = RetryPolicy(maxRetries: maxRetries)
            var tries = 0
            var attempt = 0
            while true {
                tries += 1
                if !p.shouldRetry(after: .api(status: 503, message: "x"), attempt: attempt) { break }
                attempt += 1
            }
            #expect(tries == maxRetries + 1)
            #expect(tries == p.attempts)
        }
    }

    // (retry, delay at random 0.5 = no jitter)
    static let backoffTable: [(Int, Int64)] = [
        (0, 500), (1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000), (5, 10_000), (6, 10_000),
        (62, 10_000), (63, 10_000), (1_000, 10_000), (Int.max, 10_000),
    ]

    @Test(arguments: backoffTable)
    func backoffDoublesAndCaps(retry: Int, expected: Int64) {
        #expect(RetryPolicy().delayMs(retry: retry, retryAfterMs: 0, random: 0.5) == expected)
    }

    // (retry, at random 0 (−25 %), at random → 1 (+25 %))
    static let jitterTable: [(Int, Int64, Int64)] = [
        (0, 375, 625), (1, 750, 1_250), (2, 1_500, 2_500), (3, 3_000, 5_000),
        (4, 6_000, 10_000),           // 8 s + 25 % is capped at max
        (5, 7_500, 10_000), (9, 7_500, 10_000),
    ]

    @Test(arguments: jitterTable)
    func jitterIsWithin25Percent(retry: Int, low: Int64, high: Int64) {
        let p = RetryPolicy()
        #expect(p.delayMs(retry: retry, retryAfterMs: 0, random: 0) == low)
        #expect(p.delayMs(retry: retry, retryAfterMs: 0, random: 0.999_999_9) == high)
        for i in 0..<100 {
            let d = p.delayMs(retry: retry, retryAfterMs: 0, random: Double(i) / 100)
            #expect(d >= low && d <= high)
        }
    }

    @Test func outOfRangeRandomIsClamped() {
        let p = RetryPolicy()
        #expect(p.delayMs(retry: 0, retryAfterMs: 0, random: -5) == 375)
        #expect(p.delayMs(retry: 0, retryAfterMs: 0, random: 7) == 625)
        #expect(p.delayMs(retry: 0, retryAfterMs: 0, random: .nan) == 500)
        #expect(p.delayMs(retry: -1, retryAfterMs: 0, random: 0.5) == 500)
    }

    // (retry, retryAfterMs, random, expected)
    static let retryAfterTable: [(Int, Int64, Double, Int64)] = [
        (0, 3_000, 0.5, 3_000),   // longer Retry-After honoured
        (0, 400, 0.9, 600),                     // shorter Retry-After ignored
        (3, 3_500, 0.0, 3_500),                 // longer than the jittered 3000
        (3, 3_500, 0.9, 4_800),                 // shorter than the jittered 4800
        (0, 30_000, 0.5, 10_000),               // capped at max
        (0, .max, 0.5, 10_000),
        (0, -1_000, 0.5, 500),                  // nonsense ignored
    ]

    @Test(arguments: retryAfterTable)
    func retryAfterIsHonouredButCapped(retry: Int, retryAfterMs: Int64, random: Double, expected: Int64) {
        #expect(RetryPolicy().delayMs(retry: retry, retryAfterMs: retryAfterMs, random: random) == expected)
    }

    @Test func smallAndDegenerateSettings() {
        let ms = RetryPolicy(maxRetries: 2, baseMs: 10, maxMs: 40)
        #expect((0..<4).map { ms.delayMs(retry: $0, retryAfterMs: 0, random: 0.5) } == [10, 20, 40, 40])
        #expect(ms.delayMs(retry: 0, retryAfterMs: 1_000, random: 0.5) == 40)

        let zero = RetryPolicy(maxRetries: 2, baseMs: 0, maxMs: 0)
        #expect(zero.delayMs(retry: 3, retryAfterMs: 5_000, random: 0.9) == 0)

        let negative = RetryPolicy(maxRetries: 2, baseMs: -5, maxMs: -1)
        #expect(negative.delayMs(retry: 1, retryAfterMs: 10, random: 0.3) == 0)

        let huge = RetryPolicy(maxRetries: 2, baseMs: .max, maxMs: .max)
        #expect(huge.delayMs(retry: 40, retryAfterMs: 0, random: 0.999) > 0)
    }
}
