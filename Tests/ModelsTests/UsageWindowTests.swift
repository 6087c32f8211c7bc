// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct UsageWindowTests {
    @Test func countsTheLastMinute() {
        var w = UsageWindow()
        w.addRequest(at: 1_000)
        w.addTokens(50, at: 1_500)
        w.addRequest(at: 30_000)
        w.addTokens(20, at: 30_200)
        #expect(w.used(at: 30_500) == (2, 70))
        // The first second leaves the window 60 s later.
        #expect(w.used(at: 60_999) == (2, 70))
        #expect(w.used(at: 61_000) == (1, 20))
        #expect(w.used(at: 90_000) == (0, 0))
    }

    @Test func aBucketIsReusedAfterAMinute() {
        var w = UsageWindow()
        w.addRequest(at: 5_000)
        w.addRequest(at: 65_000)  // the same bucket, a minute later
        #expect(w.used(at: 65_000) == (1, 0))
    }

    @Test func timeUntilBelowTheLimits() {
        var w = UsageWindow()
        for t in [1_000, 2_000, 3_000] as [Int64] { w.addRequest(at: t) }
        #expect(w.msUntilBelow(rpm: 4, tpm: nil, at: 3_500) == 0)
        // At 3 of 3: the request of second 1 leaves at 61 s.
        #expect(w.msUntilBelow(rpm: 3, tpm: nil, at: 3_500) == Int64(61_000 - 3_500))
        #expect(w.msUntilBelow(rpm: 2, tpm: nil, at: 3_500) == Int64(62_000 - 3_500))
        w.addTokens(1_000, at: 10_000)
        #expect(w.msUntilBelow(rpm: nil, tpm: 500, at: 10_000) == Int64(70_000 - 10_000))
        #expect(w.msUntilBelow(rpm: nil, tpm: nil, at: 10_000) == 0)
    }

    @Test func extremeCountsSaturate() {
        var w = UsageWindow()
        w.addTokens(.max, at: 0)
        w.addTokens(.max, at: 1_000)
        #expect(w.used(at: 1_000).tokens == .max)
        w.addTokens(-5, at: 1_000)
        #expect(w.used(at: 1_000).tokens == .max)
    }

    @Test func loadAccountsTokensAndLatency() {
        let load = DeploymentLoad()
        load.begin("p/m", at: 1_000)
        #expect(load.snapshot("p/m", at: 1_000).inFlight == 1)
        load.end("p/m", at: 1_200, firstByteMs: 200, tokens: 30)
        load.begin("p/m", at: 2_000)
        load.end("p/m", at: 2_100, firstByteMs: 100, tokens: 20)
        let s = load.snapshot("p/m", at: 2_100)
        #expect(s.inFlight == 0 && s.requestsThisMinute == 2 && s.tokensThisMinute == 50)
        #expect(s.latencyMs == 200 + DeploymentLoad.latencySmoothing * (100 - 200))
        #expect(load.msUntilBelow("p/m", rpm: nil, tpm: 50, at: 2_100) == 61_000 - 2_100)
        #expect(load.msUntilBelow("p/m", rpm: 3, tpm: 60, at: 2_100) == 0)
        // A failure counts as slow in the average.
        load.begin("p/m", at: 3_000)
        load.end("p/m", at: 3_100, firstByteMs: nil, tokens: 0)
        let latency = load.snapshot("p/m", at: 3_100).latencyMs!
        #expect(latency > 9_000)
    }
}
