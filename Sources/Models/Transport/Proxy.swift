import Glibc

/// The proxy for a URL from the environment, as curl and most tools read it:
/// `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http
/// URLs, and `no_proxy`/`NO_PROXY` for exceptions. Loopback hosts never go
/// through a proxy (a local model server or test server must stay local).
enum Proxy {
    struct Setting {
        var url: String
        var noProxy: String?
    }

    static func forURL(_ url: String) -> Setting? {
        let lower = url.lowercased()
        let names = lower.hasPrefix("https://") ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        guard let proxy = names.lazy.compactMap(env).first(where: { !$0.isEmpty }) else { return nil }
        let host = HTTPTransfer.hostForMessages(lower)
        if host.hasPrefix("localhost") || host.hasPrefix("127.") || host.hasPrefix("[::1]") { return nil }
        return Setting(url: proxy, noProxy: env("no_proxy") ?? env("NO_PROXY"))
    }

    private static func env(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}
