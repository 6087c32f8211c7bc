import Glibc

/// Parses an HTTP `Retry-After` value: delta-seconds ("120") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms).
public enum RetryAfter {
    /// Milliseconds to wait, or nil when the value is neither form. A date in the
    /// past gives 0. `nowEpochSeconds` is the current time (injected for tests).
    public static func milliseconds(_ value: String, nowEpochSeconds: Int64) -> Int64? {
        let text = value.trimmingSpaces
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard text.utf8.count <= 9, let seconds = Int64(text) else { return 365 * 86_400_000 }
            return seconds * 1000
        }
        guard let date = epochSeconds(httpDate: text) else { return nil }
        return max(0, date - nowEpochSeconds) * 1000
    }

    public static func milliseconds(_ value: String) -> Int64? {
        milliseconds(value, nowEpochSeconds: Int64(time(nil)))
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since the epoch for the three HTTP-date forms of RFC 9110:
    /// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`
    /// and asctime `Sun Nov  6 08:49:37 1994`.
    static func epochSeconds(httpDate text: String) -> Int64? {
        let tokens = text.lowercased().split(separator: " ").map(String.init)
        guard tokens.count >= 4, let time = tokens.first(where: { $0.contains(":") }) else { return nil }
        let hms = time.split(separator: ":").compactMap { Int($0) }
        var dayText: String, monthText: String, yearText: String
        if tokens[1].contains("-") {                       // RFC 850
            let parts = tokens[1].split(separator: "-").map(String.init)
            guard parts.count == 3 else { return nil }
            (dayText, monthText, yearText) = (parts[0], parts[1], parts[2])
        } else if Int(tokens[1]) != nil {                  // IMF-fixdate
            (dayText, monthText, yearText) = (tokens[1], tokens[2], tokens[3])
        } else {                                           // asctime
            guard tokens.count >= 5 else { return nil }
            (dayText, monthText, yearText) = (tokens[2], tokens[1], tokens[4])
        }
        guard hms.count == 3, let day = Int(dayText), let month = months.firstIndex(of: monthText),
              var year = Int(yearText) else { return nil }
        if yearText.count == 2 { year += year < 70 ? 2000 : 1900 }
        guard (1...31).contains(day), year >= 1970, hms[0] < 24, hms[1] < 60, hms[2] < 61 else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900); t.tm_mon = Int32(month); t.tm_mday = Int32(day)
        t.tm_hour = Int32(hms[0]); t.tm_min = Int32(hms[1]); t.tm_sec = Int32(hms[2])
        return Int64(timegm(&t))
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        // "\r\n" is one Character in Swift, equal to neither "\r" nor "\n": header lines end with it.
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" || f == "\r\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" || l == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}
