// SPDX-License-Identifier: Apache-2.0

/// The HTTP-date of RFC 9110 §5.6.7, read strictly: the preferred IMF-fixdate
/// `Sun, 06 Nov 1994 08:49:37 GMT` and the obsolete RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`
/// forms, each with its fixed field widths (names are matched without regard
/// to case). Anything else, and any field out of range (day 31 of a 30-day
/// month, hour 24, a year before 1970), is nil.
///
/// Every field has at most four digits, so no arithmetic here can overflow
/// whatever a server sends; the date is computed without `timegm`.
enum HTTPDate {
    /// Seconds since the Unix epoch, or nil when `bytes` is not an HTTP-date.
    static func epochSeconds(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var c = DateCursor(bytes: bytes)
        let date: Fields
        let name = c.letters()
        if c.take(UInt8(ascii: ",")) {
            guard c.take(UInt8(ascii: " ")), let day = c.digits(2) else { return nil }
            if c.take(UInt8(ascii: " ")) {
                // IMF-fixdate: day-name "," SP 2DIGIT SP month SP 4DIGIT SP time SP "GMT"
                guard dayIndex(short: name) != nil, let month = c.month(), c.take(UInt8(ascii: " ")),
                      let year = c.digits(4), c.take(UInt8(ascii: " ")), let time = c.time(),
                      c.take(UInt8(ascii: " ")), c.gmt() else { return nil }
                date = Fields(year: year, month: month, day: day, time: time)
            } else {
                // RFC 850: day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time SP "GMT"
                guard c.take(UInt8(ascii: "-")), dayIndex(long: name) != nil, let month = c.month(),
                      c.take(UInt8(ascii: "-")), let yy = c.digits(2), c.take(UInt8(ascii: " ")),
                      let time = c.time(), c.take(UInt8(ascii: " ")), c.gmt() else { return nil }
                // Two-digit years below 70 are in the 2000s (the window of RFC 9110 would
                // put them within 50 years of now; this fixed one needs no clock).
                date = Fields(year: yy < 70 ? 2000 + yy : 1900 + yy, month: month, day: day, time: time)
            }
        } else {
            // asctime: day-name SP month SP ( 2DIGIT / ( SP 1DIGIT ) ) SP time SP 4DIGIT
            guard dayIndex(short: name) != nil, c.take(UInt8(ascii: " ")), let month = c.month(),
                  c.take(UInt8(ascii: " ")) else { return nil }
            let day: Int
            if c.take(UInt8(ascii: " ")) {
                guard let d = c.digits(1) else { return nil }
                day = d
            } else {
                guard let d = c.digits(2) else { return nil }
                day = d
            }
            guard c.take(UInt8(ascii: " ")), let time = c.time(), c.take(UInt8(ascii: " ")),
                  let year = c.digits(4) else { return nil }
            date = Fields(year: year, month: month, day: day, time: time)
        }
        guard c.atEnd else { return nil }
        return date.epochSeconds
    }

    /// The fields of a date, each read from at most four digits.
    struct Fields {
        var year: Int
        /// 1...12
        var month: Int
        var day: Int
        var time: (hour: Int, minute: Int, second: Int)

        /// Seconds since the epoch; nil when a field is out of range. A leap
        /// second (:60) is accepted, as RFC 9110 allows it.
        var epochSeconds: Int64? {
            guard (1970...9999).contains(year), (1...12).contains(month),
                  (1...HTTPDate.daysIn(month: month, year: year)).contains(day),
                  (0...23).contains(time.hour), (0...59).contains(time.minute), (0...60).contains(time.second)
            else { return nil }
            let days = Int64(HTTPDate.daysFromCivil(year: year, month: month, day: day))
            return days * 86_400 + Int64(time.hour * 3_600 + time.minute * 60 + time.second)
        }
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date (negative
    /// before it). Howard Hinnant's `days_from_civil`: exact for any year whose
    /// day count fits an Int, so for every year this parser can read.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400                                   // 0...399
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1    // 0...365, from March 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static let shortDays: [StaticString] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let longDays: [StaticString] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    static let months: [StaticString] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func dayIndex(short name: UnsafeBufferPointer<UInt8>) -> Int? { index(of: name, in: shortDays) }
    private static func dayIndex(long name: UnsafeBufferPointer<UInt8>) -> Int? { index(of: name, in: longDays) }

    /// The position of `name` (ASCII letters, any case) in `names` (lower case).
    static func index(of name: UnsafeBufferPointer<UInt8>, in names: [StaticString]) -> Int? {
        for (i, candidate) in names.enumerated() where candidate.utf8CodeUnitCount == name.count {
            var j = 0
            while j < name.count, name[j] | 0x20 == candidate.utf8Start[j] { j += 1 }
            if j == name.count { return i }
        }
        return nil
    }
}

/// A position in the bytes of a date; each step consumes only on success.
private struct DateCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    var atEnd: Bool { i == bytes.count }

    mutating func take(_ byte: UInt8) -> Bool {
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    /// The run of ASCII letters at the cursor (possibly empty).
    mutating func letters() -> UnsafeBufferPointer<UInt8> {
        let start = i
        while i < bytes.count, (bytes[i] | 0x20) >= UInt8(ascii: "a"), (bytes[i] | 0x20) <= UInt8(ascii: "z") { i += 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<i])
    }

    /// Exactly `count` digits (at most 4, so the value is at most 9999).
    mutating func digits(_ count: Int) -> Int? {
        guard i + count <= bytes.count else { return nil }
        var value = 0
        for k in i..<(i + count) {
            let d = bytes[k] &- UInt8(ascii: "0")
            guard d <= 9 else { return nil }
            value = value * 10 + Int(d)
        }
        i += count
        return value
    }

    /// A three-letter month name: 1...12.
    mutating func month() -> Int? {
        guard i + 3 <= bytes.count,
              let index = HTTPDate.index(of: UnsafeBufferPointer(rebasing: bytes[i..<(i + 3)]), in: HTTPDate.months)
        else { return nil }
        i += 3
        return index + 1
    }

    /// `2DIGIT ":" 2DIGIT ":" 2DIGIT` (ranges are checked later).
    mutating func time() -> (hour: Int, minute: Int, second: Int)? {
        guard let h = digits(2), take(UInt8(ascii: ":")), let m = digits(2), take(UInt8(ascii: ":")),
              let s = digits(2) else { return nil }
        return (h, m, s)
    }

    mutating func gmt() -> Bool {
        guard i + 3 <= bytes.count, bytes[i] | 0x20 == UInt8(ascii: "g"), bytes[i + 1] | 0x20 == UInt8(ascii: "m"),
              bytes[i + 2] | 0x20 == UInt8(ascii: "t") else { return false }
        i += 3
        return true
    }
}
