// SPDX-License-Identifier: Apache-2.0
// CopilotTokenResponse.parse: the token exchange's answer from GitHub, then the
// token cache deciding whether that token is fresh (what the provider does with
// it next). Invariants: it throws a protocol error or returns a token fit for an
// Authorization header and an http(s) API URL; deciding on it never traps,
// whatever expires_at says.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCopilotToken(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let token: CopilotToken
        do throws(ModelsError) { token = try CopilotTokenResponse.parse(Array(bytes), host: "api.github.test") } catch {
            invariant(error.code == .protocol, "parse threw \(error.code): \(error.message)")
            invariant(!error.message.contains("tid="), "an error message quotes the token: \(error.message)")
            return 0
        }
        let credentials = token.credentials
        invariant(!credentials.token.isEmpty && isHeaderSafe(credentials.token) && !credentials.token.contains(" "),
                  "token with spaces or control characters")
        invariant(credentials.apiURL.hasPrefix("http://") || credentials.apiURL.hasPrefix("https://"), "API URL \(credentials.apiURL)")
        invariant(isHeaderSafe(credentials.apiURL), "API URL with control characters")
        for now: Int64 in [0, 1_760_000_000, 4_102_444_800] {
            var cache = CopilotTokenCache()
            invariant(cache.next(now: now) == .exchange, "a new cache does not exchange")
            cache.exchangeFinished(.success(token))
            _ = cache.isFresh(token, now: now)
            _ = cache.next(now: now)
        }
        return 0
    }
}
