// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct CooldownTests {
    static func config(base: Int64 = 60_000, max: Int64 = 3_600_000, multiplier: Double = 5) -> CooldownConfig {
        var c = CooldownConfig()
        c.baseMs = base
        c.maxMs = max
        c.multiplier = multiplier
        return c
    }

    @Test(arguments: [
        // (failures, expected delay) with the defaults: 1 min, ×5, capped at 1 h.
        (0, Int64(0)), (1, 60_000), (2, 300_000), (3, 1_500_000), (4, 3_600_000), (5, 3_600_000), (100, 3_600_000),
    ])
    func delaySchedule(failures: Int, expected: Int64) {
        #expect(Cooldown.delayMs(failures: failures, config: CooldownConfig()) == expected)
    }

    @Test func firstFailureCoolsForBaseThenEscalatesAndCaps() {
        let clock = SteppedClock()
        let cd = Cooldown(now: clock.now)
        #expect(cd.isAvailable("a/m"))
        #expect(cd.remainingMs("a/m") == 0)

        #expect(cd.recordFailure("a/m") == 60_000)
        #expect(!cd.isAvailable("a/m"))
        #expect(cd.remainingMs("a/m") == 60_000)
        #expect(cd.recordFailure("a/m") == 300_000)
        #expect(cd.remainingMs("a/m") == 300_000)
        #expect(cd.recordFailure("a/m") == 1_500_000)
        #expect(cd.recordFailure("a/m") == 3_600_000)
        #expect(cd.recordFailure("a/m") == 3_600_000)
        #expect(cd.remainingMs("a/m") == 3_600_000)
        #expect(cd.failures("a/m") == 5)
    }

    @Test func remainingDecreasesWithTheClockUntilAvailable() {
        let clock = SteppedClock()
        let cd = Cooldown(now: clock.now)
        cd.recordFailure("m")
        clock.advance(1_000)
        #expect(cd.remainingMs("m") == 59_000)
        #expect(!cd.isAvailable("m"))
        clock.advance(58_999)
        #expect(cd.remainingMs("m") == 1)
        #expect(!cd.isAvailable("m"))
        clock.advance(1)
        #expect(cd.remainingMs("m") == 0)
        #expect(cd.isAvailable("m"))
    }

    @Test func successClearsEverything() {
        let clock = SteppedClock()
        let cd = Cooldown(now: clock.now)
        cd.recordFailure("m")
        cd.recordFailure("m")
        cd.recordSuccess("m")
        #expect(cd.isAvailable("m"))
        #expect(cd.failures("m") == 0)
        #expect(cd.count == 0)
        #expect(cd.recordFailure("m") == 60_000)
    }

    @Test func expiredCooldownKeepsCountSoNextFailureEscalates() {
        let clock = SteppedClock()
        let cd = Cooldown(now: clock.now)
        cd.recordFailure("m")
        clock.advance(60_000)
        #expect(cd.isAvailable("m"))
        #expect(cd.failures("m") == 1)
        #expect(cd.count == 1)
        #expect(cd.recordFailure("m") == 300_000)
        clock.advance(300_000 + 10_000)
        #expect(cd.isAvailable("m"))
        #expect(cd.recordFailure("m") == 1_500_000)
    }

    @Test func modelOutOfCooldownForMaxDelayStartsFresh() {
        let clock = SteppedClock()
        let cd = Cooldown(config: Self.config(base: 100, max: 1_000, multiplier: 2), now: clock.now)
        cd.recordFailure("m")            // 100
        cd.recordFailure("m")            // 200, expires at +200
        clock.advance(200 + 999)         // expired 999 ms ago: still escalates
        #expect(cd.failures("m") == 2)
        #expect(cd.recordFailure("m") == 400)
        clock.advance(400 + 1_000)       // expired exactly max ago: stale
        #expect(cd.failures("m") == 0)
        #expect(cd.count == 1)
        #expect(cd.recordFailure("m") == 100)
    }

    @Test func availableFromKeepsOrder() {
        let clock = SteppedClock()
        let cd = Cooldown(now: clock.now)
        let models = ["a/1", "b/2", "c/3", "d/4", "e/5"]
        cd.recordFailure("b/2")
        cd.recordFailure("d/4")
        #expect(cd.availableFrom(models) == ["a/1", "c/3", "e/5"])
        #expect(cd.availableFrom(["e/5", "d/4", "a/1"]) == ["e/5", "a/1"])
        #expect(cd.availableFrom([]) == [])
        clock.advance(60_000)
        #expect(cd.availableFrom(models) == models)
    }

    @Test func resetAndResetAll() {
        let clock = SteppedClock()
        let cd = Cooldown(now: clock.now)
        for m in ["a", "b", "c"] { cd.recordFailure(m) }
        cd.recordFailure("a")
        cd.reset("a")
        #expect(cd.isAvailable("a"))
        #expect(cd.failures("a") == 0)
        #expect(!cd.isAvailable("b"))
        #expect(cd.count == 2)
        cd.reset("unknown")
        #expect(cd.count == 2)
        cd.resetAll()
        #expect(cd.count == 0)
        #expect(cd.availableFrom(["a", "b", "c"]) == ["a", "b", "c"])
        #expect(cd.recordFailure("a") == 60_000)
    }

    @Test func gcRemovesOnlyEntriesThatCanNoLongerEscalate() {
        let clock = SteppedClock()
        let cd = Cooldown(config: Self.config(base: 100, max: 1_000, multiplier: 2), now: clock.now)
        cd.recordFailure("cooling")      // will be re-failed later to stay in cooldown
        cd.recordFailure("recent")       // expires at +100
        cd.recordFailure("old")          // expires at +100
        cd.gc()
        #expect(cd.count == 3)           // all cooling

        clock.advance(100)
        cd.gc()
        #expect(cd.count == 3)           // expired, but their next failure must escalate
        #expect(cd.failures("recent") == 1)

        clock.advance(500)
        cd.recordFailure("cooling")      // 200 ms from +600
        cd.recordFailure("recent")       // 200 ms from +600, expires at +800
        clock.advance(500)               // +1100: "old" expired 1000 ago → stale
        cd.gc()
        #expect(cd.count == 2)
        #expect(cd.failures("old") == 0)
        #expect(cd.failures("recent") == 2)

        clock.advance(10_000)
        cd.gc()
        #expect(cd.count == 0)
    }

    @Test func gcDoesNotChangeAnyAnswer() {
        // The same script with and without gc after every step gives the same answers.
        func run(gc: Bool) -> [Int64] {
            let clock = SteppedClock()
            let cd = Cooldown(config: Self.config(base: 100, max: 1_000, multiplier: 3), now: clock.now)
            var out: [Int64] = []
            for step in 0..<200 {
                if step % 3 == 0 { out.append(cd.recordFailure("m\(step % 4)")) }
                if step % 17 == 0 { cd.recordSuccess("m1") }
                clock.advance(Int64((step * 37) % 450))
                if gc { cd.gc() }
                for m in ["m0", "m1", "m2", "m3"] {
                    out.append(cd.remainingMs(m))
                    out.append(Int64(cd.failures(m)))
                }
            }
            return out
        }
        #expect(run(gc: true) == run(gc: false))
    }

    @Test func concurrentFailuresLeaveAConsistentCount() async {
        let clock = SteppedClock()
        let cd = Cooldown(now: clock.now)
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for _ in 0..<1_000 {
                        cd.recordFailure("shared")
                        cd.recordFailure("own-\(t)")
                        _ = cd.isAvailable("shared")
                        _ = cd.availableFrom(["shared", "own-\(t)", "other"])
                    }
                }
            }
        }
        #expect(cd.failures("shared") == 8_000)
        for t in 0..<8 { #expect(cd.failures("own-\(t)") == 1_000) }
        #expect(cd.count == 9)
        #expect(cd.remainingMs("shared") == 3_600_000)
    }

    @Test func hugeFailureCountsDoNotOverflow() {
        for failures in [64, 1_000, 100_000, Int.max - 1, Int.max] {
            #expect(Cooldown.delayMs(failures: failures, config: CooldownConfig()) == 3_600_000)
            #expect(Cooldown.delayMs(failures: failures, config: Self.config(multiplier: 1000)) == 3_600_000)
            #expect(Cooldown.delayMs(failures: failures, config: Self.config(multiplier: 1)) == 60_000)
            #expect(Cooldown.delayMs(failures: failures, config: Self.config(multiplier: .nan)) == 60_000)
            #expect(Cooldown.delayMs(failures: failures, config: Self.config(multiplier: .infinity)) == 3_600_000)
            #expect(Cooldown.delayMs(failures: failures, config: Self.config(base: .max, max: .max)) == .max)
        }
        // A multiplier below 1 never shrinks the delay below base.
        #expect(Cooldown.delayMs(failures: 3, config: Self.config(multiplier: 0.5)) == 60_000)
        // max below base: the cap wins.
        #expect(Cooldown.delayMs(failures: 1, config: Self.config(base: 5_000, max: 1_000)) == 1_000)

        let clock = SteppedClock(.max - 10)
        let cd = Cooldown(config: Self.config(base: .max, max: .max), now: clock.now)
        #expect(cd.recordFailure("m") == .max)   // until saturates instead of trapping
        #expect(!cd.isAvailable("m"))
        for _ in 0..<10_000 { cd.recordFailure("m") }
        #expect(cd.failures("m") == 10_001)
        cd.gc()
        #expect(cd.count == 1)
    }
}
