// SPDX-License-Identifier: Apache-2.0
/// `stream_recovery`: what a stream does when it breaks after its first word.
public enum StreamRecovery: String, Sendable, CaseIterable {
    /// The caller's stream ends with the error (the behaviour before resumption existed).
    case off
    /// The router asks a model to continue the answer and the caller's stream goes on.
    case resume
}
