// SPDX-License-Identifier: Apache-2.0
/// Arithmetic on numbers that come from outside (a header, a body, a config, a
/// token, a C caller): it saturates or says "out of range", and never traps.
/// Every such number goes through these, so the rule reads the same everywhere.
extension Int64 {
    /// `self + other`, held at `.max` / `.min` instead of overflowing.
    @inlinable public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, held at `.max` / `.min` instead of overflowing.
    @inlinable public func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `self × other`, held at `.max` / `.min` instead of overflowing.
    @inlinable public func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }

    /// `value` rounded toward zero, held within `Int64`; nil for NaN.
    /// (`Int64(value)` traps on NaN, infinities and anything beyond ±2^63.)
    @inlinable public static func clamping(_ value: Double) -> Int64? {
        if value.isNaN { return nil }
        // 2^63 is exactly representable; every Double below it converts.
        if value >= 9_223_372_036_854_775_808.0 { return .max }
        if value <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(value)
    }
}
