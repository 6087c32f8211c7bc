// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// What the router does once a model's last attempt has failed: move on to the
/// next model, move on to the fallbacks kept for that kind of error, or end
/// the call with the error. A pure decision from the config.
public struct FallbackPolicy: Sendable, Equatable {
    /// The kinds after which the router moves on; others end the call.
    public var fallbackOn: Set<ErrorKind>
    /// Tried in order, instead of the remaining fallbacks, after a context-window error.
    public var contextWindowFallbacks: [String]
    /// Tried in order, instead of the remaining fallbacks, after a content-policy refusal.
    public var contentPolicyFallbacks: [String]

    public init(fallbackOn: Set<ErrorKind> = Set(ErrorKind.providerFailures),
                contextWindowFallbacks: [String] = [], contentPolicyFallbacks: [String] = []) {
        self.fallbackOn = fallbackOn
        self.contextWindowFallbacks = contextWindowFallbacks
        self.contentPolicyFallbacks = contentPolicyFallbacks
    }

    public enum Decision: Sendable, Equatable {
        /// End the call with this error.
        case stop
        /// Try the next model of the list.
        case next
        /// Replace the models not yet tried with these.
        case switchTo([String])
    }

    /// The decision after an error of `kind`. `switched` holds the kinds whose
    /// own fallbacks this call has already switched to: a list is used once,
    /// so a call never goes round in circles.
    public func decision(after kind: ErrorKind, switched: Set<ErrorKind>) -> Decision {
        switch kind {
        case .cancelled, .invalidArgument, .noMemory: return .stop
        case .contextWindow where !contextWindowFallbacks.isEmpty && !switched.contains(kind):
            return .switchTo(contextWindowFallbacks)
        case .contentPolicy where !contentPolicyFallbacks.isEmpty && !switched.contains(kind):
            return .switchTo(contentPolicyFallbacks)
        case _ where ErrorKind.providerFailures.contains(kind):
            return fallbackOn.contains(kind) ? .next : .stop
        default:
            // The router's own kinds (a provider that cannot stream, say) move on, as always.
            return .next
        }
    }
}
