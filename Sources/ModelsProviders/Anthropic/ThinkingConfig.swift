// SPDX-License-Identifier: Apache-2.0

/// The config's `thinking`: extended thinking for Anthropic models.
public struct ThinkingConfig: Sendable, Equatable {
    public enum Level: String, Sendable { case off, enabled, adaptive }
    /// nil: decided by `enabled`, or by the model (Claude 4.6 models think by default).
    public var level: Level?
    public var enabled: Bool?
    public var budgetTokens: Int = 8192
    public init() {}
}
