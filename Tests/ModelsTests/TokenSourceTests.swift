// SPDX-License-Identifier: Apache-2.0
import Synchronization
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// The generic token cache's additions (unknown expiry, a refused token) and
/// `RefreshingTokenSource` (checks, expiry arithmetic, failures).
@Suite struct TokenSourceTests {
    @Test func aTokenOfUnknownExpiryIsNeverKept() {
        var cache = TokenCache<String>()
        #expect(cache.next(now: 1000) == .exchange)
        cache.exchangeFinished(.success(ExpiringToken(value: "t", expiresAt: 0)))
        #expect(cache.fresh(now: 1000) == nil)
        #expect(cache.next(now: 1000) == .exchange)
    }

    @Test func aRefusedTokenIsDroppedAndAnOtherOneIsNot() {
        var cache = TokenCache<String>()
        _ = cache.next(now: 1000)
        cache.exchangeFinished(.success(ExpiringToken(value: "a", expiresAt: 5000)))
        cache.refused("b")
        #expect(cache.next(now: 1000) == .use("a"))
        cache.refused("a")
        #expect(cache.next(now: 1000) == .exchange)
    }

    @Test func expiryArithmeticSaturates() {
        let cache = TokenCache<String>(marginSeconds: 60)
        for expiry in [Int64.min, Int64.min + 1, -1, 1, Int64.max] {
            for now in [Int64.min, 0, Int64.max] {
                _ = cache.isFresh(ExpiringToken(value: "t", expiresAt: expiry), now: now)
            }
        }
    }

    final class Counter: Sendable {
        let calls = Mutex(0)
        func next() -> Int { calls.withLock { $0 += 1; return $0 } }
    }

    @Test func hostileExpiriesCountAsUnknown() throws {
        for expiry in [Int64.min, -1, 253_402_300_800, Int64.max] {
            let counter = Counter()
            let source = RefreshingTokenSource(provider: "p", now: { 1000 }) { _ throws(ModelsError) in
                ("tok-\(counter.next())", expiry)
            }
            #expect(try source.token(nil) == "tok-1")
            #expect(source.tokenAtHand() == nil)
            #expect(try source.token(nil) == "tok-2")
        }
    }

    @Test func aFreshTokenIsAtHandUntilRefused() throws {
        let counter = Counter()
        let source = RefreshingTokenSource(provider: "p", now: { 1000 }) { _ throws(ModelsError) in
            ("tok-\(counter.next())", 5000)
        }
        #expect(source.tokenAtHand() == nil)
        #expect(try source.token(nil) == "tok-1")
        #expect(source.tokenAtHand() == "tok-1")
        source.refused("tok-1")
        #expect(source.tokenAtHand() == nil)
        #expect(try source.token(nil) == "tok-2")
    }

    @Test func badTokensAndFailuresAreAuthErrorsThatNameNoToken() {
        for bad in ["", "a b", "a\r\nX: y", "caf\u{e9}", String(repeating: "x", count: TokenText.maxBytes + 1)] {
            let source = RefreshingTokenSource(provider: "p") { _ throws(ModelsError) in (bad, 0) }
            #expect(throws: ModelsError.self) { try source.token(nil) }
            do { _ = try source.token(nil) } catch {
                #expect(error.kind == .auth)
                #expect(error.message.hasPrefix("p: the token source gave"))
            }
        }
        let counter = Counter()
        let source = RefreshingTokenSource(provider: "p", now: { 1000 }) { _ throws(ModelsError) in
            let n = counter.next()
            if n == 1 { return ("tok-secret-first", 1010) } // inside the margin: asked again next time
            throw ModelsError(.api, "down; last was tok-secret-first", status: 503, isTransient: true)
        }
        #expect(throws: Never.self) { try source.token(nil) }
        do { _ = try source.token(nil) } catch {
            #expect(error.kind == .auth)
            #expect(!error.isTransient)
            #expect(error.status == 503)
            #expect(error.message.hasPrefix("p: the token source failed: down"))
            #expect(!error.message.contains("tok-secret"))
        }
        let cancelled = RefreshingTokenSource(provider: "p") { _ throws(ModelsError) in throw ModelsError(.cancelled, "stop") }
        do { _ = try cancelled.token(nil) } catch { #expect(error.kind == .cancelled) }
    }
}

/// A `base_url` with a query and a call's `extra_query`.
@Suite struct BaseURLTests {
    @Test func pathsGoBeforeTheQuery() {
        #expect(BaseURL.appending("/chat/completions", to: "https://gw/v1") == "https://gw/v1/chat/completions")
        #expect(BaseURL.appending("/chat/completions", to: "https://gw/v1?key=a%2Fb") == "https://gw/v1/chat/completions?key=a%2Fb")
        #expect(BaseURL.appending("/messages", to: "https://gw/v1/?k=v&x") == "https://gw/v1/messages?k=v&x")
        #expect(BaseURL.appending("/messages", to: "https://gw?k=v") == "https://gw/messages?k=v")
    }

    @Test func trimmingKeepsTheQueryAsWritten() {
        #expect(BaseURL.trimmed("https://gw/v1/") == "https://gw/v1")
        #expect(BaseURL.trimmed("https://gw/v1/?k=a/") == "https://gw/v1?k=a/")
        #expect(BaseURL.trimmed("https://gw/v1?k=v") == "https://gw/v1?k=v")
    }

    @Test func queryValuesAreSecrets() {
        #expect(BaseURL.queryValues("https://gw/v1") == [])
        #expect(BaseURL.queryValues("https://gw/v1?key=a%2Fb&flag&e=&x=y+z") == ["a%2Fb", "a/b", "y+z", "y z"])
        #expect(BaseURL.queryValues("https://gw/v1?k=%zz") == ["%zz"])
    }

    @Test func extraQueryIsMergedAndReplacesTheSameName() {
        #expect(HTTPRequest.url("https://gw/v1/x", addingQuery: "a=1") == "https://gw/v1/x?a=1")
        #expect(HTTPRequest.url("https://gw/v1/x?key=s&b=2", addingQuery: "a=1") == "https://gw/v1/x?key=s&b=2&a=1")
        #expect(HTTPRequest.url("https://gw/v1/x?key=s&b=2", addingQuery: "key=o&c=3") == "https://gw/v1/x?b=2&key=o&c=3")
        #expect(HTTPRequest.url("https://gw/x?api-version=1", addingQuery: "api-version=2") == "https://gw/x?api-version=2")
    }
}
