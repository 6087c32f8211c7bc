// SPDX-License-Identifier: Apache-2.0
import Foundation
import Synchronization
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// The Copilot token cache (expiry margin, single flight, failures shared with
/// waiters, a cancelled exchanger handing over) and the token answer's parsing.
@Suite struct CopilotTokenCacheTests {
    static func token(_ name: String, expiresAt: Int64, api: String = "https://api.example") -> CopilotToken {
        CopilotToken(credentials: CopilotCredentials(token: name, apiURL: api), expiresAt: expiresAt)
    }

    @Test func firstCallerExchangesThenTheTokenIsReusedUntilTheMargin() {
        var cache = CopilotTokenCache(marginSeconds: 60)
        #expect(cache.next(now: 1000) == .exchange)
        let t = Self.token("a", expiresAt: 2000)
        cache.exchangeFinished(.success(t))
        #expect(cache.next(now: 1000) == .use(t.credentials))
        #expect(cache.next(now: 1939) == .use(t.credentials))
        // From 60 s before expiry on, the token is not handed out.
        #expect(cache.next(now: 1940) == .exchange)
    }

    @Test func aTokenThatArrivesInsideTheMarginIsExchangedAgainNextTime() {
        var cache = CopilotTokenCache()
        #expect(cache.next(now: 1000) == .exchange)
        cache.exchangeFinished(.success(Self.token("near", expiresAt: 1030)))
        #expect(cache.next(now: 1000) == .exchange)
    }

    @Test func whileOneExchangesTheOthersWaitAndGetItsToken() {
        var cache = CopilotTokenCache()
        #expect(cache.next(now: 1000) == .exchange)
        guard case .wait(let t1) = cache.next(now: 1000), case .wait(let t2) = cache.next(now: 1000) else {
            Issue.record("expected the other callers to wait")
            return
        }
        // Woken without a finished exchange (a spurious wake-up): still waiting.
        #expect(cache.next(now: 1000, ticket: t1) == .wait(ticket: t1))
        // The exchange returns a token that is already stale: the waiters use it
        // anyway, or each would exchange again.
        let stale = Self.token("stale", expiresAt: 10)
        cache.exchangeFinished(.success(stale))
        #expect(cache.next(now: 1000, ticket: t1) == .use(stale.credentials))
        #expect(cache.next(now: 1000, ticket: t2) == .use(stale.credentials))
        // A newcomer finds it stale and exchanges.
        #expect(cache.next(now: 1000) == .exchange)
    }

    @Test func waitersShareTheExchangesFailureAndTheNextCallerTriesAgain() {
        var cache = CopilotTokenCache()
        #expect(cache.next(now: 1000) == .exchange)
        guard case .wait(let ticket) = cache.next(now: 1000) else {
            Issue.record("expected a wait")
            return
        }
        let refused = ModelsError(.api, "github-copilot: the GitHub token was refused", status: 401)
        cache.exchangeFinished(.failure(refused))
        #expect(cache.next(now: 1000, ticket: ticket) == .fail(refused))
        #expect(cache.next(now: 1000) == .exchange)
    }

    @Test func aFailedRefreshKeepsAStillFreshToken() {
        var cache = CopilotTokenCache()
        _ = cache.next(now: 1000)
        let t = Self.token("a", expiresAt: 5000)
        cache.exchangeFinished(.success(t))
        cache.exchangeFinished(.failure(ModelsError(.timeout, "slow", isTransient: true)))
        #expect(cache.next(now: 1000) == .use(t.credentials))
    }

    @Test func anAbandonedExchangeIsTakenOverByAWaiter() {
        var cache = CopilotTokenCache()
        #expect(cache.next(now: 1000) == .exchange)
        guard case .wait(let ticket) = cache.next(now: 1000) else {
            Issue.record("expected a wait")
            return
        }
        cache.exchangeAbandoned() // the exchanging caller was cancelled
        #expect(cache.next(now: 1000, ticket: ticket) == .exchange)
        // Others keep waiting, now for the new exchanger.
        #expect(cache.next(now: 1000, ticket: ticket) == .wait(ticket: ticket))
    }
}

@Suite struct CopilotTokenExchangeTests {
    final class FakeClock: Sendable {
        let seconds = Atomic<Int64>(1_000)
        var now: @Sendable () -> Int64 { { self.seconds.load(ordering: .relaxed) } }
    }

    /// Counts fetches; each returns token-<n> valid for `lifetime` seconds after a pause.
    final class FakeExchange: Sendable {
        let fetches = Atomic<Int>(0)
        let clock: FakeClock
        let lifetime: Int64
        let pauseMicroseconds: UInt32

        init(clock: FakeClock, lifetime: Int64 = 1800, pauseMicroseconds: UInt32 = 0) {
            self.clock = clock
            self.lifetime = lifetime
            self.pauseMicroseconds = pauseMicroseconds
        }

        var fetch: CopilotTokenExchange.Fetch {
            { _ throws(ModelsError) in
                let n = self.fetches.add(1, ordering: .relaxed).newValue
                if self.pauseMicroseconds > 0 { usleep(self.pauseMicroseconds) }
                return CopilotToken(credentials: CopilotCredentials(token: "token-\(n)", apiURL: "https://api.example"),
                                    expiresAt: self.clock.now() + self.lifetime)
            }
        }
    }

    @Test func cachesUntilTheMarginThenRefreshes() throws {
        let clock = FakeClock()
        let fake = FakeExchange(clock: clock, lifetime: 600)
        let source = CopilotTokenExchange(now: clock.now, fetch: fake.fetch)
        #expect(try source.credentials(nil).token == "token-1")
        clock.seconds.store(1_539, ordering: .relaxed)
        #expect(try source.credentials(nil).token == "token-1")
        clock.seconds.store(1_540, ordering: .relaxed) // 60 s before expiry
        #expect(try source.credentials(nil).token == "token-2")
        #expect(fake.fetches.load(ordering: .relaxed) == 2)
    }

    @Test func manyThreadsNeedingATokenCauseOneFetch() {
        let clock = FakeClock()
        let fake = FakeExchange(clock: clock, pauseMicroseconds: 100_000)
        let source = CopilotTokenExchange(now: clock.now, fetch: fake.fetch)
        let tokens = Shared<[String]>([])
        onThreads(16) {
            let token = (try? source.credentials(nil).token) ?? "failed"
            tokens.update { $0.append(token) }
        }
        #expect(fake.fetches.load(ordering: .relaxed) == 1)
        #expect(tokens.get() == Array(repeating: "token-1", count: 16))
    }

    /// Runs `body` on `n` threads of their own at once (not a pool sized to the
    /// cores), and returns when all are done.
    func onThreads(_ n: Int, _ body: @escaping @Sendable () -> Void) {
        let group = DispatchGroup()
        for _ in 0..<n {
            group.enter()
            Thread { body(); group.leave() }.start()
        }
        group.wait()
    }

    /// A value several threads read and write.
    final class Shared<T: Sendable>: Sendable {
        private let value: Mutex<T>
        init(_ v: T) { value = Mutex(v) }
        func get() -> T { value.withLock { $0 } }
        func set(_ v: T) { value.withLock { $0 = v } }
        func update(_ body: (inout T) -> Void) { value.withLock { body(&$0) } }
    }

    @Test func aCancelledWaiterStopsWaitingWhileTheExchangeGoesOn() throws {
        let clock = FakeClock()
        let fake = FakeExchange(clock: clock, pauseMicroseconds: 500_000)
        let source = CopilotTokenExchange(now: clock.now, fetch: fake.fetch)
        let leaderDone = Shared(false)
        Thread { _ = try? source.credentials(nil); leaderDone.set(true) }.start()
        while fake.fetches.load(ordering: .relaxed) == 0 { usleep(1_000) }

        let cancellation = Cancellation()
        let outcome = Shared<ModelsCode?>(nil)
        let leaderDoneWhenWaiterReturned = Shared(false)
        Thread {
            do throws(ModelsError) { _ = try source.credentials(cancellation) } catch { outcome.set(error.code) }
            leaderDoneWhenWaiterReturned.set(leaderDone.get())
        }.start()
        usleep(20_000)
        cancellation.cancel()
        while outcome.get() == nil { usleep(1_000) }
        #expect(outcome.get() == .cancelled)
        // Woken by the cancel, not by the end of the 500 ms exchange.
        #expect(!leaderDoneWhenWaiterReturned.get())
        // The exchange still completes for everyone else.
        #expect(try source.credentials(nil).token == "token-1")
        #expect(fake.fetches.load(ordering: .relaxed) == 1)
    }

    @Test func aFailedExchangeReachesTheWaitersAndIsRetriedByTheNextCaller() throws {
        let clock = FakeClock()
        let attempts = Shared(0)
        let source = CopilotTokenExchange(now: clock.now) { _ throws(ModelsError) in
            var n = 0
            attempts.update { $0 += 1; n = $0 }
            if n == 1 {
                usleep(100_000)
                throw ModelsError.api(status: 503, message: "github-copilot: the Copilot token exchange answered HTTP 503")
            }
            return CopilotToken(credentials: CopilotCredentials(token: "ok", apiURL: "https://api.example"), expiresAt: 99_999)
        }
        let failures = Shared(0)
        onThreads(4) {
            do throws(ModelsError) { _ = try source.credentials(nil) } catch {
                if error.status == 503 && error.isTransient { failures.update { $0 += 1 } }
            }
        }
        #expect(attempts.get() == 1)
        #expect(failures.get() == 4)
        #expect(try source.credentials(nil).token == "ok")
    }
}

@Suite struct CopilotTokenResponseTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func readsTokenExpiryAndAPIURL() throws {
        let t = try CopilotTokenResponse.parse(
            Self.bytes(#"{"token":"tid=1;exp=2:abc","expires_at":1760000000,"refresh_in":1500,"endpoints":{"api":"https://api.business.githubcopilot.com/"}}"#),
            host: "api.github.com")
        #expect(t.credentials.token == "tid=1;exp=2:abc")
        #expect(t.expiresAt == 1_760_000_000)
        #expect(t.credentials.apiURL == "https://api.business.githubcopilot.com")
    }

    @Test func theAPIURLDefaultsToTheIndividualEndpoint() throws {
        let t = try CopilotTokenResponse.parse(Self.bytes(#"{"token":"x1","expires_at":5}"#), host: "h")
        #expect(t.credentials.apiURL == "https://api.individual.githubcopilot.com")
    }

    @Test(arguments: [
        (#"not json"#, "invalid JSON"),
        (#"[]"#, "not an object"),
        (#"{"expires_at":5}"#, "\"token\""),
        (#"{"token":"x","expires_at":"soon"}"#, "\"expires_at\""),
        (#"{"token":"x","expires_at":5,"endpoints":{"api":7}}"#, "endpoints.api"),
        (#"{"token":"x","expires_at":5,"endpoints":{"api":"ftp://x"}}"#, "API URL"),
        // Found by the copilot_token fuzz target: trimmed of its slashes, no host was left.
        (#"{"token":"x","expires_at":5,"endpoints":{"api":"https:////"}}"#, "API URL"),
        (#"{"token":"x","expires_at":5,"endpoints":{"api":"http:///path"}}"#, "API URL"),
        (#"{"token":"a\r\nX-Evil: 1","expires_at":5}"#, "control"),
        (#"{"token":"","expires_at":5}"#, "empty token"),
    ])
    func badAnswersAreProtocolErrorsThatNeverQuoteTheToken(body: String, message: String) {
        #expect {
            _ = try CopilotTokenResponse.parse(Self.bytes(body), host: "api.github.com")
        } throws: { error in
            guard let e = error as? ModelsError else { return false }
            return e.code == .protocol && !e.isTransient && e.message.contains(message) && !e.message.contains("X-Evil")
        }
    }

    @Test func refusedGitHubTokenIsPermanentAndRedacted() {
        let gh = "ghu_abcdefghijklmnop0123456789"
        for status in [401, 403] {
            let e = CopilotTokenResponse.refusal(status: status, body: Self.bytes(#"{"message":"Bad credentials \#(gh)"}"#),
                                                 host: "api.github.com", retryAfterMs: 0, secrets: [gh])
            #expect(e.code == .api && e.status == status && !e.isTransient)
            #expect(e.message.contains("the GitHub token was refused"))
            #expect(e.message.contains("Bad credentials"))
            #expect(!e.message.contains(gh))
        }
        let busy = CopilotTokenResponse.refusal(status: 503, body: [], host: "api.github.com", retryAfterMs: 2000, secrets: [])
        #expect(busy.isTransient && busy.retryAfterMs == 2000)
    }

    /// Issue 12: an expiry that is no time (INT64_MIN crashed `expiresAt - now`)
    /// is refused, naming the exchange's host and never the token.
    @Test(arguments: ["-9223372036854775808", "9223372036854775807", "0", "-1", "253402300800", "1e300", "-1e300",
                      "9.2e18"])
    func implausibleExpiryIsRefused(expiresAt: String) {
        #expect {
            _ = try CopilotTokenResponse.parse(Self.bytes(#"{"token":"tid=sekrit","expires_at":\#(expiresAt)}"#), host: "tokens.example")
        } throws: { error in
            guard let e = error as? ModelsError else { return false }
            return e.code == .protocol && e.message.contains("tokens.example") && e.message.contains("expires_at")
                && !e.message.contains("sekrit")
        }
    }

    @Test func extremeExpiryNeverTrapsTheCache() {
        var cache = CopilotTokenCache(marginSeconds: 60)
        for expiry in [Int64.min, Int64.min + 1, -1, 0, Int64.max] {
            for now in [Int64.min, 0, 1_760_000_000, Int64.max] {
                _ = cache.isFresh(CopilotToken(credentials: CopilotCredentials(token: "t", apiURL: "https://a"), expiresAt: expiry), now: now)
            }
        }
        let far = CopilotToken(credentials: CopilotCredentials(token: "t", apiURL: "https://a"), expiresAt: Int64.min)
        #expect(!cache.isFresh(far, now: 0))
        #expect(cache.next(now: 0) == .exchange)
        cache.exchangeFinished(.success(far))
        #expect(cache.next(now: .max) == .exchange)
    }
}
