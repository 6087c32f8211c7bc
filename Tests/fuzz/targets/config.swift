// SPDX-License-Identifier: Apache-2.0
// RouterConfig(text:): the config JSON a user (or a file) gives. Invariants: it
// throws invalidArgument or returns a config whose numbers are in their
// documented ranges, whose model names are valid, and whose values that become
// HTTP headers (header values, keys, GitHub tokens) hold no control character
// and no surrounding whitespace.
@testable import Models
@testable import ModelsCore

private func isCleanSecret(_ s: String) -> Bool {
    isHeaderSafe(s) && s.first != " " && s.last != " "
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let config: RouterConfig
        do throws(ModelsError) { config = try RouterConfig(text: bytes) } catch {
            invariant(error.code == .invalidArgument, "threw \(error.code), not invalidArgument: \(error.message)")
            return 0
        }
        invariant(ModelName.problem(with: config.primary) == nil, "primary \(config.primary.debugDescription) accepted")
        for model in config.fallbacks {
            invariant(ModelName.problem(with: model) == nil, "fallback \(model.debugDescription) accepted")
        }
        let durations = Int64(1)...86_400_000
        invariant(durations.contains(config.timeoutMs) && durations.contains(config.streamConnectTimeoutMs), "timeouts out of range")
        invariant((0...100).contains(config.maxRetries), "max_retries \(config.maxRetries)")
        invariant((0...3_600_000).contains(config.retryBaseMs) && (0...3_600_000).contains(config.retryMaxMs), "retry delays out of range")
        if let c = config.cooldown {
            invariant(durations.contains(c.baseMs) && c.maxMs >= c.baseMs && c.multiplier >= 1 && c.multiplier <= 1000,
                      "cooldown \(c)")
        }
        for (_, limit) in config.rateLimits {
            invariant(limit.requestsPerSecond > 0 && limit.requestsPerSecond <= 1_000_000 && limit.burst >= 1, "rate limit \(limit)")
        }
        for (name, provider) in config.providers {
            invariant(!name.isEmpty, "a provider with an empty name")
            for header in provider.headers {
                invariant(!header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }),
                          "header \(header.name) of \(name) has CR, LF or NUL")
            }
            for secret in [provider.apiKey, provider.githubToken].compactMap({ $0 }) {
                invariant(isCleanSecret(secret), "a key or token of \(name) with control characters or surrounding spaces was accepted")
            }
            if let url = provider.baseURL { invariant(isHeaderSafe(url) && !url.contains(" "), "base_url of \(name)") }
        }
        return 0
    }
}
