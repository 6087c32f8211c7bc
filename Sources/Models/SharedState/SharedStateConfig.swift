// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// `shared_state`: the Redis server through which routers in many processes
/// share cooldowns, rate limits and deployment load.
public struct SharedStateConfig: Sendable, Equatable {
    /// `redis_url` as written (may hold a password: never log it, use `RedisURL.redacted`).
    public var redisURL: String?
    /// `redis_url_env`: the environment variable that holds the URL (read when the router is built).
    public var redisURLEnv: String?
    /// Every key the router writes starts with this; routers share when URL and prefix agree.
    public var keyPrefix = "libmodels:"
    /// The longest a call waits for Redis (connecting included) before it goes on with local state.
    public var timeoutMs: Int64 = 50

    public init() {}

    static let keys = ["redis_url", "redis_url_env", "key_prefix", "timeout_ms"]

    init(_ r: ConfigReader) throws(ModelsError) {
        redisURL = try r.string("redis_url")
        redisURLEnv = try r.string("redis_url_env")
        switch (redisURL, redisURLEnv) {
        case (nil, nil):
            throw .invalidArgument("config: \"shared_state\" needs \"redis_url\" or \"redis_url_env\"")
        case (.some, .some):
            throw .invalidArgument("config: \"shared_state\" gives both \"redis_url\" and \"redis_url_env\"; keep one")
        case (.some(let url), nil):
            // Checked now, so that a typo is a config error; the message never holds the URL.
            if let problem = RedisURL.problem(with: url) { throw .invalidArgument("config: \"shared_state.redis_url\" \(problem)") }
        default:
            break
        }
        if let prefix = try r.string("key_prefix", nonEmpty: false) {
            guard prefix.utf8.count <= 256, !prefix.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
                throw .invalidArgument("config: \"shared_state.key_prefix\" must be at most 256 bytes without control characters")
            }
            keyPrefix = prefix
        }
        timeoutMs = try r.integer("timeout_ms", in: 1...60_000) ?? timeoutMs
    }

    /// The URL to connect to: `redis_url`, or the value of `redis_url_env` in `env`.
    func resolvedURL(_ env: ProviderRegistry.Environment) throws(ModelsError) -> RedisURL {
        if let text = redisURL {
            do throws(RedisURL.Problem) { return try RedisURL(parsing: text) } catch {
                throw .invalidArgument("config: \"shared_state.redis_url\" \(error.text)")
            }
        }
        let variable = redisURLEnv ?? ""
        guard let text = env(variable), !text.isEmpty else {
            throw .invalidArgument("config: the environment variable \(variable) named by \"shared_state.redis_url_env\" is not set")
        }
        do throws(RedisURL.Problem) { return try RedisURL(parsing: text) } catch {
            throw .invalidArgument("config: the environment variable \(variable) named by \"shared_state.redis_url_env\" \(error.text)")
        }
    }
}
