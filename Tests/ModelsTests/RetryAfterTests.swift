// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// `Retry-After` values as providers send them: delta-seconds or one of the
/// three HTTP-date forms of RFC 9110, turned into milliseconds from "now".
@Suite struct RetryAfterTests {
    /// Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
    static let rfcExample: Int64 = 784_111_777

    @Test(arguments: [("0", 0), ("1", 1_000), ("7", 7_000), ("120", 120_000), (" 30 ", 30_000), ("\t5\r\n", 5_000)] as [(String, Int64)])
    func deltaSeconds(value: String, ms: Int64) {
        #expect(RetryAfter.milliseconds(value, nowEpochSeconds: Self.rfcExample) == ms)
    }

    /// A delta too large to be meant literally is capped (a year), never an overflow.
    @Test func hugeDeltaIsCappedNotOverflowed() {
        let ms = RetryAfter.milliseconds("99999999999999999999999", nowEpochSeconds: 0)
        let year: Int64 = 365 * 86_400_000
        #expect(ms == year)
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT",   // IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850
        "Sun Nov  6 08:49:37 1994",        // asctime
        "sun, 06 nov 1994 08:49:37 gmt",   // case does not matter
    ])
    func httpDateForms(value: String) {
        #expect(RetryAfter.epochSeconds(httpDate: value) == Self.rfcExample)
        #expect(RetryAfter.milliseconds(value, nowEpochSeconds: Self.rfcExample - 30) == 30_000)
    }

    @Test func rfc850CenturyWindow() {
        // Two-digit years below 70 are in the 2000s.
        let date = RetryAfter.epochSeconds(httpDate: "Thursday, 01-Jan-30 00:00:00 GMT")
        #expect(date == 1_893_456_000)
    }

    @Test func pastDateMeansNoWait() {
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:37 GMT", nowEpochSeconds: Self.rfcExample + 3_600) == 0)
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:37 GMT", nowEpochSeconds: Self.rfcExample) == 0)
    }

    @Test func futureDateAgainstTheRealClock() {
        // The overload without a clock reads the current time.
        let ms = RetryAfter.milliseconds("Fri, 01 Jan 2100 00:00:00 GMT")
        #expect(ms != nil && ms! > 0)
    }

    @Test(arguments: [
        "", " ", "soon", "-5", "1.5", "5s", "0x10",
        "Sun, 32 Nov 1994 08:49:37 GMT",   // no 32nd
        "Sun, 06 Foo 1994 08:49:37 GMT",   // no such month
        "Sun, 06 Nov 1994 25:49:37 GMT",   // no 25th hour
        "Sun, 06 Nov 1994 08:49 GMT",      // no seconds
        "Sun, 06 Nov 1969 08:49:37 GMT",   // before the epoch
        "Sunday, 06-Nov GMT 08:49:37",     // RFC 850 cut short
        "Sun Nov 6 08:49:37",              // asctime without a year
        "08:49:37",
    ])
    func garbageIsNil(value: String) {
        #expect(RetryAfter.milliseconds(value, nowEpochSeconds: Self.rfcExample) == nil)
    }

    @Test func responseHeadUsesIt() {
        var head = HTTPResponseHead()
        #expect(head.retryAfterMs == 0)
        head.retryAfter = "3"
        #expect(head.retryAfterMs == 3_000)
        head.retryAfter = "whenever"
        #expect(head.retryAfterMs == 0)
    }

    // MARK: - Hostile values (issue 12): nil or a bounded delay, never a trap

    @Test(arguments: [
        "Sun, 06 Nov 99999999999 08:49:37 GMT", "Sun, 06 Nov 1000000000 08:49:37 GMT",
        "Sun, 06 Nov 1994 -99999999999:49:37 GMT", "Sun, 06 Nov 1994 99999999999:49:37 GMT",
        "Sun, 06 Nov 1994 08:99999999999:37 GMT", "Sun, 06 Nov 1994 08:49:99999999999 GMT",
        "Sun, 99999999999 Nov 1994 08:49:37 GMT", "Sun, -6 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-99999999999 08:49:37 GMT", "Sunday, 06-Nov-94 -99999999999:49:37 GMT",
        "Sunday, 99999999999-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 99999999999", "Sun Nov  6 -99999999999:49:37 1994", "Sun Nov 99999999999 08:49:37 1994",
        "Sun, 06 Nov 0000 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT junk",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun,  06 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
    ])
    func outOfRangeDatesAreNil(value: String) {
        #expect(RetryAfter.epochSeconds(httpDate: value) == nil)
        #expect(RetryAfter.milliseconds(value, nowEpochSeconds: Self.rfcExample) == nil)
    }

    @Test func extremeClocksSaturate() {
        let date = "Fri, 31 Dec 9999 23:59:59 GMT"
        #expect(RetryAfter.epochSeconds(httpDate: date) == 253_402_300_799)
        #expect(RetryAfter.milliseconds(date, nowEpochSeconds: .min) == RetryAfter.maxMilliseconds)
        #expect(RetryAfter.milliseconds(date, nowEpochSeconds: .max) == 0)
        #expect(RetryAfter.milliseconds("Thu, 01 Jan 1970 00:00:00 GMT", nowEpochSeconds: .min) == RetryAfter.maxMilliseconds)
        #expect(RetryAfter.epochSeconds(httpDate: "Thu, 01 Jan 1970 00:00:00 GMT") == 0)
    }

    @Test(arguments: ["9223372036854775807", "9223372036854775808", "31536000", "31536001", "000000000000000000000000031536001",
                      String(repeating: "9", count: 10_000)])
    func hugeDeltasSaturate(value: String) {
        #expect(RetryAfter.milliseconds(value, nowEpochSeconds: 0) == RetryAfter.maxMilliseconds)
    }

    @Test func leapYearsAndLeapSecond() {
        #expect(RetryAfter.epochSeconds(httpDate: "Tue, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
        #expect(RetryAfter.epochSeconds(httpDate: "Thu, 29 Feb 2024 12:00:00 GMT") == 1_709_208_000)
        #expect(RetryAfter.epochSeconds(httpDate: "Sat, 31 Dec 2016 23:59:60 GMT") == 1_483_228_800)
        #expect(RetryAfter.epochSeconds(httpDate: "Wed, 21 Oct 2015 07:28:00 GMT") == 1_445_412_480)
    }

    /// days_from_civil against a plain day-by-day count, for every day of 1970...2400.
    @Test func daysFromCivilMatchesCounting() {
        var days = 0
        for year in 1970...2400 {
            for month in 1...12 {
                for day in 1...HTTPDate.daysIn(month: month, year: year) {
                    if HTTPDate.daysFromCivil(year: year, month: month, day: day) != days {
                        Issue.record("\(year)-\(month)-\(day)")
                        return
                    }
                    days += 1
                }
            }
        }
    }

    /// Seeded fuzz: dates built from extreme and random field values, mutated
    /// bytes and random text never trap, and any date read is within 1970...9999.
    @Test func fuzzExtremeFields() {
        var rng = SplitMix64(state: 0x5EED_DA7E)
        let numbers = ["0", "00", "-1", "99", "9999", "10000", "99999999999", "-99999999999", "9223372036854775807",
                       "18446744073709551616", "1994", "06", "6", " 6", "60", "61", "24", "23", "59", "+1", "1e9", ""]
        let names = ["Sun", "Sunday", "sun", "SUN", "Xyz", "", "Nov", "nov", "NOV", "Foo", "GMT", "gmt"]
        let seps = [" ", ", ", ",", "-", ":", "  ", "\t", ""]
        for _ in 0..<20_000 {
            var text = ""
            switch rng.below(4) {
            case 0:
                text = "\(rng.pick(names)), \(rng.pick(numbers)) \(rng.pick(names)) \(rng.pick(numbers)) "
                    + "\(rng.pick(numbers)):\(rng.pick(numbers)):\(rng.pick(numbers)) \(rng.pick(names))"
            case 1:
                text = "\(rng.pick(names)), \(rng.pick(numbers))-\(rng.pick(names))-\(rng.pick(numbers)) "
                    + "\(rng.pick(numbers)):\(rng.pick(numbers)):\(rng.pick(numbers)) GMT"
            case 2:
                text = "\(rng.pick(names)) \(rng.pick(names)) \(rng.pick(numbers)) "
                    + "\(rng.pick(numbers)):\(rng.pick(numbers)):\(rng.pick(numbers)) \(rng.pick(numbers))"
            default:
                for _ in 0..<rng.below(12) { text += rng.chance(50) ? rng.pick(numbers) : rng.pick(names) + rng.pick(seps) }
            }
            if rng.chance(20) {
                var bytes = Array(text.utf8)
                if !bytes.isEmpty { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
                text = String(decoding: bytes, as: UTF8.self)
            }
            if let seconds = RetryAfter.epochSeconds(httpDate: text) {
                #expect(seconds >= 0 && seconds <= 253_402_300_799, "\(text)")
            }
            let now = rng.chance(10) ? Int64(bitPattern: rng.next()) : Self.rfcExample
            if let ms = RetryAfter.milliseconds(text, nowEpochSeconds: now) {
                #expect(ms >= 0 && ms <= RetryAfter.maxMilliseconds, "\(text)")
            }
        }
    }
}
