// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Loopback hosts never go through a proxy; everything else may.
@Suite struct ProxyTests {
    private func loopback(_ url: String) -> Bool {
        var url = url
        return url.withUTF8 { Proxy.isLoopback($0) }
    }

    @Test func loopbackHostsAreRecognisedWhateverTheRestOfTheURL() {
        for url in ["http://127.0.0.1:8080/v1", "http://localhost/v1", "HTTP://LOCALHOST:1", "http://[::1]:9/x",
                    "http://user:pw@127.0.0.2/v1", "https://127.1.2.3", "http://localhost?x=1", "http://localhost#f"] {
            #expect(loopback(url), "\(url)")
        }
    }

    @Test func otherHostsAreNot() {
        for url in ["https://api.openai.com/v1", "http://localhost.example.com/v1", "http://10.0.0.1/", "http://[::2]:9/",
                    "http://example.com/127.0.0.1", "http://127.0.0.1@example.com/", "http://localhostx/"] {
            #expect(!loopback(url), "\(url)")
        }
    }
}
