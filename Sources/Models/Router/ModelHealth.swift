/// One model's health as the router sees it, without calling any API.
public struct ModelHealth: Sendable, Equatable {
    public var model: String
    public var provider: String
    public var available: Bool
    /// Why the model is unavailable ("provider not registered", "cooldown (42s remaining)"); empty when available.
    public var reason: String

    public var json: JSON {
        var object: JSON = ["model": .string(model), "provider": .string(provider), "available": .bool(available)]
        if !reason.isEmpty { object.set("reason", .string(reason)) }
        return object
    }

    /// "42s", "1m30s", "2h" — whole seconds, rounded up so a cooling model never shows 0s.
    static func formatRemaining(_ ms: Int64) -> String {
        let seconds = (ms + 999) / 1000
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds / 60)m\(seconds % 60)s" }
        let minutes = (seconds % 3600) / 60
        return minutes == 0 ? "\(seconds / 3600)h" : "\(seconds / 3600)h\(minutes)m"
    }
}
