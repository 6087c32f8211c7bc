// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import Synchronization

/// Where a router's events go: one handler, called on the thread of the call
/// the event belongs to. Replacing or removing the handler waits until calls
/// of the previous one running on other threads have returned, so that its
/// caller may free what the handler uses right after; from inside a handler
/// it cannot wait (two handlers removing each other would wait forever) and
/// returns at once.
public final class EventHub: Sendable {
    /// Receives one event: JSON text, lent for the duration of the call.
    public typealias Handler = @Sendable (UnsafeRawBufferPointer) -> Void

    private struct State {
        var handler: Handler?
        /// Bumped by every `set`.
        var generation: UInt64 = 0
        /// Handler calls in progress: their thread and the generation of their handler.
        var running: [(thread: pthread_t, generation: UInt64)] = []
    }

    private let state = ConditionLock(State())
    /// Whether a handler is set: read once per call, without a lock, so that a
    /// router with no handler builds no event at all.
    private let on = Atomic<Bool>(false)
    /// Numbers the calls of this router that report events (`libmodels.call_id`).
    private let calls = Atomic<UInt64>(0)

    public init() {}

    public var isOn: Bool { on.load(ordering: .relaxed) }

    func nextCallID() -> UInt64 { calls.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Sets the handler (nil removes it), then waits for the previous
    /// handlers' calls on other threads to return (not from inside a handler).
    public func set(_ handler: Handler?) {
        let me = pthread_self()
        let generation = state.update { s in
            s.handler = handler
            s.generation &+= 1
            on.store(handler != nil, ordering: .relaxed)
            return s.generation
        }
        state.wait { s -> Void? in
            if s.running.contains(where: { pthread_equal($0.thread, me) != 0 }) { return () }
            return s.running.contains(where: { $0.generation < generation }) ? nil : ()
        }
    }

    /// Builds the event and hands it to the handler, if one is set.
    func emit(_ build: () -> [UInt8]) {
        let me = pthread_self()
        guard let (handler, generation) = state.withLock({ s -> (Handler, UInt64)? in
            guard let h = s.handler else { return nil }
            s.running.append((me, s.generation))
            return (h, s.generation)
        }) else { return }
        var text = build()
        let count = text.count
        text.append(0)
        text.withUnsafeBytes { handler(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        state.update { s in
            if let i = s.running.firstIndex(where: { pthread_equal($0.thread, me) != 0 && $0.generation == generation }) {
                s.running.remove(at: i)
            }
        }
    }
}
