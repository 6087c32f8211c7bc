// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct RedisURLTests {
    @Test func tcpWithPasswordAndDatabase() throws {
        let u = try RedisURL(parsing: "redis://:s3cret@10.0.0.5:6380/2")
        #expect(u.endpoint == .tcp(host: "10.0.0.5", port: 6380))
        #expect(u.password == "s3cret")
        #expect(u.username == nil)
        #expect(u.db == 2)
        #expect(u.redacted == "redis://:[redacted]@10.0.0.5:6380/2")
    }

    @Test func defaultsAndForms() throws {
        #expect(try RedisURL(parsing: "redis://localhost").endpoint == .tcp(host: "localhost", port: 6379))
        #expect(try RedisURL(parsing: "redis://localhost/").db == 0)
        #expect(try RedisURL(parsing: "redis://[::1]:7000/1").endpoint == .tcp(host: "::1", port: 7000))
        #expect(try RedisURL(parsing: "redis://[::1]:7000/1").redacted == "redis://[::1]:7000/1")
        let user = try RedisURL(parsing: "redis://app:p%40ss@h:1")
        #expect(user.username == "app")
        #expect(user.password == "p@ss")
        #expect(user.redacted == "redis://app:[redacted]@h:1/0")
        let unix = try RedisURL(parsing: "unix:///run/redis/redis.sock?db=3")
        #expect(unix.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(unix.db == 3)
        #expect(try RedisURL(parsing: "unix://:pw@/tmp/r.sock").password == "pw")
        #expect(try RedisURL(parsing: "unix://:pw@/tmp/r.sock").redacted == "unix://:[redacted]@/tmp/r.sock")
    }

    @Test func badURLsNeverEchoThePassword() {
        for bad in ["http://:hunter22@h", "redis://:hunter22@", "redis://:hunter22@h:0", "redis://:hunter22@h:99999",
                    "redis://:hunter22@h:12x", "redis://:hunter22@h/-1", "redis://:hunter22@h/99999999", "rediss://:hunter22@h",
                    "unix://:hunter22@relative.sock", "redis://:hunter22@h\n", "redis://:hunt%2@h", "redis://:hunter22@bad host",
                    "redis://:hunter22@[::1", "unix:///tmp/s?x=1"] {
            let problem = RedisURL.problem(with: bad)
            #expect(problem != nil, "\(bad) was accepted")
            #expect(problem?.contains("hunter22") == false)
        }
    }
}

@Suite struct SharedStateConfigTests {
    static func parse(_ text: String) throws(ModelsError) -> RouterConfig {
        var text = text
        return try text.withUTF8 { buf in Result { () throws(ModelsError) in try RouterConfig(text: UnsafeRawBufferPointer(buf)) } }.get()
    }

    @Test func readsTheNormativeKeys() throws {
        let c = try Self.parse(#"{"primary":"a/b","shared_state":{"redis_url":"redis://127.0.0.1:6379/0","key_prefix":"x:","timeout_ms":20}}"#)
        #expect(c.sharedState?.redisURL == "redis://127.0.0.1:6379/0")
        #expect(c.sharedState?.keyPrefix == "x:")
        #expect(c.sharedState?.timeoutMs == 20)
        let d = try Self.parse(#"{"primary":"a/b","shared_state":{"redis_url_env":"MY_REDIS"}}"#)
        #expect(d.sharedState?.redisURLEnv == "MY_REDIS")
        #expect(d.sharedState?.keyPrefix == "libmodels:")
        #expect(d.sharedState?.timeoutMs == 50)
    }

    @Test func errorsNameTheKeyNotTheValue() {
        for (text, expected) in [
            (#"{"primary":"a/b","shared_state":{}}"#, "needs \"redis_url\" or \"redis_url_env\""),
            (#"{"primary":"a/b","shared_state":{"redis_url":"redis://h","redis_url_env":"X"}}"#, "keep one"),
            (#"{"primary":"a/b","shared_state":{"redis_url":"http://:topsecret1@h"}}"#, "shared_state.redis_url"),
            (#"{"primary":"a/b","shared_state":{"redis_url":"redis://h","timeout_ms":0}}"#, "shared_state.timeout_ms"),
            (#"{"primary":"a/b","shared_state":{"redis_urll":"redis://h"}}"#, "did you mean \"redis_url\""),
        ] {
            do {
                _ = try Self.parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.message.contains(expected), "\(error.message)")
                #expect(!error.message.contains("topsecret1"))
            }
        }
    }

    @Test func theVariableIsReadWhenTheRouterIsBuilt() throws {
        var c = SharedStateConfig()
        c.redisURLEnv = "R"
        #expect(try c.resolvedURL({ $0 == "R" ? "redis://:pw@h:1/0" : nil }).password == "pw")
        #expect(throws: ModelsError.self) { try c.resolvedURL({ _ in nil }) }
        do {
            _ = try c.resolvedURL({ _ in "redis://:leaked99@h:0" })
        } catch {
            #expect(error.message.contains("R named by"))
            #expect(!error.message.contains("leaked99"))
        }
    }
}

@Suite struct SharedStateScriptsTests {
    @Test func keysLiveUnderThePrefix() {
        let k = SharedKeys(prefix: "app:")
        #expect(k.cooldown("local/m1") == "app:cooldown:local/m1")
        #expect(k.rate("openai") == "app:rate:openai")
        #expect(k.inFlight("g/d1") == "app:inflight:g/d1")
        #expect(k.usage("g/d1") == "app:usage:g/d1")
        let (keys, args) = k.read([.init(model: "a/m", load: false), .init(model: "b/d", load: true)])
        #expect(keys == ["app:cooldown:a/m", "app:inflight:a/m", "app:usage:a/m",
                         "app:cooldown:b/d", "app:inflight:b/d", "app:usage:b/d"])
        #expect(args == ["0", "1"])
    }

    @Test func decodesARead() throws {
        let now: Int64 = 1_700_000_030_500
        let second = now / 1000
        let reply = RedisReply.array([
            .integer(now),
            .integer(1500), .integer(2), .integer(0), .array([]),
            .integer(0), .integer(0), .integer(3),
            .array([.string("r:\(second)"), .string("4"), .string("t:\(second - 10)"), .string("900"),
                    .string("r:\(second - 61)"), .string("7"), .string("junk"), .string("1")]),
        ])
        let queries: [SharedKeys.Query] = [.init(model: "a/m", load: false), .init(model: "b/d", load: true)]
        let s = try #require(SharedSnapshot.decode(reply, queries: queries, localMs: 10_000))
        #expect(s.cooldownRemainingMs("a/m", atLocal: 10_000) == 1500)
        #expect(s.cooldownRemainingMs("a/m", atLocal: 10_400) == 1100)
        #expect(s.cooldownRemainingMs("a/m", atLocal: 20_000) == 0)
        #expect(s.models["a/m"]?.failures == 2)
        #expect(s.models["a/m"]?.inFlight == nil)
        #expect(s.models["b/d"]?.inFlight == 3)
        // The field of 61 s ago and the junk field are not counted.
        let used = try #require(s.models["b/d"]?.window).used(at: s.redisMs(atLocal: 10_000))
        #expect(used == (4, 900))
        #expect(s.models["b/d"]?.window?.msUntilBelow(rpm: 4, tpm: nil, at: now) ?? 0 > 0)
    }

    @Test func refusesAnotherShape() {
        let q: [SharedKeys.Query] = [.init(model: "a/m", load: false)]
        #expect(SharedSnapshot.decode(.array([.integer(1)]), queries: q, localMs: 0) == nil)
        #expect(SharedSnapshot.decode(.error("ERR"), queries: q, localMs: 0) == nil)
        #expect(SharedSnapshot.decode(.array([.integer(1), .integer(0), .status("x"), .integer(0), .array([])]), queries: q, localMs: 0) == nil)
    }

    /// A store that answers from a list, recording what it was asked.
    final class ScriptedStore: SharedStore, @unchecked Sendable {  // touched by one test thread only
        var answers: [RedisReply?]
        var calls: [(script: String, keys: [String], args: [String])] = []
        init(_ answers: [RedisReply?]) { self.answers = answers }
        func eval(_ script: SharedScript, keys: [String], args: [String]) -> RedisReply? {
            calls.append((script.name, keys, args))
            return answers.isEmpty ? nil : answers.removeFirst()
        }
        var sent: [(script: String, keys: [String], args: [String])] = []
        var accepts = true
        func send(_ script: SharedScript, keys: [String], args: [String]) -> Bool {
            sent.append((script.name, keys, args))
            return accepts
        }
    }

    @Test func roundTripsOnlyWhenThereIsSomethingToSay() {
        let store = ScriptedStore([.integer(0), .integer(250)])
        let s = SharedState(store: store, keyPrefix: "p:")
        // Nothing tracked, no rate limit: no round trip.
        #expect(s.begin(model: "a/m", trackLoad: false, leaseMs: 1000, rate: nil) == .init(member: nil, waitMs: 0))
        #expect(s.end(model: "a/m", member: nil, tokens: 0, outcome: .none) == nil)
        #expect(store.calls.isEmpty)
        let began = s.begin(model: "g/d", trackLoad: true, leaseMs: 1000, rate: ("g", RateLimitConfig(requestsPerSecond: 4, burst: 2)))
        #expect(began?.member != nil)
        #expect(store.calls[0].args.dropFirst() == ["1000", "250.0", "2"])
        var c = CooldownConfig()
        (c.baseMs, c.maxMs, c.multiplier) = (500, 60_000, 10)
        #expect(s.end(model: "g/d", member: began?.member, tokens: 12, outcome: .failure(c)) == 250)
        #expect(store.calls[1].keys == ["p:inflight:g/d", "p:usage:g/d", "p:cooldown:g/d", "p:ended:\(began!.member!)"])
        #expect(store.calls[1].args.dropFirst() == ["12", "f", "500", "10.0", "60000"])
        // Without a rate limit, or when nothing waits for the answer: sent, not waited for.
        #expect(s.begin(model: "g/d", trackLoad: true, leaseMs: 1000, rate: nil)?.waitMs == 0)
        #expect(s.end(model: "g/d", member: "x", tokens: 5, outcome: .success) == nil)
        #expect(store.sent.map(\.script) == ["begin", "end"])
        #expect(store.sent[1].args == ["x", "5", "s", "0", "1", "0"])
        #expect(store.calls.count == 2)
        // Redis did not answer: nil, the caller goes on locally.
        store.accepts = false
        #expect(s.begin(model: "g/d", trackLoad: true, leaseMs: 1000, rate: nil) == nil)
        #expect(s.begin(model: "g/d", trackLoad: true, leaseMs: 1000, rate: ("g", RateLimitConfig(requestsPerSecond: 1, burst: 1))) == nil)
    }
}

@Suite struct SHA1Tests {
    @Test func knownDigests() {
        #expect(SHA1.hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(SHA1.hex(String(repeating: "a", count: 1000)) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }
}
