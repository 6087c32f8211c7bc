// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Where the core's log lines go. One process-wide sink, set by the embedding
/// program (through `models_set_log_handler`); with none, nothing is formatted.
///
/// Messages never contain API keys or tokens: callers of `Log` pass names,
/// statuses and durations, and provider messages go through `Redact` first.
public enum Log {
    public enum Level: Int32, Sendable, Comparable {
        case debug = 0, info = 1, warn = 2, error = 3
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    public typealias Sink = @Sendable (Level, String) -> Void

    private struct State: Sendable {
        var sink: Sink?
        var minLevel: Level = .info
    }

    private static let state = Locked(State())
    /// Read on every log call; lets a call skip formatting when nobody listens.
    private static let threshold = Atomic<Int32>(Int32.max)

    /// Installs (or, with nil, removes) the sink. Lines below `minLevel` are dropped
    /// before they are formatted.
    public static func setSink(_ sink: Sink?, minLevel: Level) {
        state.withLock { $0 = State(sink: sink, minLevel: minLevel) }
        threshold.store(sink == nil ? Int32.max : minLevel.rawValue, ordering: .releasing)
    }

    public static func isEnabled(_ level: Level) -> Bool {
        level.rawValue >= threshold.load(ordering: .acquiring)
    }

    public static func log(_ level: Level, _ message: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        let sink = state.withLock { $0.minLevel <= level ? $0.sink : nil }
        sink?(level, message())
    }

    public static func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
    public static func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    public static func warn(_ m: @autoclosure () -> String) { log(.warn, m()) }
    public static func error(_ m: @autoclosure () -> String) { log(.error, m()) }
}
