import Testing
@testable import Models

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
}
