// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct TokenBucketTests {
    @Test func burstThenEvenSpacing() {
        var b = TokenBucket(requestsPerSecond: 10, burst: 3, nowMs: 0)
        let waits = (0..<7).map { _ in b.reserve(nowMs: 0) }
        #expect(waits == [0, 0, 0, 100, 200, 300, 400])
    }

    @Test(arguments: [
        // (rps, burst, waits of 5 reservations at one instant)
        (1.0, 1, [Int64(0), 1_000, 2_000, 3_000, 4_000]),
        (0.5, 1, [0, 2_000, 4_000, 6_000, 8_000]),
        (0.5, 2, [0, 0, 2_000, 4_000, 6_000]),
        (3.0, 1, [0, 334, 667, 1_000, 1_334]),
        (1_000.0, 2, [0, 0, 1, 2, 3]),
        (4.0, 10, [0, 0, 0, 0, 0]),
    ])
    func spacingIsOneOverRate(rps: Double, burst: Int, expected: [Int64]) {
        var b = TokenBucket(requestsPerSecond: rps, burst: burst, nowMs: 5_000)
        #expect((0..<5).map { _ in b.reserve(nowMs: 5_000) } == expected)
    }

    @Test func refillsOverTimeCappedAtBurst() {
        var b = TokenBucket(requestsPerSecond: 10, burst: 2, nowMs: 0)
        #expect(b.reserve(nowMs: 0) == 0)
        #expect(b.reserve(nowMs: 0) == 0)
        #expect(b.reserve(nowMs: 0) == 100)   // takes the token refilled at 100
        #expect(b.reserve(nowMs: 150) == 50)  // the next one is due at 200
        #expect(b.reserve(nowMs: 300) == 0)   // refilled at 300
        // A long idle time refills only up to burst.
        #expect(b.reserve(nowMs: 100_000) == 0)
        #expect(b.reserve(nowMs: 100_000) == 0)
        #expect(b.reserve(nowMs: 100_000) == 100)
        #expect(b.tokens == -1)
    }

    @Test func fractionalRateRefillsSlowly() {
        var b = TokenBucket(requestsPerSecond: 0.5, burst: 1, nowMs: 0)
        #expect(b.reserve(nowMs: 0) == 0)
        #expect(b.reserve(nowMs: 1_000) == 1_000)  // half a token has come back; due at 2000
        #expect(b.reserve(nowMs: 3_000) == 1_000)  // due at 4000
        #expect(b.reserve(nowMs: 10_000) == 0)
    }

    @Test func cancelReservationReturnsTheToken() {
        var b = TokenBucket(requestsPerSecond: 1, burst: 1, nowMs: 0)
        #expect(b.reserve(nowMs: 0) == 0)
        #expect(b.reserve(nowMs: 0) == 1_000)
        #expect(b.reserve(nowMs: 0) == 2_000)
        b.cancelReservation(nowMs: 10)             // the 2000 ms waiter gave up
        #expect(b.reserve(nowMs: 10) == 1_990)     // the next caller takes its place
        b.cancelReservation(nowMs: 10)
        b.cancelReservation(nowMs: 10)
        b.cancelReservation(nowMs: 10)
        // Returned tokens never exceed burst.
        #expect(b.tokens == 1)
        #expect(b.reserve(nowMs: 10) == 0)
        #expect(b.reserve(nowMs: 10) == 1_000)
    }

    @Test func clockGoingBackwardsDoesNotRefill() {
        var b = TokenBucket(requestsPerSecond: 10, burst: 1, nowMs: 1_000)
        #expect(b.reserve(nowMs: 1_000) == 0)
        #expect(b.reserve(nowMs: 990) == 110)     // due at 1100, seen from 990
        #expect(b.lastMs == 1_000)
        #expect(b.reserve(nowMs: 1_100) == 100)
    }

    @Test func nonPositiveRateMeansNoLimitAndBurstIsAtLeastOne() {
        for rps in [0.0, -1, .nan, .infinity] {
            var b = TokenBucket(requestsPerSecond: rps, burst: 1, nowMs: 0)
            #expect((0..<10).allSatisfy { _ in b.reserve(nowMs: 0) == 0 })
            b.cancelReservation(nowMs: 0)
        }
        var b = TokenBucket(requestsPerSecond: 1, burst: 0, nowMs: 0)
        #expect(b.burst == 1)
        #expect(b.reserve(nowMs: 0) == 0)
        #expect(b.reserve(nowMs: 0) == 1_000)
    }

    @Test func rateLimiterUsesTheInjectedClock() {
        let clock = SteppedClock(0)
        let limiter = RateLimiter(config: RateLimitConfig(requestsPerSecond: 2, burst: 1), now: clock.now)
        #expect(limiter.reserve() == 0)
        #expect(limiter.reserve() == 500)
        clock.advance(200)
        #expect(limiter.reserve() == 800)
        limiter.cancelReservation()
        clock.advance(300)
        #expect(limiter.reserve() == 500)
        clock.advance(10_000)
        #expect(limiter.reserve() == 0)
    }

    @Test func concurrentReservationsAreSpacedEvenly() async {
        let clock = SteppedClock(0)
        let limiter = RateLimiter(config: RateLimitConfig(requestsPerSecond: 100, burst: 4), now: clock.now)
        let waits = await withTaskGroup(of: [Int64].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<50).map { _ in limiter.reserve() } }
            }
            return await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        // 400 reservations at one instant: 4 free, then one every 10 ms.
        let expected = [Int64](repeating: 0, count: 4) + (1...396).map { Int64($0) * 10 }
        #expect(waits.sorted() == expected)
    }
}

@Suite struct MonotonicClockTests {
    @Test func neverRunsBackwards() {
        var last = MonotonicClock.nowMs()
        #expect(last > 0)
        for _ in 0..<1_000 {
            let t = MonotonicClock.nowMs()
            #expect(t >= last)
            last = t
        }
    }
}
